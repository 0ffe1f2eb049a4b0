import { createRequire } from 'node:module';
import type { GreyImage } from './image.ts';
import { downscaleGrey, resizeGrey } from './image.ts';

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
  /** Skip the slower fallbacks (used for pages where speed matters more than hard codes). */
  fast?: boolean;
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

function zxingAttempt(formats: string[], binarizer: 'hybrid' | 'global', invert: boolean): (img: GreyImage, scale?: number) => Found | null {
  const readers = readersFor(formats);
  const hints = hintsFor(formats, true);
  return (img: GreyImage, scale = 1) => {
    let source = new ZX.RGBLuminanceSource(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
    if (invert) source = new ZX.InvertedLuminanceSource(source);
    const bitmap = new ZX.BinaryBitmap(binarizer === 'hybrid' ? new ZX.HybridBinarizer(source) : new ZX.GlobalHistogramBinarizer(source));
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
  };
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

/** Stretches contrast to the full 0..255 range (helps low-contrast photos with the global binarizer). */
function normalise(img: GreyImage): GreyImage {
  const hist = new Uint32Array(256);
  for (const v of img.data) hist[v]++;
  const n = img.data.length, cut = n * 0.01;
  let lo = 0, hi = 255, acc = 0;
  while (lo < 255 && (acc += hist[lo]) < cut) lo++;
  acc = 0;
  while (hi > 0 && (acc += hist[hi]) < cut) hi--;
  if (hi - lo < 10 || (lo === 0 && hi === 255)) return img;
  const out = new Uint8Array(n), k = 255 / (hi - lo);
  for (let i = 0; i < n; i++) { const v = (img.data[i] - lo) * k; out[i] = v < 0 ? 0 : v > 255 ? 255 : v; }
  return { width: img.width, height: img.height, data: out };
}

/**
 * The ordered list of attempts. Cheap ones first; each later one is tried only when all earlier
 * ones found nothing. Chosen on the tuning half of the corpus (see bench/ and README.md).
 */
function buildAttempts(formats: string[], fast: boolean): Attempt[] {
  const hybrid = zxingAttempt(formats, 'hybrid', false);
  const global = zxingAttempt(formats, 'global', false);
  const hybridInv = zxingAttempt(formats, 'hybrid', true);
  const qrOnly = formats.length === 1 && formats[0] === 'QR_CODE';
  const attempts: Attempt[] = [
    { name: 'zxing-hybrid', run: (img) => hybrid(img) },
    { name: 'zxing-global', run: (img) => global(img) },
  ];
  if (qrOnly || formats.includes('QR_CODE')) attempts.push({ name: 'jsqr', run: (img) => jsqrAttempt(img) });
  if (fast) return attempts;
  attempts.push(
    { name: 'zxing-hybrid-inverted', run: (img) => hybridInv(img) },
    { name: 'zxing-global-normalised', run: (img) => global(normalise(img)) },
    {
      name: 'zxing-hybrid-half', run: (img) => {
        if (Math.max(img.width, img.height) < 600) return null;
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
      name: 'jsqr-half', run: (img) => {
        if (!formats.includes('QR_CODE') || Math.max(img.width, img.height) < 600) return null;
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
  const attempts = buildAttempts(formats, options.fast ?? false);
  const hits: BarcodeHit[] = [];
  let current = img;
  for (let k = 0; k < maxCodes; k++) {
    let found: Found | null = null, by = '';
    for (const a of attempts) {
      try { found = a.run(current); } catch { found = null; }
      if (found) { by = a.name; break; }
    }
    if (!found) break;
    if (!hits.some((h) => h.text === found!.text && h.format === found!.format)) hits.push({ text: found.text, format: found.format, decoder: by });
    if (!found.box) break;
    current = mask(current, found.box);
  }
  return hits;
}
