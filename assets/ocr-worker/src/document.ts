/**
 * Processes one document. Runs inside the bounded child process (src/child.ts); never call it in a
 * process whose life matters more than the document (see engine.ts).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OcrError, toErrorInfo, type ErrorInfo } from './errors.ts';
import { countImageFrames, decodeImageFrame, type GreyImage } from './image.ts';
import type { MediaType } from './media.ts';
import { DEFAULTS, MAX_OUTPUT_BYTES, selectPages, type DocumentOptions, type PdfRendererName } from './options.ts';
import { scratchRoot } from './paths.ts';
import { closePdf, openPdf, readTextLayer, renderPage } from './pdf.ts';
import { decodeBarcodes } from './qr.ts';
import type { OcrPool } from './ocr.ts';
import type { PageResult } from './result.ts';
import { searchablePdf } from './searchable-pdf.ts';
import { toHocr, type PagePixels } from './hocr.ts';
import { WORKER_VERSION } from './engine-result.ts';
import { INTERNAL_ENV } from './contract.ts';

export interface DocumentOutcome {
  pageCount: number;
  pages: PageResult[];
  error: ErrorInfo | null;
  /** The outputs asked for besides the JSON result: written (their bytes) or failed (their error). */
  outputs?: DocumentOutput[];
}

/** One output of a document besides its JSON result. */
export interface DocumentOutput { format: 'pdf' | 'hocr'; bytes?: Uint8Array; error: ErrorInfo | null }

/** Whether outputs besides the JSON result were asked for. */
export function wantsOutputs(opts: DocumentOptions): boolean {
  return (opts.outputs ?? []).some((f) => f === 'pdf' || f === 'hocr');
}

/** Whether pages need their words: asked for, or needed by an output made from them. */
function wantsGeometry(opts: DocumentOptions): boolean {
  return opts.geometry !== false || wantsOutputs(opts);
}

/**
 * Writes the outputs asked for besides the JSON result, from the processed pages; then drops the
 * pages' words if only the outputs needed them. An output that cannot be written gets a classified
 * error: the JSON result comes either way.
 */
async function finishOutputs(bytes: Uint8Array, mediaType: MediaType, opts: DocumentOptions, outcome: DocumentOutcome,
  sizes: ReadonlyMap<number, PagePixels>, hooks: DocumentHooks): Promise<DocumentOutcome> {
  if (wantsOutputs(opts)) {
    // the JSON result as it will be, in case writing the outputs overruns the document's bounds
    hooks.onPagesRead?.({ ...outcome, pages: opts.geometry === false ? outcome.pages.map(({ words, lines, ...page }) => page) : outcome.pages });
    await stallForTest();
  }
  const outputs: DocumentOutput[] = [];
  if (opts.outputs?.includes('pdf')) {
    try {
      outputs.push({ format: 'pdf', bytes: await searchablePdf(bytes, mediaType, outcome.pages.filter((p) => !p.error), MAX_OUTPUT_BYTES, opts.password), error: null });
    } catch (err) {
      outputs.push({ format: 'pdf', error: toErrorInfo(err, 'OUTPUT_FAILED') });
    }
  }
  if (opts.outputs?.includes('hocr')) {
    const hocr = Buffer.from(toHocr(outcome.pages, sizes, `ocr-worker ${WORKER_VERSION}`, (opts.languages ?? DEFAULTS.languages).split('+')), 'utf8');
    outputs.push(hocr.byteLength > MAX_OUTPUT_BYTES
      ? { format: 'hocr', error: { code: 'OUTPUT_FAILED', message: `The hOCR would be ${hocr.byteLength} bytes, above the limit of ${MAX_OUTPUT_BYTES} bytes.` } }
      : { format: 'hocr', bytes: new Uint8Array(hocr.buffer, hocr.byteOffset, hocr.byteLength), error: null });
  }
  if (opts.geometry === false) for (const p of outcome.pages) { delete p.words; delete p.lines; }
  return outputs.length > 0 ? { ...outcome, outputs } : outcome;
}

export type Progress = (done: number, total: number, pageNumber: number) => void;

