import { createRequire } from 'node:module';
import type { GreyImage } from './image.ts';
import { downscaleGrey, resizeGrey } from './image.ts';
import { finderCandidates } from './finder-screen.ts';
import { HYBRID_MIN_DIMENSION, hybridBinarize, type Bitmap } from './binarize.ts';
import { DEBUG_ENV } from './contract.ts';

const require = createRequire(import.meta.url);
const ZX = require('@zxing/library');
const jsQR = require('jsqr') as (data: Uint8ClampedArray, w: number, h: number, o?: { inversionAttempts?: string }) =>
  { data: string; binaryData: number[]; location: Record<string, { x: number; y: number }> } | null;

export interface BarcodeHit {
  text: string;
  format: string; // e.g. QR_CODE
  decoder: string; // which attempt found it (diagnostics)
}

export interface BarcodeOptions {
  /** ZXing BarcodeFormat names; default ['QR_CODE']. */
  formats?: string[];
  /** Most symbols looked for on one image (each found symbol is masked and the search repeated). */
  maxCodes?: number;
  /**
   * Large images, QR codes only: look for finder-pattern candidates first and search no further when
   * there are none (see `finderCandidates`). Default true; false runs every attempt (for comparison).
   */
  screen?: boolean;
}

interface Attempt { name: string; run: (img: GreyImage) => Found | null }
interface Found { text: string; format: string; box: [number, number, number, number] | null }

function hintsFor(formats: string[], tryHarder: boolean): Map<unknown, unknown> {
  const hints = new Map<unknown, unknown>();
  hints.set(ZX.DecodeHintType.POSSIBLE_FORMATS, formats.map((f) => ZX.BarcodeFormat[f]).filter((f) => f !== undefined));
  if (tryHarder) hints.set(ZX.DecodeHintType.TRY_HARDER, true);
  return hints;
}

function boxOf(points: Array<{ x: number; y: number }>, scale: number): [number, number, number, number] | null {
  if (!points || points.length === 0) return null;
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const p of points) { x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y); x1 = Math.max(x1, p.x); y1 = Math.max(y1, p.y); }
  return [x0 * scale, y0 * scale, x1 * scale, y1 * scale];
}

/** One ZXing reader per requested format (MultiFormatReader would try every format and log noise). */
function readersFor(formats: string[]): Array<{ decode(b: unknown, h?: Map<unknown, unknown>): any; reset(): void }> {
  const readers: any[] = [];
  let oneD = false;
  for (const f of formats) {
    if (f === 'QR_CODE') readers.push(new ZX.QRCodeReader());
    else if (f === 'DATA_MATRIX') readers.push(new ZX.DataMatrixReader());
    else if (f === 'AZTEC') readers.push(new ZX.AztecCodeReader());
    else if (f === 'PDF_417') readers.push(new ZX.PDF417Reader());
    else if (!oneD) { oneD = true; readers.push(new ZX.MultiFormatOneDReader(hintsFor(formats, true))); }
  }
  return readers;
}

/** Tries each reader on one binarised bitmap. */
function decodeBitmap(readers: ReturnType<typeof readersFor>, hints: Map<unknown, unknown>, bitmap: unknown, scale: number): Found | null {
  for (const reader of readers) {
    try {
      const r = reader.decode(bitmap, hints);
      return {
        text: r.getText(),
        format: ZX.BarcodeFormat[r.getBarcodeFormat()],
        box: boxOf(r.getResultPoints().map((p: { getX(): number; getY(): number }) => ({ x: p.getX(), y: p.getY() })), scale),
      };
    } catch {
      // not found with this reader
    } finally {
      reader.reset();
    }
  }
  return null;
}

