import { createRequire } from 'node:module';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { OcrError } from './errors.ts';
import type { MediaType } from './media.ts';

const require = createRequire(import.meta.url);
// utif2 is CommonJS
const UTIF = require('utif2') as {
  decode(buf: ArrayBuffer | Uint8Array): Array<Record<string, unknown> & { width: number; height: number }>;
  decodeImage(buf: ArrayBuffer | Uint8Array, ifd: unknown, ifds?: unknown): void;
  toRGBA8(ifd: unknown): Uint8Array;
};

/** An 8-bit greyscale (luminance) image: the one pixel format OCR and QR decoding both use. */
export interface GreyImage {
  width: number;
  height: number;
  data: Uint8Array; // width*height bytes
}

/** Whether this CPU stores the low byte of a word first (x86-64 and arm64 do): RGBA words then read as 0xAABBGGRR. */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * RGBA → 8-bit grey: ITU-R BT.601 luma with integer weights; transparent pixels become white (paper).
 * Each pixel is read as one 32-bit word and its channels taken from it by shifts: four byte reads
 * per pixel took 45–85 ms per 300-dpi A4 page, about a quarter of the page's rendering CPU
 * (--cpu-prof on TAMReview pages); one word read takes about 60 % of that on a scanned page. The
 * output starts white: blank rows are found by a native comparison with a white row and skipped
 * whole (a text page rendered at 300 dpi is 94 % white pixels; the JavaScript loop costs about 4 ns
 * a pixel on the benchmark's VM even when it only tests for white), and within other rows opaque
 * white words (all bits set) are skipped. Unaligned buffers (or a big-endian CPU) take the
 * byte-by-byte path.
 */
export function rgbaToGrey(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): GreyImage {
  const n = width * height;
  const data = new Uint8Array(n).fill(255);
  if (LITTLE_ENDIAN && rgba.byteOffset % 4 === 0) {
    const words = new Int32Array(rgba.buffer, rgba.byteOffset, n);
    const bytes = new Uint8Array(rgba.buffer, rgba.byteOffset, n * 4);
    const white = new Uint8Array(width * 4).fill(255);
    for (let y = 0; y < height; y++) {
      // a blank row (margins, line spacing: half or more of a text page) is compared natively and skipped
      const start = y * width;
      if (Buffer.compare(bytes.subarray(start * 4, (start + width) * 4), white) === 0) continue;
      for (let i = start, end = start + width; i < end; i++) {
        const w = words[i];
        if (w === -1) continue;
        const grey = ((w & 255) * 77 + ((w >>> 8) & 255) * 150 + ((w >>> 16) & 255) * 29) >> 8;
        const a = w >>> 24;
        data[i] = a === 255 ? grey : ((grey * a + 255 * (255 - a)) / 255) | 0;
      }
    }
    return { width, height, data };
  }
  for (let i = 0; i < n; i++) {
    const j = i * 4;
    const a = rgba[j + 3];
    const y = (rgba[j] * 77 + rgba[j + 1] * 150 + rgba[j + 2] * 29) >> 8;
    data[i] = a === 255 ? y : ((y * a + 255 * (255 - a)) / 255) | 0;
  }
  return { width, height, data };
}

/** The header of a binary PGM (P5) of this image; the pixels follow it as they are. */
export function pgmHeader(img: GreyImage): Buffer {
  return Buffer.from(`P5\n${img.width} ${img.height}\n255\n`, 'latin1');
}

/** Binary PGM (P5): a plain greyscale file (the tests' generated scans are written as PGM). */
export function toPGM(img: GreyImage): Buffer {
  return Buffer.concat([pgmHeader(img), Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)]);
}

/**
 * The header of an uncompressed baseline TIFF of this image (8-bit grey, one strip, little-endian);
 * the pixels follow it as they are. This is the page file both OCR backends read:
 * - Leptonica reads it faster than PGM, whose reader goes pixel by pixel: a blank 300-dpi A4 page
 *   cost native Tesseract 0.45-0.53 s as PGM, 0.28-0.37 s as this TIFF (0.32-0.44 s as PNG), about
 *   5 % of an A4 page's OCR; tesseract.js 520 ms against 480 ms.
 * - It carries the resolution (`dpi`, when known), so one warm tesseract process serves pages of
 *   any DPI (native-tesseract.ts); tesseract reads the same text as with `--dpi` (tested).
 */