/** What the caller of processDocument hears while a document is read. */
export interface DocumentHooks {
  /** One more page is done. */
  progress: Progress;
  /**
   * Every page has been read or handed to the OCR pool (only OCR of the last pages is left): the
   * child then starts the next document, so that the pool's workers never wait at a document boundary.
   */
  onAllDispatched?: () => void;
  /** The pages are read and the outputs besides the JSON result are about to be written (only when asked for). */
  onPagesRead?: (outcome: DocumentOutcome) => void;
}

/**
 * Fault injection for the engine's tests: with INTERNAL_ENV.TEST_OUTPUT_STALL_MS set, writing a
 * document's outputs first waits that long, so that a test can make the output step overrun the
 * document's time limit deterministically. Never set in an image or by the service.
 */
async function stallForTest(): Promise<void> {
  const ms = Number(process.env[INTERNAL_ENV.TEST_OUTPUT_STALL_MS] ?? 0);
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

class Semaphore {
  private n: number;
  private q: Array<() => void> = [];
  constructor(n: number) { this.n = n; }
  async acquire(): Promise<void> { if (this.n > 0) { this.n--; return; } await new Promise<void>((r) => this.q.push(r)); }
  release(): void { const r = this.q.shift(); if (r) r(); else this.n++; }
}

function emptyPage(pageNumber: number): PageResult {
  return { pageNumber, method: 'ocr', text: '', confidence: null, qrCodes: [], error: null, durationMs: 0 };
}

async function ocrImagePage(pool: OcrPool, page: PageResult, img: GreyImage, dpi: number | undefined, opts: DocumentOptions): Promise<void> {
  const qr = opts.qr === false ? [] : decodeBarcodes(img, { formats: opts.barcodeFormats });
  page.qrCodes = qr.map((h) => ({ text: h.text, format: h.format }));
  const r = await pool.recognize(img, dpi, opts.autoOrient !== false, wantsGeometry(opts));
  page.text = r.text.replace(/\s+$/, '');
  page.confidence = Math.round(r.confidence * 10) / 10;
  page.rotation = r.rotation;
  if (r.geometry) { page.words = r.geometry.words; page.lines = r.geometry.lines; }
}

let popplerFiles = 0;

/** Reads one document; `renderer` draws the PDF pages that are rendered (see PdfRendererName). */
export async function processDocument(bytes: Uint8Array, mediaType: MediaType, opts: DocumentOptions, pool: OcrPool, hooks: DocumentHooks,
  renderer: PdfRendererName = 'pdf.js'): Promise<DocumentOutcome> {
  const { progress } = hooks;
  const onAllDispatched = hooks.onAllDispatched ?? (() => undefined);
  const dpi = opts.dpi ?? DEFAULTS.dpi;
  const maxPixels = opts.maxPagePixels ?? DEFAULTS.maxPagePixels;
  // at most pool.size pages wait for OCR at any time (+1 being prepared): bounds memory
  const inflight = new Semaphore(pool.size + 1);
  const tasks: Array<Promise<void>> = [];
  const pages: PageResult[] = [];
  // each page's size in pixels as read (hOCR coordinates)
  const sizes = new Map<number, PagePixels>();
  let done = 0;

  const run = (page: PageResult, t0: number, work: () => Promise<void>): void => {
    tasks.push(work().catch((err) => {
      page.error = toErrorInfo(err, 'PAGE_FAILED');
      page.text = '';
      page.confidence = null;
    }).finally(() => {
      page.durationMs = Math.round(performance.now() - t0);
      inflight.release();
      progress(++done, pages.length, page.pageNumber);
    }));
  };

  if (mediaType === 'application/pdf') {
    const h = await openPdf(bytes, opts.password);
    // pdftoppm reads a file: the document is written to the child's scratch folder when its first page
    // is to be rendered (a born-digital document never is). Not for a document opened with a
    // password: pdftoppm takes it only on its command line, where any process in the container could
    // read it; pdf.js renders those.
    let popplerFile: string | null = null;
    const renderFile = (): string | null => {
      if (renderer !== 'poppler' || opts.password) return null;
      if (!popplerFile) {
        popplerFile = join(scratchRoot(), `document-${process.pid}-${++popplerFiles}.pdf`);
        writeFileSync(popplerFile, bytes);
      }
      return popplerFile;
    };
    try {
      const selected = selectPages(h.numPages, opts);
      if (h.numPages === 0) throw new OcrError('INVALID_PDF', 'The PDF has no pages.');
      if (selected.length === 0) throw new OcrError('NO_PAGES', `The page selection matches none of the ${h.numPages} pages.`);
      for (const n of selected) pages.push(emptyPage(n));
      for (const page of pages) {
        await inflight.acquire();
        const t0 = performance.now();
        let needOcr = true;
        try {
          const tl = await readTextLayer(h, page.pageNumber, wantsGeometry(opts) && !opts.forceOcr);
          page.textLayer = { used: tl.verdict.good, reason: tl.verdict.reason, chars: tl.verdict.chars, badRatio: tl.verdict.badRatio };
          if (tl.verdict.good && !opts.forceOcr) {
            needOcr = false;
            page.method = 'text-layer';
            page.text = tl.text;
            sizes.set(page.pageNumber, { width: Math.round((tl.widthPt * dpi) / 72), height: Math.round((tl.heightPt * dpi) / 72) });
            if (tl.geometry) { page.words = tl.geometry.words; page.lines = tl.geometry.lines; }
          }
        } catch (err) {
          page.error = toErrorInfo(err, 'PAGE_FAILED');
          needOcr = false;
        }
        if (!needOcr) {
          if (!page.error && opts.qrOnTextPages && opts.qr !== false) {
            try {
              const r = await renderPage(h, page.pageNumber, dpi, maxPixels, renderFile());
              page.qrCodes = decodeBarcodes(r.image, { formats: opts.barcodeFormats }).map((x) => ({ text: x.text, format: x.format }));
            } catch { /* QR scan of a text page is best effort */ }
          }
          page.durationMs = Math.round(performance.now() - t0);
          inflight.release();
          progress(++done, pages.length, page.pageNumber);
          continue;
        }
        page.method = 'ocr';
        let rendered;
        try {
          rendered = await renderPage(h, page.pageNumber, dpi, maxPixels, renderFile());
        } catch (err) {
          page.error = toErrorInfo(err, 'PAGE_FAILED');
          page.durationMs = Math.round(performance.now() - t0);
          inflight.release();
          progress(++done, pages.length, page.pageNumber);
          continue;
        }
        page.dpi = rendered.dpi;
        page.renderer = rendered.renderer;
        const img = rendered.image;
        sizes.set(page.pageNumber, { width: img.width, height: img.height });
        run(page, t0, () => ocrImagePage(pool, page, img, rendered.dpi, opts));
      }
      onAllDispatched();
      await Promise.all(tasks);
      return await finishOutputs(bytes, mediaType, opts, { pageCount: h.numPages, pages, error: null }, sizes, hooks);
    } finally {
      if (popplerFile) rmSync(popplerFile, { force: true });
      await closePdf(h);
    }
  }

  // images (TIFF may hold several pages)
  const frames = countImageFrames(bytes, mediaType);
  const selected = selectPages(frames, opts);
  if (selected.length === 0) throw new OcrError('NO_PAGES', `The page selection matches none of the ${frames} pages.`);
  for (const n of selected) pages.push(emptyPage(n));
  for (const page of pages) {
    await inflight.acquire();
    const t0 = performance.now();
    let img: GreyImage;
    try {
      img = await decodeImageFrame(bytes, mediaType, page.pageNumber - 1, maxPixels);
    } catch (err) {
      // a single-image document that cannot be decoded fails as a whole
      if (pages.length === 1) { inflight.release(); throw err; }
      page.error = toErrorInfo(err, 'PAGE_FAILED');
      inflight.release();
      progress(++done, pages.length, page.pageNumber);
      continue;
    }
    const frame = img;
    sizes.set(page.pageNumber, { width: frame.width, height: frame.height });
    run(page, t0, () => ocrImagePage(pool, page, frame, undefined, opts));
  }
  onAllDispatched();
  await Promise.all(tasks);
  return finishOutputs(bytes, mediaType, opts, { pageCount: frames, pages, error: null }, sizes, hooks);
}
