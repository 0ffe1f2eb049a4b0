import { createCanvas, type Canvas } from '@napi-rs/canvas';
import { OcrError } from './errors.ts';
import { rgbaToGrey, type GreyImage } from './image.ts';
import { PDFJS_CMAP_URL, PDFJS_ICC_URL, PDFJS_STANDARD_FONTS_URL, PDFJS_WASM_URL } from './paths.ts';
import { renderWithPoppler } from './poppler.ts';
import type { PageGeometry } from './geometry.ts';
import { judgeTextLayer, type TextLayerVerdict } from './textlayer.ts';
import { textLayerGeometry } from './textlayer-geometry.ts';

// pdf.js legacy build (the one meant for Node); loaded lazily so image-only work never pays for it
let pdfjsPromise: Promise<any> | null = null;
function pdfjs(): Promise<any> {
  pdfjsPromise ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsPromise;
}

export interface PdfHandle {
  numPages: number;
  doc: any;
  task: any;
}

export async function openPdf(bytes: Uint8Array, password?: string | null): Promise<PdfHandle> {
  const lib = await pdfjs();
  const task = lib.getDocument({
    data: new Uint8Array(bytes), // pdf.js transfers/detaches the buffer it gets
    password: password ?? undefined,
    cMapUrl: PDFJS_CMAP_URL,
    cMapPacked: true,
    standardFontDataUrl: PDFJS_STANDARD_FONTS_URL,
    wasmUrl: PDFJS_WASM_URL,
    iccUrl: PDFJS_ICC_URL,
    useSystemFonts: false,
    isEvalSupported: false,
    enableXfa: false,
    verbosity: 0,
  });
  try {
    const doc = await task.promise;
    return { numPages: doc.numPages, doc, task };
  } catch (err: any) {
    await task.destroy().catch(() => undefined);
    if (err?.name === 'PasswordException') {
      // pdf.js: code 1 = NEED_PASSWORD, 2 = INCORRECT_PASSWORD
      if (err.code === 2 || password) throw new OcrError('INCORRECT_PASSWORD', 'The password given does not open this encrypted PDF.');
      throw new OcrError('PASSWORD_REQUIRED', 'The PDF is encrypted: a password is required.');
    }
    throw new OcrError('INVALID_PDF', `Cannot open PDF: ${err?.message ?? String(err)}`);
  }
}

export async function closePdf(h: PdfHandle): Promise<void> {
  await h.task.destroy().catch(() => undefined);
}

export interface TextLayerRead {
  text: string;
  verdict: TextLayerVerdict;
  widthPt: number;
  heightPt: number;
  /** Its words and lines (when asked for and the page has text). */
  geometry?: PageGeometry;
}

/** Builds reading-order text from pdf.js text items (one line per EOL). */
function itemsToText(items: any[]): string {
  let out = '';
  for (const it of items) {
    if (typeof it.str !== 'string') continue;
    out += it.str;
    if (it.hasEOL) out += '\n';
    else if (it.str && !/\s$/.test(it.str)) out += ' ';
  }
  return out.split('\n').map((l) => l.replace(/[ \t]+/g, ' ').trim()).join('\n').replace(/\n{3,}/g, '\n\n').trim();
}

async function pageHasImages(page: any, lib: any): Promise<boolean> {
  const ops = await page.getOperatorList();
  const O = lib.OPS;
  const imageOps = new Set([O.paintImageXObject, O.paintInlineImageXObject, O.paintImageMaskXObject, O.paintImageXObjectRepeat,
    O.paintInlineImageXObjectGroup, O.paintImageMaskXObjectGroup, O.paintImageMaskXObjectRepeat, O.paintSolidColorImageMask].filter((x) => x !== undefined));
  return ops.fnArray.some((fn: number) => imageOps.has(fn));
}

export async function readTextLayer(h: PdfHandle, pageNumber: number, geometry = false): Promise<TextLayerRead> {
  const lib = await pdfjs();
  let page;
  try {
    page = await h.doc.getPage(pageNumber);
  } catch (err: any) {
    throw new OcrError('PAGE_FAILED', `Cannot read page ${pageNumber}: ${err?.message ?? String(err)}`);
  }
  const vp = page.getViewport({ scale: 1 });
  let text = '';
  let words: PageGeometry | undefined;
  try {
    const tc = await page.getTextContent();
    text = itemsToText(tc.items);
    // the viewport at scale 1 is the crop box with the page's /Rotate applied: the page as seen
    if (geometry) words = textLayerGeometry(tc.items, tc.styles ?? {}, vp);
  } catch {
    text = '';
    words = undefined;
  }
  let verdict = judgeTextLayer(text, false);
  // criterion 4 needs the operator list: only looked at when the text is short
  if (verdict.good && verdict.chars < 40) {
    let images = false;
    try { images = await pageHasImages(page, lib); } catch { images = false; }
    verdict = judgeTextLayer(text, images);
  }
  page.cleanup();
  return { text, verdict, widthPt: vp.width, heightPt: vp.height, ...(words ? { geometry: words } : {}) };
}

