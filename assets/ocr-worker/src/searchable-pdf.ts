/**
 * Searchable PDFs: the document with an invisible text layer (PDF text render mode 3) where its words
 * are, made from the result's word geometry with pdf-lib.
 *
 * - A PDF: the original document, loaded and saved by pdf-lib with its page content left as it is
 *   (nothing re-rasterized); its OCR'd pages gain the text layer, its text-layer pages are untouched.
 * - An image (PNG, JPEG, TIFF with one or more pages, and the other image types the engine reads):
 *   one page per image, the image at its own pixels (PNG and JPEG embedded as they are, others as
 *   lossless PNG), sized by its resolution (300 dpi when the file states none), the text over it;
 *   a JPEG's EXIF orientation is shown as the engine read it (a turn by the page's /Rotate, a mirror
 *   by embedding the pixels as shown).
 *
 * The text is drawn in a font made for the document (invisible-font.ts), each word scaled
 * horizontally to fill its box, so that selecting or searching the text highlights the word's place.
 * An encrypted PDF is refused (OUTPUT_REFUSED): pdf-lib cannot write its encryption back, and the
 * document must not leave decrypted (one that opens with an empty password included).
 */
import { createRequire } from 'node:module';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import fontkit from '@pdf-lib/fontkit';
import {
  beginText, degrees, endText, popGraphicsState, pushGraphicsState, setFontAndSize, setTextMatrix, setTextRenderingMode, showText, TextRenderingMode,
  PDFArray, PDFContentStream, PDFDict, PDFDocument, PDFHexString, PDFName, PDFOperator, PDFOperatorNames, PDFStream,
  type PDFFont, type PDFImage, type PDFPage,
} from 'pdf-lib';
import { OcrError } from './errors.ts';
import type { BoundingBox, Word } from './geometry.ts';
import { decodePNM, orientPixels, tiffOrientation } from './image.ts';
import { charactersOf, INVISIBLE_FONT, invisibleFont } from './invisible-font.ts';
import type { MediaType } from './media.ts';
import type { PageResult } from './result.ts';

const require = createRequire(import.meta.url);
const UTIF = require('utif2') as {
  decode(buf: Uint8Array): Array<Record<string, unknown> & { width: number; height: number }>;
  decodeImage(buf: Uint8Array, ifd: unknown, ifds?: unknown): void;
  toRGBA8(ifd: unknown): Uint8Array;
};

/** Resolution assumed for an image whose file states none (Tesseract's own assumption for scans). */
export const DEFAULT_IMAGE_DPI = 300;

/** A 2-D affine transform [a b c d e f] (PDF's convention: a point is a row vector times the matrix). */
type Matrix = [number, number, number, number, number, number];

function multiply(m: Matrix, n: Matrix): Matrix {
  return [
    m[0] * n[0] + m[1] * n[2], m[0] * n[1] + m[1] * n[3],
    m[2] * n[0] + m[3] * n[2], m[2] * n[1] + m[3] * n[3],
    m[4] * n[0] + m[5] * n[2] + n[4], m[4] * n[1] + m[5] * n[3] + n[5],
  ];
}

/**
 * From the page as seen (points from its top-left corner, y down: the space the word boxes are
 * normalized to) to the page's user space, for its crop box and /Rotate (clockwise, as pdf.js' and
 * Poppler's viewports turn it). Returns the transform and the seen page's width and height.
 */
export function seenToUserSpace(box: { x: number; y: number; width: number; height: number }, rotation: number): { matrix: Matrix; width: number; height: number } {
  const { x, y, width: w, height: h } = box;
  switch (((rotation % 360) + 360) % 360) {
    case 90: return { matrix: [0, 1, 1, 0, x, y], width: h, height: w };
    case 180: return { matrix: [-1, 0, 0, 1, x + w, y], width: w, height: h };
    case 270: return { matrix: [0, -1, -1, 0, x + w, y + h], width: h, height: w };
    default: return { matrix: [1, 0, 0, -1, x, y + h], width: w, height: h };
  }
}