function luminanceSource(img: GreyImage): any {
  return new ZX.RGBLuminanceSource(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
}

function zxingAttempt(formats: string[], binarizer: 'hybrid' | 'global', invert: boolean): (img: GreyImage, scale?: number) => Found | null {
  const readers = readersFor(formats);
  const hints = hintsFor(formats, true);
  return (img: GreyImage, scale = 1) => {
    let source = luminanceSource(img);
    if (invert) source = new ZX.InvertedLuminanceSource(source);
    return decodeBitmap(readers, hints, new ZX.BinaryBitmap(binarizer === 'hybrid' ? new ZX.HybridBinarizer(source) : new ZX.GlobalHistogramBinarizer(source)), scale);
  };
}

/** Hands ZXing a bitmap binarised beforehand (the screen and the decoding attempts share them). */
const BinarizerBase: new (source: unknown) => object = ZX.Binarizer;
class PrecomputedBinarizer extends BinarizerBase {
  private readonly matrix: any;
  constructor(source: unknown, matrix: any) { super(source); this.matrix = matrix; }
  getBlackMatrix(): any { return this.matrix; }
  getBlackRow(y: number, row: unknown): any { return this.matrix.getRow(y, row); }
  createBinarizer(): never { throw new Error('PrecomputedBinarizer cannot binarise another source'); }
}

/** ZXing's BitMatrix as a plain bitmap (ZXing keeps its words in a field its typings mark private). */
function bitmapOf(matrix: any): Bitmap {
  return { width: matrix.getWidth(), height: matrix.getHeight(), rowSize: matrix.getRowSize(), bits: matrix.bits };
}

/**
 * One image's binarisations (ZXing's, or bit-identical to ZXing's: binarize.ts), each computed once
 * on first use: the screen looks at them, and the screened search's attempts decode from them.
 */
class Binarisations {
  readonly img: GreyImage;
  private cache = new Map<string, any>();
  constructor(img: GreyImage) { this.img = img; }
  private get<T>(key: string, make: () => T): T | null {
    if (!this.cache.has(key)) {
      let value: T | null = null;
      // ZXing's global binarizer throws when the image's histogram has no two distinct peaks
      try { value = make(); } catch { value = null; }
      this.cache.set(key, value);
    }
    return this.cache.get(key);
  }
  /** Both hybrid binarisations; the screened search runs only on images both of whose sides reach HYBRID_MIN_DIMENSION. */
  private hybridBoth(): { image: Bitmap; negative: Bitmap } {
    return this.get('hybrid', () => hybridBinarize(this.img))!;
  }
  hybrid(): Bitmap { return this.hybridBoth().image; }
  /** The hybrid binarisation of the negative image (255 - v, as ZXing's InvertedLuminanceSource reads it). */
  hybridInverted(): Bitmap { return this.hybridBoth().negative; }
  global(): Bitmap | null { return this.get('global', () => bitmapOf(new ZX.GlobalHistogramBinarizer(luminanceSource(this.img)).getBlackMatrix())); }
  half(): GreyImage | null { return this.get('half-image', () => Math.max(this.img.width, this.img.height) < HALF_SIZE_MIN_SIDE ? null : downscaleGrey(this.img, 2)); }
  halfHybrid(): Bitmap | null {
    return this.get('half-hybrid', () => { const h = this.half(); return h ? (hybridBinarize(h)?.image ?? null) : null; });
  }
  normalised(): GreyImage | null { return this.get('normalised-image', () => normalise(this.img)); }
  normalisedGlobal(): Bitmap | null {
    return this.get('normalised-global', () => { const n = this.normalised(); return n ? bitmapOf(new ZX.GlobalHistogramBinarizer(luminanceSource(n)).getBlackMatrix()) : null; });
  }
}

/**
 * Whether the screened search should run at all: a finder-pattern candidate, of either colour, in one
 * of the bitmaps its attempts decode from (see finder-screen.ts). The normalised attempt's own bitmap
 * is looked at only when the plain global binarisation fails (a page without two distinct grey
 * peaks, where stretching the contrast is what lets it binarise); otherwise its threshold is the
 * plain one's up to the histogram's 32-bucket rounding, and the plain bitmap stands for it.
 */
function mayHoldQrCode(b: Binarisations): boolean {
  const bitmaps = [() => b.hybrid(), () => b.global() ?? b.normalisedGlobal(), () => b.hybridInverted(), () => b.halfHybrid()];
  for (const bitmap of bitmaps) {
    const m = bitmap();
    if (!m) continue;
    const c = finderCandidates(m);
    if (c.dark || c.light) return true;
  }
  return false;
}

/**
 * The search on large images when QR codes are the only format: the same attempts as the unscreened
 * large-image search, in the same order, decoding from the shared bitmaps. (The inverted attempt
 * binarises the negative image: the complement of the hybrid bitmap is cheaper but not the same, as
 * the hybrid binarizer takes flat blocks for background, and it read 40 of the corpus's 55 photos
 * inverted on a page against 42.)
 */
function screenedQrAttempts(): Array<{ name: string; run: (b: Binarisations) => Found | null }> {
  const readers = readersFor(['QR_CODE']);
  const hints = hintsFor(['QR_CODE'], true);
  const decode = (img: GreyImage | null, bitmap: Bitmap | null, scale = 1): Found | null => {
    if (!img || !bitmap) return null;
    const matrix = new ZX.BitMatrix(bitmap.width, bitmap.height, bitmap.rowSize, bitmap.bits);
    return decodeBitmap(readers, hints, new ZX.BinaryBitmap(new PrecomputedBinarizer(luminanceSource(img), matrix)), scale);
  };
  return [
    { name: 'zxing-hybrid', run: (b) => decode(b.img, b.hybrid()) },
    { name: 'zxing-global', run: (b) => decode(b.img, b.global()) },
    // the QR reader reads only the bitmap: the image stands in as the source of its dimensions
    { name: 'zxing-hybrid-inverted', run: (b) => decode(b.img, b.hybridInverted()) },
    { name: 'zxing-global-normalised', run: (b) => decode(b.img, b.normalisedGlobal()) },
    { name: 'zxing-hybrid-half', run: (b) => decode(b.half(), b.halfHybrid(), 2) },
  ];
}

function jsqrAttempt(img: GreyImage, scale = 1): Found | null {
  const n = img.width * img.height;
  const rgba = new Uint8ClampedArray(n * 4);
  for (let i = 0, j = 0; i < n; i++, j += 4) { const v = img.data[i]; rgba[j] = v; rgba[j + 1] = v; rgba[j + 2] = v; rgba[j + 3] = 255; }
  const r = jsQR(rgba, img.width, img.height, { inversionAttempts: 'attemptBoth' });
  if (!r || !r.data) return null;
  // jsQR decodes bytes as UTF-8 when valid, else Latin-1 (like ZXing's default guess)
  const l = r.location;
  return { text: r.data, format: 'QR_CODE', box: boxOf([l.topLeftCorner, l.topRightCorner, l.bottomLeftCorner, l.bottomRightCorner], scale) };
}

/**
 * Stretches contrast to the full 0..255 range (helps low-contrast photos with the global binarizer).
 * Null when there is nothing to stretch (a rendered page spans 0..255 already): the attempt would
 * repeat the plain global one on the same pixels.
 */
function normalise(img: GreyImage): GreyImage | null {
  const hist = new Uint32Array(256);
  const d = img.data;
  // an index loop: iterating a typed array with for..of costs ~50 ms on a 300-dpi page
  for (let i = 0; i < d.length; i++) hist[d[i]]++;
  const n = d.length, cut = n * 0.01;
  let lo = 0, hi = 255, acc = 0;
  while (lo < 255 && (acc += hist[lo]) < cut) lo++;
  acc = 0;
  while (hi > 0 && (acc += hist[hi]) < cut) hi--;
  if (hi - lo < 10 || (lo === 0 && hi === 255)) return null;
  const out = new Uint8Array(n), k = 255 / (hi - lo);
  for (let i = 0; i < n; i++) { const v = (d[i] - lo) * k; out[i] = v < 0 ? 0 : v > 255 ? 255 : v; }
  return { width: img.width, height: img.height, data: out };
}

/** Adds a white border: codes cropped at the image edge have no quiet zone. */
function pad(img: GreyImage, m: number): GreyImage {
  const w = img.width + 2 * m, h = img.height + 2 * m;
  const data = new Uint8Array(w * h).fill(255);
  for (let y = 0; y < img.height; y++) data.set(img.data.subarray(y * img.width, (y + 1) * img.width), (y + m) * w + m);
  return { width: w, height: h, data };
}

/** 3x3 box blur: suppresses texture inside the modules of photographed or artistic codes. */
function blur3(img: GreyImage): GreyImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) { const xx = x + dx; if (xx >= 0 && xx < w) { s += data[yy * w + xx]; n++; } }
      }
      out[y * w + x] = s / n;
    }
  }
  return { width: w, height: h, data: out };
}