export interface Rendered {
  image: GreyImage;
  dpi: number;
  /** Which renderer drew it: 'poppler' when asked for and it succeeded, else 'pdf.js'. */
  renderer: 'pdf.js' | 'poppler';
}

/**
 * The last rendered page's canvas, kept for the next page of (about) the same size: a new 300-dpi A4 canvas
 * (35 MB) cost 20–30 ms of fresh memory before anything was drawn, against about 5 ms to clear a used
 * one. Taken while a page renders (two documents in one child may render at once: the second gets a
 * canvas of its own), given back only after a render that succeeded, so its state stack is balanced:
 * pdf.js saves the context's state before a page and restores it after, and renderPage sets the
 * transform, alpha and compositing back to the defaults and paints the page white before each page
 * (reset() would also do, at three times the cost, measured). Only
 * canvases up to SPARE_CANVAS_MAX_PIXELS are kept (a 300-dpi Legal page is 10.7 million): a huge
 * page's canvas is not held between documents.
 */
let spareCanvas: Canvas | null = null;
const SPARE_CANVAS_MAX_PIXELS = 12_000_000;

function canvasOfSize(width: number, height: number): Canvas {
  const spare = spareCanvas;
  // pages of one scanned document differ by a pixel or two: a canvas up to 2 % larger serves, its
  // margin never read (the page's pixels are read from the top-left corner)
  if (spare && spare.width >= width && spare.height >= height && spare.width * spare.height <= width * height * 1.02) {
    spareCanvas = null;
    return spare;
  }
  return createCanvas(width, height);
}

/**
 * Renders one page to greyscale at `dpi`, lowered when needed so that the bitmap stays within
 * maxPixels (a 20,000 x 20,000 pt page at 300 dpi would be 7 gigapixels). pdf.js always sizes the
 * page; with `popplerFile` (the document's bytes in a file) Poppler draws it, and pdf.js only when
 * Poppler fails on the page (see renderWithPoppler).
 */
export async function renderPage(h: PdfHandle, pageNumber: number, dpi: number, maxPixels: number, popplerFile?: string | null): Promise<Rendered> {
  let page;
  try {
    page = await h.doc.getPage(pageNumber);
  } catch (err: any) {
    throw new OcrError('PAGE_FAILED', `Cannot read page ${pageNumber}: ${err?.message ?? String(err)}`);
  }
  const base = page.getViewport({ scale: 1 });
  let effDpi = dpi;
  const px = (base.width * dpi / 72) * (base.height * dpi / 72);
  if (px > maxPixels) effDpi = Math.max(1, Math.floor(dpi * Math.sqrt(maxPixels / px)));
  const viewport = page.getViewport({ scale: effDpi / 72 });
  const w = Math.max(1, Math.ceil(viewport.width)), hgt = Math.max(1, Math.ceil(viewport.height));
  if (popplerFile) {
    const image = await renderWithPoppler(popplerFile, pageNumber, effDpi, { width: w, height: hgt });
    if (image) {
      page.cleanup();
      return { image, dpi: effDpi, renderer: 'poppler' };
    }
  }
  const canvas = canvasOfSize(w, hgt);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = 1;
  ctx.globalCompositeOperation = 'source-over';
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  try {
    await page.render({ canvasContext: ctx, canvas, viewport, background: 'rgb(255,255,255)' }).promise;
  } catch (err: any) {
    throw new OcrError('PAGE_FAILED', `Cannot render page ${pageNumber}: ${err?.message ?? String(err)}`);
  } finally {
    page.cleanup();
  }
  const rgba = ctx.getImageData(0, 0, w, hgt).data;
  if (w * hgt <= SPARE_CANVAS_MAX_PIXELS) spareCanvas = canvas;
  return { image: rgbaToGrey(rgba, w, hgt), dpi: effDpi, renderer: 'pdf.js' };
}