/**
 * Which way a page's text runs on the page as seen, in degrees clockwise from left-to-right: 0, 90
 * (downwards: a scan turned a quarter clockwise), 180 (upside down) or 270. Tesseract reads sideways
 * lines by itself and the engine turns upside-down pages before reading them, so the boxes are on the
 * page as seen while the text in them may run any of these ways: told by where each line's last word
 * lies from its first, the majority of lines deciding; lines of one word by their boxes' shape.
 */
export function textDirection(p: PageResult): 0 | 90 | 180 | 270 {
  const votes = [0, 0, 0, 0];
  const words = p.words ?? [];
  for (const line of p.lines ?? []) {
    const a = words[line.words[0]]?.bbox, b = words[line.words[line.words.length - 1]]?.bbox;
    if (!a || !b) continue;
    const dx = (b.left + b.width / 2) - (a.left + a.width / 2), dy = (b.top + b.height / 2) - (a.top + a.height / 2);
    if (line.words.length > 1 && Math.abs(dx) + Math.abs(dy) > 0) votes[Math.abs(dx) >= Math.abs(dy) ? (dx > 0 ? 0 : 2) : (dy > 0 ? 1 : 3)] += line.words.length;
  }
  const best = votes.indexOf(Math.max(...votes));
  if (votes[best] > 0) return (best * 90) as 0 | 90 | 180 | 270;
  // no line of two words: undo the engine's own turn (tall boxes: sideways, read downwards)
  if (p.rotation) return ((360 - p.rotation) % 360) as 0 | 90 | 180 | 270;
  const tall = words.filter((w) => Array.from(w.text).length > 1 && w.bbox.height > 1.5 * w.bbox.width).length;
  return tall > words.length / 2 ? 90 : 0;
}

/** Whether a word is written right to left (Hebrew, Arabic and their relatives). */
function rightToLeft(text: string): boolean {
  return /[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]/u.test(text) && !/[A-Za-z0-9]/.test(text);
}

/**
 * Draws a page's words invisibly: each word along its box in the direction the page's text runs,
 * scaled to the box's length; its size and baseline are its line's (the font's ascent and descent
 * span the line's box across the text), so that the words of a line share one baseline and text
 * extraction keeps them on one line. Right-to-left words are laid out in visual order, as a PDF holds
 * them: text extraction turns them back to reading order.
 */
function drawWords(page: PDFPage, font: PDFFont, p: PageResult, seen: { matrix: Matrix; width: number; height: number }): void {
  const fontKey = page.node.newFontDictionary(font.name, font.ref);
  const words = p.words ?? [];
  const lines = p.lines && p.lines.length > 0 ? p.lines : words.map((w, i) => ({ bbox: w.bbox, words: [i] }));
  const direction = textDirection(p);
  const rad = (direction * Math.PI) / 180;
  // along the text and towards the glyphs' tops, on the page as seen (y down)
  const along = [Math.round(Math.cos(rad)), Math.round(Math.sin(rad))], up = [along[1], -along[0]];
  const descent = -INVISIBLE_FONT.DESCENDER / INVISIBLE_FONT.UNITS_PER_EM;
  const px = (b: BoundingBox): { l: number; t: number; r: number; b: number } =>
    ({ l: b.left * seen.width, t: b.top * seen.height, r: (b.left + b.width) * seen.width, b: (b.top + b.height) * seen.height });
  const ops = [pushGraphicsState(), beginText(), setTextRenderingMode(TextRenderingMode.Invisible)];
  for (const line of lines) {
    const lb = px(line.bbox);
    const size = direction % 180 === 0 ? lb.b - lb.t : lb.r - lb.l;
    for (const i of line.words) {
      const w: Word | undefined = words[i];
      if (!w) continue;
      const wb = px(w.bbox);
      const length = direction % 180 === 0 ? wb.r - wb.l : wb.b - wb.t;
      const chars = Array.from(w.text);
      if (size <= 0 || length <= 0 || chars.length === 0) continue;
      // the baseline's start: the word's edge where its text begins, the line's descent above the line's "bottom"
      const [ox, oy] = direction === 0 ? [wb.l, lb.b - descent * size]
        : direction === 90 ? [lb.l + descent * size, wb.t]
          : direction === 180 ? [wb.r, lb.t + descent * size]
            : [lb.r - descent * size, wb.b];
      const scale = length / (chars.length * (INVISIBLE_FONT.ADVANCE / INVISIBLE_FONT.UNITS_PER_EM) * size);
      // text space (x along the baseline, y towards the tops) onto the seen page, then onto user space
      const m = multiply([along[0] * scale, along[1] * scale, up[0], up[1], ox, oy], seen.matrix);
      const shown = rightToLeft(w.text) ? chars.reverse().join('') : w.text;
      ops.push(setFontAndSize(fontKey, size), setTextMatrix(...m), showText(font.encodeText(shown)));
    }
  }
  ops.push(endText(), popGraphicsState());
  page.pushOperators(...ops);
}