export function tiffHeader(img: GreyImage, dpi?: number): Buffer {
  const SHORT = 3, LONG = 4, RATIONAL = 5;
  // [tag, type, value]: TIFF 6.0 baseline fields, in ascending tag order as the format requires
  const fields: Array<[number, number, number]> = [
    [256, LONG, img.width], // ImageWidth
    [257, LONG, img.height], // ImageLength
    [258, SHORT, 8], // BitsPerSample
    [259, SHORT, 1], // Compression: none
    [262, SHORT, 1], // PhotometricInterpretation: BlackIsZero
    [273, LONG, 0], // StripOffsets (set below)
    [277, SHORT, 1], // SamplesPerPixel
    [278, LONG, img.height], // RowsPerStrip: the whole image in one strip
    [279, LONG, img.width * img.height], // StripByteCounts
  ];
  const res = dpi && dpi > 0 ? Math.round(dpi) : 0;
  if (res) fields.push([282, RATIONAL, 0], [283, RATIONAL, 0], [296, SHORT, 2]); // X/YResolution, ResolutionUnit: inch
  const ifdEnd = 8 + 2 + fields.length * 12 + 4;
  const pixels = ifdEnd + (res ? 16 : 0); // the two resolutions (rationals) sit between the IFD and the pixels
  const b = Buffer.alloc(pixels);
  b.write('II', 0, 'latin1');
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4); // the one IFD right after the header
  b.writeUInt16LE(fields.length, 8);
  fields.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    if (tag === 273) value = pixels;
    if (tag === 282) value = ifdEnd;
    if (tag === 283) value = ifdEnd + 8;
    b.writeUInt16LE(tag, at);
    b.writeUInt16LE(type, at + 2);
    b.writeUInt32LE(1, at + 4); // count
    if (type === SHORT) b.writeUInt16LE(value, at + 8);
    else b.writeUInt32LE(value, at + 8);
  });
  // the next-IFD offset after the fields stays 0: one image
  if (res) {
    for (const at of [ifdEnd, ifdEnd + 8]) { b.writeUInt32LE(res, at); b.writeUInt32LE(1, at + 4); }
  }
  return b;
}

/** The image as an uncompressed TIFF (see tiffHeader), header and pixels in one buffer. */
export function toTIFF(img: GreyImage, dpi?: number): Buffer {
  return Buffer.concat([tiffHeader(img, dpi), Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)]);
}

/**
 * Pixels as shown from pixels as stored under an Orientation value (TIFF 6.0, tag 274; EXIF uses the
 * same values): 1 as stored; 2 mirrored; 3 turned 180 degrees; 4 flipped; 5 transposed; 6 turned 90
 * degrees clockwise; 7 transversed; 8 turned 90 degrees counter-clockwise. The spec names, for each,
 * the visual sides the stored 0th row and 0th column are on; every value maps a shown pixel (x, y) to
 * the stored index `origin + x * alongRow + y * alongColumn`, so one loop serves all eight. Works on
 * one-byte (grey) and four-byte (RGBA, as Uint32Array) pixels alike.
 */
export function orientPixels<T extends Uint8Array | Uint32Array>(data: T, width: number, height: number, orientation: number): { data: T; width: number; height: number } {
  const w = width, h = height, last = w * h - 1;
  // [origin, step along a shown row, step along a shown column]
  const steps: Readonly<Record<number, readonly [number, number, number]>> = {
    2: [w - 1, -1, w], 3: [last, -1, -w], 4: [(h - 1) * w, 1, -w],
    5: [0, w, 1], 6: [(h - 1) * w, -w, 1], 7: [last, -w, -1], 8: [w - 1, w, -1],
  };
  const step = steps[orientation];
  if (!step) return { data, width, height };
  const [origin, alongRow, alongColumn] = step;
  const [sw, sh] = orientation >= 5 ? [h, w] : [w, h];
  const out = new (data.constructor as new (n: number) => T)(w * h);
  for (let y = 0, o = 0; y < sh; y++) {
    for (let x = 0, i = origin + y * alongColumn; x < sw; x++, i += alongRow) out[o++] = data[i];
  }
  return { data: out, width: sw, height: sh };
}