/**
 * Above this many pixels (rendered pages), only the ZXing attempts run: jsQR costs ~0.5 s per full
 * page and ~0.2 s per half-size copy, for codes ZXing already reads on pages. For QR codes they run
 * screened (screenedQrAttempts): all five took 0.2–0.45 s on a 300-dpi A4 page without a code.
 */
export const LARGE_IMAGE_PIXELS = 3_000_000;

/** The half-size attempts run on images whose longer side has at least this many pixels. */
const HALF_SIZE_MIN_SIDE = 600;

/**
 * The ordered list of attempts. Cheap ones first; each later one is tried only when all earlier
 * ones found nothing. Chosen on the tuning half of the corpus (see bench/ and README.md).
 */

function buildAttempts(formats: string[], large: boolean): Attempt[] {
  const hybrid = zxingAttempt(formats, 'hybrid', false);
  const global = zxingAttempt(formats, 'global', false);
  const hybridInv = zxingAttempt(formats, 'hybrid', true);
  const qr = formats.includes('QR_CODE');
  const attempts: Attempt[] = [
    { name: 'zxing-hybrid', run: (img) => hybrid(img) },
    { name: 'zxing-global', run: (img) => global(img) },
  ];
  if (qr && !large) attempts.push({ name: 'jsqr', run: (img) => jsqrAttempt(img) });
  attempts.push(
    { name: 'zxing-hybrid-inverted', run: (img) => hybridInv(img) },
    { name: 'zxing-global-normalised', run: (img) => { const n = normalise(img); return n ? global(n) : null; } },
    {
      name: 'zxing-hybrid-half', run: (img) => {
        if (Math.max(img.width, img.height) < HALF_SIZE_MIN_SIDE) return null;
        return hybrid(downscaleGrey(img, 2), 2);
      },
    },
    {
      name: 'zxing-hybrid-double', run: (img) => {
        if (Math.max(img.width, img.height) > 1200) return null;
        return hybrid(resizeGrey(img, img.width * 2, img.height * 2), 0.5);
      },
    },
    {
      name: 'zxing-padded-blurred', run: (img) => {
        if (Math.max(img.width, img.height) > 1200) return null;
        const m = Math.round(Math.max(img.width, img.height) * 0.1);
        const p = pad(blur3(img), m);
        const shift = (f: Found | null): Found | null => f && f.box ? { ...f, box: [f.box[0] - m, f.box[1] - m, f.box[2] - m, f.box[3] - m] } : f;
        return shift(hybrid(p)) ?? shift(global(p));
      },
    },
    {
      name: 'jsqr-half', run: (img) => {
        if (!qr || large || Math.max(img.width, img.height) < HALF_SIZE_MIN_SIDE) return null;
        return jsqrAttempt(downscaleGrey(img, 2), 2);
      },
    },
  );
  return attempts;
}