/**
 * Takes a page's own text out of text extraction and search without changing how the page looks: its
 * content goes into a marked-content span whose ActualText is empty (ISO 32000-1, 14.9.4 "Replacement
 * Text"), which readers that extract text (Poppler, Acrobat) take in place of the glyphs drawn inside
 * it. Used on a page OCR'd because its text layer is unreadable, so that its OCR text is the only text
 * found there; the glyphs stay drawn, nothing is re-rasterized.
 */
function replaceTextWithNothing(doc: PDFDocument, page: PDFPage): void {
  const stream = (op: PDFOperator) => doc.context.register(PDFContentStream.of(doc.context.obj({}), [op]));
  // an inline property list: pdf-lib writes any PDF object given as an operand, its type lists fewer
  const span = doc.context.obj({ ActualText: PDFHexString.of('FEFF') }) as unknown as PDFName;
  page.node.normalize();
  page.node.wrapContentStreams(
    stream(PDFOperator.of(PDFOperatorNames.BeginMarkedContentSequence, [PDFName.of('Span'), span])),
    stream(PDFOperator.of(PDFOperatorNames.EndMarkedContent)),
  );
}

async function embedTextFont(doc: PDFDocument, pages: PageResult[]): Promise<PDFFont> {
  doc.registerFontkit(fontkit as unknown as Parameters<PDFDocument['registerFontkit']>[0]);
  const codePoints = charactersOf(pages.flatMap((p) => (p.words ?? []).map((w) => w.text)));
  // the font holds only what the document needs already: pdf-lib's subsetting would gain nothing
  return doc.embedFont(invisibleFont(codePoints), { subset: false });
}

/**
 * Writes the text font's dictionaries (after the last word is drawn) as those of the font program it
 * is: pdf-lib declares every font it embeds a TrueType CIDFont (CIDFontType2, FontFile2), but the font
 * made for the text layer has CFF outlines, which PDF embeds as a CIDFontType0 with FontFile3 of
 * subtype OpenType (ISO 32000-1, 9.9, "Embedded font programs"). Readers otherwise warn that the font
 * type does not match its file, and some refuse the font.
 */
async function finishTextFont(doc: PDFDocument, font: PDFFont): Promise<void> {
  await font.embed();
  const type0 = doc.context.lookup(font.ref, PDFDict);
  const cidFont = doc.context.lookup(type0.lookup(PDFName.of('DescendantFonts'), PDFArray).get(0), PDFDict);
  const descriptor = cidFont.lookup(PDFName.of('FontDescriptor'), PDFDict);
  const file = descriptor.get(PDFName.of('FontFile2'));
  if (!file) return; // already written as CFF
  cidFont.set(PDFName.of('Subtype'), PDFName.of('CIDFontType0'));
  cidFont.delete(PDFName.of('CIDToGIDMap')); // a TrueType CIDFont's only
  descriptor.delete(PDFName.of('FontFile2'));
  descriptor.set(PDFName.of('FontFile3'), file);
  doc.context.lookup(file, PDFStream).dict.set(PDFName.of('Subtype'), PDFName.of('OpenType'));
}