/** Rotates clockwise by 90, 180 or 270 degrees. */
export function rotateGrey(img: GreyImage, degrees: number): GreyImage {
  const d = ((degrees % 360) + 360) % 360;
  const orientation = ({ 90: 6, 180: 3, 270: 8 } as Record<number, number>)[d];
  return orientation === undefined ? img : orientPixels(img.data, img.width, img.height, orientation);
}

/** A TIFF frame's Orientation tag (274), 1 when it has none or an invalid one. */
export function tiffOrientation(ifd: Record<string, unknown>): number {
  const v = Number((ifd.t274 as number[] | undefined)?.[0] ?? 1);
  return Number.isInteger(v) && v >= 1 && v <= 8 ? v : 1;
}

/** Box-filter downscale by an integer factor (fast, good for detection passes). */
export function downscaleGrey(img: GreyImage, factor: number): GreyImage {
  const f = Math.max(1, Math.floor(factor));
  if (f === 1) return img;
  const w = Math.floor(img.width / f), h = Math.floor(img.height / f);
  const out = new Uint8Array(w * h);
  if (f === 2) {
    // the common case (QR search on every OCR page), about 8x faster than the general loop below
    const src = img.data, sw = img.width;
    for (let y = 0; y < h; y++) {
      let a = 2 * y * sw, b = a + sw, o = y * w;
      for (let x = 0; x < w; x++, a += 2, b += 2) out[o++] = (src[a] + src[a + 1] + src[b] + src[b + 1]) >> 2;
    }
    return { width: w, height: h, data: out };
  }
  const area = f * f;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let dy = 0; dy < f; dy++) {
        const row = (y * f + dy) * img.width + x * f;
        for (let dx = 0; dx < f; dx++) s += img.data[row + dx];
      }
      out[y * w + x] = (s / area) | 0;
    }
  }
  return { width: w, height: h, data: out };
}

/** Bilinear resize to an arbitrary size (used to enlarge small QR codes). */
export function resizeGrey(img: GreyImage, width: number, height: number): GreyImage {
  const out = new Uint8Array(width * height);
  const sx = img.width / width, sy = img.height / height;
  for (let y = 0; y < height; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(img.height - 1, Math.floor(fy)), y1 = Math.min(img.height - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < width; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(img.width - 1, Math.floor(fx)), x1 = Math.min(img.width - 1, x0 + 1), wx = fx - x0;
      const a = img.data[y0 * img.width + x0], b = img.data[y0 * img.width + x1];
      const c = img.data[y1 * img.width + x0], d = img.data[y1 * img.width + x1];
      out[y * width + x] = (a * (1 - wx) * (1 - wy) + b * wx * (1 - wy) + c * (1 - wx) * wy + d * wx * wy + 0.5) | 0;
    }
  }
  return { width, height, data: out };
}

/** Binary PGM (P5) or PPM (P6), 8 bits: to greyscale (image documents, and Poppler's rendered pages). */
export function decodePNM(bytes: Uint8Array): GreyImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tokens: string[] = [];
  let i = 2;
  while (tokens.length < 3 && i < buf.length) {
    while (i < buf.length && /\s/.test(String.fromCharCode(buf[i]))) i++;
    if (buf[i] === 0x23) { while (i < buf.length && buf[i] !== 0x0a) i++; continue; }
    let t = '';
    while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i]))) t += String.fromCharCode(buf[i++]);
    tokens.push(t);
  }
  i++;
  const kind = buf[1] - 0x30;
  const [w, h, max] = tokens.map(Number);
  if (!(w > 0 && h > 0) || max !== 255 || (kind !== 5 && kind !== 6)) {
    throw new OcrError('INVALID_IMAGE', 'Only 8-bit binary PGM (P5) and PPM (P6) are supported.');
  }
  const n = w * h;
  if (kind === 5) {
    if (buf.length < i + n) throw new OcrError('INVALID_IMAGE', 'Truncated PGM image.');
    return { width: w, height: h, data: new Uint8Array(buf.subarray(i, i + n)) };
  }
  if (buf.length < i + 3 * n) throw new OcrError('INVALID_IMAGE', 'Truncated PPM image.');
  const data = new Uint8Array(n);
  for (let p = 0, j = i; p < n; p++, j += 3) data[p] = (buf[j] * 77 + buf[j + 1] * 150 + buf[j + 2] * 29) >> 8;
  return { width: w, height: h, data };
}