function mask(img: GreyImage, box: [number, number, number, number]): GreyImage {
  const [x0, y0, x1, y1] = box;
  const m = Math.max(x1 - x0, y1 - y0) * 0.3 + 8;
  const ax = Math.max(0, Math.floor(x0 - m)), ay = Math.max(0, Math.floor(y0 - m));
  const bx = Math.min(img.width, Math.ceil(x1 + m)), by = Math.min(img.height, Math.ceil(y1 + m));
  const data = new Uint8Array(img.data);
  for (let y = ay; y < by; y++) data.fill(255, y * img.width + ax, y * img.width + bx);
  return { width: img.width, height: img.height, data };
}

/** Finds barcodes (QR codes by default) on a greyscale image. Never throws. */
export function decodeBarcodes(img: GreyImage, options: BarcodeOptions = {}): BarcodeHit[] {
  const formats = options.formats ?? ['QR_CODE'];
  const maxCodes = options.maxCodes ?? 8;
  const large = img.width * img.height > LARGE_IMAGE_PIXELS;
  // (a "large" image can still be a thin strip, narrower than the hybrid binarizer's blocks need)
  const screened = large && options.screen !== false && formats.length === 1 && formats[0] === 'QR_CODE' &&
    Math.min(img.width, img.height) >= HYBRID_MIN_DIMENSION;
  const attempts: Array<{ name: string; run: (image: GreyImage, b: Binarisations) => Found | null }> = screened
    ? screenedQrAttempts().map((a) => ({ name: a.name, run: (_image, b) => a.run(b) }))
    : buildAttempts(formats, large).map((a) => ({ name: a.name, run: (image) => a.run(image) }));
  const hits: BarcodeHit[] = [];
  let current = img;
  for (let k = 0; k < maxCodes; k++) {
    const bitmaps = new Binarisations(current);
    // also after each code found and masked: the search that finds nothing more is the costly one
    if (screened && !mayHoldQrCode(bitmaps)) break;
    let found: Found | null = null, by = '';
    for (const a of attempts) {
      const ta = performance.now();
      try { found = a.run(current, bitmaps); } catch { found = null; }
      if (process.env[DEBUG_ENV.QR_DEBUG]) process.stderr.write(`${a.name} ${(performance.now() - ta).toFixed(0)}ms\n`);
      if (found) { by = a.name; break; }
    }
    if (!found) break;
    if (!hits.some((h) => h.text === found!.text && h.format === found!.format)) hits.push({ text: found.text, format: found.format, decoder: by });
    if (!found.box) break;
    current = mask(current, found.box);
  }
  return hits;
}