/** Pixels per inch along each axis of an image. */
interface Resolution { x: number; y: number }

const DEFAULT_RESOLUTION: Resolution = { x: DEFAULT_IMAGE_DPI, y: DEFAULT_IMAGE_DPI };

/** An image's resolution as shown: an orientation that turns it a quarter (5-8) swaps the axes. */
function shownResolution(stored: Resolution, orientation: number): Resolution {
  return orientation >= 5 ? { x: stored.y, y: stored.x } : stored;
}

/**
 * The resolution an image file states for its stored pixels (TIFF tags, PNG pHYs, JPEG JFIF), or
 * null. The axes may differ (a fax is 204 x 196 dpi).
 */
export function statedResolution(bytes: Uint8Array, mediaType: MediaType, frame: Record<string, unknown> | null): Resolution | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (mediaType === 'image/tiff' && frame) {
    // utif2 gives a RATIONAL as [numerator, denominator]
    const rational = (tag: string): number => {
      const res = (frame[tag] as Array<number | number[]> | undefined)?.[0];
      const v = Array.isArray(res) ? (res[1] ? res[0] / res[1] : 0) : res;
      return v && v > 0 ? v : 0;
    };
    const unit = (frame.t296 as number[] | undefined)?.[0] ?? 2;
    const x = rational('t282'), y = rational('t283') || x;
    if (!x || (unit !== 2 && unit !== 3)) return null;
    return unit === 3 ? { x: x * 2.54, y: y * 2.54 } : { x, y };
  }
  if (mediaType === 'image/png') {
    // chunks after the 8-byte signature: length, type, data, CRC
    for (let at = 8; at + 12 <= b.length;) {
      const len = b.readUInt32BE(at), type = b.toString('latin1', at + 4, at + 8);
      if (type === 'pHYs' && len >= 9 && b[at + 16] === 1) {
        // pixels per metre
        const x = b.readUInt32BE(at + 8), y = b.readUInt32BE(at + 12);
        return x > 0 && y > 0 ? { x: x * 0.0254, y: y * 0.0254 } : null;
      }
      if (type === 'IDAT' || type === 'IEND') return null;
      at += 12 + len;
    }
    return null;
  }
  if (mediaType === 'image/jpeg' && b.length > 18 && b.toString('latin1', 6, 11) === 'JFIF\0') {
    const unit = b[13], x = b.readUInt16BE(14), y = b.readUInt16BE(16);
    if (x > 0 && y > 0 && unit === 1) return { x, y };
    if (x > 0 && y > 0 && unit === 2) return { x: x * 2.54, y: y * 2.54 };
  }
  return null;
}

/**
 * A JPEG's EXIF Orientation (1..8; 1 when it states none): how its stored pixels are to be turned
 * (3, 6, 8) or mirrored (2, 4, 5, 7) to be shown. The engine reads the image as shown (its decoder
 * applies the orientation), so the word boxes are on the image as shown.
 */