/** Counts frames without decoding pixel data (TIFF pages; other formats: 1). */
export function countImageFrames(bytes: Uint8Array, mediaType: MediaType): number {
  if (mediaType !== 'image/tiff') return 1;
  try {
    return UTIF.decode(bytes).filter((ifd) => ifd.t256 !== undefined).length || 1;
  } catch (err) {
    throw new OcrError('INVALID_IMAGE', `Cannot read TIFF: ${(err as Error).message}`);
  }
}

/**
 * Decodes one frame (pageIndex zero-based; TIFF only has several) into greyscale.
 * maxPixels bounds the size of a frame before its pixels are allocated.
 */
export async function decodeImageFrame(bytes: Uint8Array, mediaType: MediaType, pageIndex: number, maxPixels: number): Promise<GreyImage> {
  if (mediaType === 'image/x-portable-anymap') return decodePNM(bytes);
  if (mediaType === 'image/tiff') {
    let ifds;
    try {
      ifds = UTIF.decode(bytes).filter((ifd) => ifd.t256 !== undefined);
    } catch (err) {
      throw new OcrError('INVALID_IMAGE', `Cannot read TIFF: ${(err as Error).message}`);
    }
    const ifd = ifds[pageIndex];
    if (!ifd) throw new OcrError('PAGE_FAILED', `TIFF has no page ${pageIndex + 1}.`);
    const w = Number((ifd.t256 as number[])[0]), h = Number((ifd.t257 as number[])[0]);
    if (w * h > maxPixels) throw new OcrError('RESOURCE_LIMIT', `TIFF page ${pageIndex + 1} is ${w}x${h} px, above the ${maxPixels} pixel limit.`);
    try {
      UTIF.decodeImage(bytes, ifd, ifds);
      const grey = rgbaToGrey(UTIF.toRGBA8(ifd), ifd.width, ifd.height);
      // the frame as a viewer shows it, so that word boxes refer to the page as the user sees it
      return orientPixels(grey.data, grey.width, grey.height, tiffOrientation(ifd));
    } catch (err) {
      throw new OcrError('INVALID_IMAGE', `Cannot decode TIFF page ${pageIndex + 1}: ${(err as Error).message}`);
    }
  }
  // refuse decompression bombs from their header, before any pixel is allocated
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let hw = 0, hh = 0;
  if (mediaType === 'image/png' && b.length >= 24) { hw = b.readUInt32BE(16); hh = b.readUInt32BE(20); }
  else if (mediaType === 'image/gif' && b.length >= 10) { hw = b.readUInt16LE(6); hh = b.readUInt16LE(8); }
  else if (mediaType === 'image/bmp' && b.length >= 26) { hw = Math.abs(b.readInt32LE(18)); hh = Math.abs(b.readInt32LE(22)); }
  if (hw * hh > maxPixels) throw new OcrError('RESOURCE_LIMIT', `Image is ${hw}x${hh} px, above the ${maxPixels} pixel limit.`);
  let image;
  try {
    image = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (err) {
    throw new OcrError('INVALID_IMAGE', `Cannot decode ${mediaType}: ${(err as Error).message}`);
  }
  const w = image.width, h = image.height;
  if (!(w > 0 && h > 0)) throw new OcrError('INVALID_IMAGE', `Cannot decode ${mediaType}: no pixels.`);
  if (w * h > maxPixels) throw new OcrError('RESOURCE_LIMIT', `Image is ${w}x${h} px, above the ${maxPixels} pixel limit.`);
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  ctx.drawImage(image, 0, 0);
  const rgba = ctx.getImageData(0, 0, w, h).data;
  return rgbaToGrey(rgba, w, h);
}