export function jpegOrientation(bytes: Uint8Array): number {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // markers after SOI (FFD8): FFxx and a 2-byte length, up to the first scan
  for (let at = 2; at + 4 <= b.length && b[at] === 0xff;) {
    const marker = b[at + 1], len = b.readUInt16BE(at + 2);
    if (marker === 0xda || len < 2) break;
    if (marker === 0xe1 && len >= 16 && b.toString('latin1', at + 4, at + 10) === 'Exif\0\0') {
      const t = at + 10, end = Math.min(at + 2 + len, b.length);
      const le = b.toString('latin1', t, t + 2) === 'II';
      const u16 = (o: number): number => (o + 2 <= end ? (le ? b.readUInt16LE(o) : b.readUInt16BE(o)) : 0);
      const u32 = (o: number): number => (o + 4 <= end ? (le ? b.readUInt32LE(o) : b.readUInt32BE(o)) : 0);
      const ifd = t + u32(t + 4);
      const n = u16(ifd);
      for (let i = 0; i < n; i++) {
        const e = ifd + 2 + 12 * i;
        if (e + 12 > end) break;
        if (u16(e) === 0x0112) {
          const v = u16(e + 8);
          return v >= 1 && v <= 8 ? v : 1;
        }
      }
      return 1;
    }
    at += 2 + len;
  }
  return 1;
}

/** The page /Rotate that shows a JPEG's stored pixels as its EXIF orientation says (turns only). */
const ORIENTATION_ROTATE: Readonly<Record<number, number>> = { 1: 0, 3: 180, 6: 90, 8: 270 };

/** RGBA pixels as a PNG (lossless), for image types a PDF cannot hold as they are. */
function rgbaToPng(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Buffer {
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(width, height);
  data.data.set(rgba);
  ctx.putImageData(data, 0, 0);
  return canvas.encodeSync('png');
}

/** Each frame of an image document the way a PDF page holds it, with its resolution. */
async function embedFrames(doc: PDFDocument, bytes: Uint8Array, mediaType: MediaType, frames: number[]): Promise<Array<{ image: PDFImage; dpi: Resolution; rotate?: number }>> {
  // copies: pdf-lib reads a view's whole underlying buffer, not the view (a document that came
  // through IPC or from a larger Buffer does not start at offset 0)
  if (mediaType === 'image/png') return [{ image: await doc.embedPng(new Uint8Array(bytes)), dpi: statedResolution(bytes, mediaType, null) ?? DEFAULT_RESOLUTION }];
  if (mediaType === 'image/jpeg') {
    const stored = statedResolution(bytes, mediaType, null) ?? DEFAULT_RESOLUTION;
    const orientation = jpegOrientation(bytes);
    const rotate = ORIENTATION_ROTATE[orientation];
    // turned: the JPEG as it is (its stored axes) on a page turned to show it; mirrored: its pixels as shown, as PNG
    if (rotate !== undefined) return [{ image: await doc.embedJpg(new Uint8Array(bytes)), dpi: stored, rotate }];
    const dpi = shownResolution(stored, orientation);
    const img = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const canvas = createCanvas(img.width, img.height);
    canvas.getContext('2d').drawImage(img, 0, 0);
    return [{ image: await doc.embedPng(canvas.encodeSync('png')), dpi }];
  }
  if (mediaType === 'image/tiff') {
    const ifds = UTIF.decode(bytes).filter((ifd) => ifd.t256 !== undefined);
    const out: Array<{ image: PDFImage; dpi: Resolution }> = [];
    for (const n of frames) {
      const ifd = ifds[n - 1];
      UTIF.decodeImage(bytes, ifd, ifds);
      // the frame as shown (its Orientation applied), as the engine read it
      const decoded = UTIF.toRGBA8(ifd);
      const rgba = decoded.byteOffset % 4 === 0 ? decoded : decoded.slice(); // a Uint32Array view needs 4-byte alignment
      const pixels = new Uint32Array(rgba.buffer, rgba.byteOffset, ifd.width * ifd.height);
      const orientation = tiffOrientation(ifd);
      const shown = orientPixels(pixels, ifd.width, ifd.height, orientation);
      const png = rgbaToPng(new Uint8Array(shown.data.buffer, shown.data.byteOffset, shown.data.byteLength), shown.width, shown.height);
      out.push({ image: await doc.embedPng(png), dpi: shownResolution(statedResolution(bytes, mediaType, ifd) ?? DEFAULT_RESOLUTION, orientation) });
      delete (ifd as Record<string, unknown>).data; // the decoded pixels: one frame's at a time
    }
    return out;
  }
  if (mediaType === 'image/x-portable-anymap') {
    const grey = decodePNM(bytes);
    const rgba = new Uint8Array(grey.width * grey.height * 4);
    for (let i = 0; i < grey.data.length; i++) { rgba[4 * i] = rgba[4 * i + 1] = rgba[4 * i + 2] = grey.data[i]; rgba[4 * i + 3] = 255; }
    return [{ image: await doc.embedPng(rgbaToPng(rgba, grey.width, grey.height)), dpi: DEFAULT_RESOLUTION }];
  }
  const img = await loadImage(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const canvas = createCanvas(img.width, img.height);
  canvas.getContext('2d').drawImage(img, 0, 0);
  return [{ image: await doc.embedPng(canvas.encodeSync('png')), dpi: DEFAULT_RESOLUTION }];
}

/**
 * The searchable PDF of a document from its processed pages (with words). `password`: the document
 * was opened with one (it is encrypted). Throws OcrError OUTPUT_REFUSED (encrypted PDF) or
 * OUTPUT_FAILED (it cannot be written, or would be larger than `maxBytes`).
 */
export async function searchablePdf(bytes: Uint8Array, mediaType: MediaType, pages: PageResult[], maxBytes: number, password?: string | null): Promise<Uint8Array> {
  let out: Uint8Array;
  try {
    if (mediaType === 'application/pdf') {
      if (password) throw new OcrError('OUTPUT_REFUSED', 'The PDF is encrypted: a searchable copy would not keep its encryption, so none is written.');
      // updateMetadata false: the document's own Producer and dates stay as they are. Loaded with
      // ignoreEncryption only to be asked whether it is encrypted (one that opens with an empty password is)
      const doc = await PDFDocument.load(bytes, { updateMetadata: false, ignoreEncryption: true });
      if (doc.isEncrypted) throw new OcrError('OUTPUT_REFUSED', 'The PDF is encrypted: a searchable copy would not keep its encryption, so none is written.');
      const ocrPages = pages.filter((p) => p.method === 'ocr' && !p.error && p.words && p.words.length > 0);
      if (ocrPages.length > 0) {
        const font = await embedTextFont(doc, ocrPages);
        for (const p of ocrPages) {
          const page = doc.getPage(p.pageNumber - 1);
          if (p.textLayer && p.textLayer.chars > 0) replaceTextWithNothing(doc, page);
          drawWords(page, font, p, seenToUserSpace(page.getCropBox(), page.getRotation().angle));
        }
        await finishTextFont(doc, font);
      }
      out = await doc.save({ addDefaultPage: false });
    } else {
      const doc = await PDFDocument.create();
      const font = await embedTextFont(doc, pages);
      const frames = await embedFrames(doc, bytes, mediaType, pages.map((p) => p.pageNumber));
      pages.forEach((p, i) => {
        const { image, dpi, rotate = 0 } = frames[Math.min(i, frames.length - 1)];
        const width = (image.width * 72) / dpi.x, height = (image.height * 72) / dpi.y;
        const page = doc.addPage([width, height]);
        page.drawImage(image, { x: 0, y: 0, width, height });
        if (rotate) page.setRotation(degrees(rotate));
        if (p.words && p.words.length > 0) {
          drawWords(page, font, p, seenToUserSpace({ x: 0, y: 0, width, height }, rotate));
        }
      });
      await finishTextFont(doc, font);
      out = await doc.save();
    }
  } catch (err) {
    if (err instanceof OcrError) throw err;
    throw new OcrError('OUTPUT_FAILED', `The searchable PDF could not be written: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (out.byteLength > maxBytes) throw new OcrError('OUTPUT_FAILED', `The searchable PDF would be ${out.byteLength} bytes, above the limit of ${maxBytes} bytes.`);
  return out;
}
