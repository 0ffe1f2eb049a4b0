import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { COMMON_ENV } from './contract.ts';

/** Per-document processing options (CLI flags, manifest options, service request options). */
export interface DocumentOptions {
  /** Tesseract languages, '+'-separated. Default 'eng'. */
  languages?: string;
  /** Render resolution for pages that need OCR. Default 300. */
  dpi?: number;
  /** Process at most this many pages (after `pages` selection). Default: all. */
  maxPages?: number | null;
  /** Page selection, e.g. "1-3,5,9-". Default: all pages. */
  pages?: string | null;
  /** Password for encrypted PDFs. */
  password?: string | null;
  /** Upper bound on the pixels of one rendered or decoded page; larger pages are rendered at a lower DPI. Default 36,000,000 (A4 at 600 dpi). */
  maxPagePixels?: number;
  /** Look for QR codes (and `barcodeFormats`) on every image and rendered page. Default true. */
  qr?: boolean;
  /** ZXing format names to look for. Default ['QR_CODE']. */
  barcodeFormats?: string[];
  /** Correct pages scanned sideways or upside down. Default true. */
  autoOrient?: boolean;
  /** OCR every page even when its text layer passes the quality check. Default false. */
  forceOcr?: boolean;
  /** Also render text-layer pages to look for QR codes on them (slower). Default false. */
  qrOnTextPages?: boolean;
  /** Give each page its words and lines with their boxes (`words`, `lines`). Default true; false for text only. */
  geometry?: boolean;
  /**
   * What to write besides the JSON result: 'pdf' a searchable PDF, 'hocr' an hOCR page. Default
   * ['json']. Both are made from the word geometry (computed for them even with `geometry: false`).
   */
  outputs?: OutputFormat[];
}

/** The outputs a document can have: its JSON result (always), a searchable PDF, hOCR. */
export type OutputFormat = 'json' | 'pdf' | 'hocr';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'pdf', 'hocr'];

/** Media types of the outputs besides the JSON result. */
export const OUTPUT_CONTENT_TYPES = { pdf: 'application/pdf', hocr: 'application/xhtml+xml; charset=utf-8' } as const;

/** Upper bound on a searchable PDF or hOCR output of one document: past it, the output fails with OUTPUT_FAILED. */
export const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/** `outputs` checked: a non-empty list of known formats; throws a plain Error naming `source`. */
export function parseOutputs(value: unknown, source: string): OutputFormat[] {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && (OUTPUT_FORMATS as readonly string[]).includes(v))) {
    throw new Error(`${source} must be a non-empty list out of ${OUTPUT_FORMATS.map((f) => `'${f}'`).join(', ')}.`);
  }
  return [...new Set(value as OutputFormat[])];
}

/**
 * The OCR backend: 'tesseract.js' (default; WebAssembly, nothing to install beyond npm) or
 * 'tesseract' (native Tesseract from the Debian package tesseract-ocr, same model; faster, see
 * README "OCR engines"). Chosen per engine (OCR_ENGINE, --ocr-engine), not per document.
 */
export type OcrEngineName = 'tesseract.js' | 'tesseract';
export const OCR_ENGINES: readonly OcrEngineName[] = ['tesseract.js', 'tesseract'];

/** `value` if it is one of `names`, else an error naming `source` (OCR_ENGINE, --ocr-engine...) and the choices. */
function oneOf<T extends string>(names: readonly T[], value: string, source: string): T {
  if ((names as readonly string[]).includes(value)) return value as T;
  throw new Error(`${source} must be one of ${names.map((e) => `'${e}'`).join(', ')}, got '${value}'.`);
}

/** Validates an OCR engine name; `source` names where it came from (OCR_ENGINE, --ocr-engine...). */
export function parseOcrEngine(value: string | undefined, source: string): OcrEngineName {
  if (value === undefined || value === '') return 'tesseract.js';
  return oneOf(OCR_ENGINES, value, source);
}

/**
 * What draws the PDF pages that go to OCR: 'pdf.js' (with Skia; npm packages only) or 'poppler'
 * (Debian's pdftoppm, about half pdf.js' CPU per page; see src/poppler.ts). pdf.js reads the text
 * layers either way. Chosen per engine (OCR_PDF_RENDERER, --pdf-renderer).
 */
export type PdfRendererName = 'pdf.js' | 'poppler';
export const PDF_RENDERERS: readonly PdfRendererName[] = ['pdf.js', 'poppler'];

/**
 * The renderer that goes with an OCR backend when none is named: the native backend (installed with
 * Debian packages anyway, and chosen where OCR time is the bill) renders with Poppler, tesseract.js
 * (npm packages only) with pdf.js.
 */
export function defaultPdfRenderer(ocrEngine: OcrEngineName): PdfRendererName {
  return ocrEngine === 'tesseract' ? 'poppler' : 'pdf.js';
}

/** Validates a PDF renderer name; unset, the backend's default (defaultPdfRenderer). */
export function parsePdfRenderer(value: string | undefined, source: string, ocrEngine: OcrEngineName): PdfRendererName {
  if (value === undefined || value === '') return defaultPdfRenderer(ocrEngine);
  return oneOf(PDF_RENDERERS, value, source);
}

/**
 * OCR_ENGINE and OCR_PDF_RENDERER of an environment (the Batch job's, the service's); throws a plain
 * Error naming the variable, which each caller turns into its own configuration error.
 */
export function parseBackendEnvironment(env: NodeJS.ProcessEnv): { ocrEngine: OcrEngineName; pdfRenderer: PdfRendererName } {
  const ocrEngine = parseOcrEngine(env[COMMON_ENV.OCR_ENGINE], COMMON_ENV.OCR_ENGINE);
  return { ocrEngine, pdfRenderer: parsePdfRenderer(env[COMMON_ENV.PDF_RENDERER], COMMON_ENV.PDF_RENDERER, ocrEngine) };
}

export const DEFAULTS = {
  languages: 'eng',
  dpi: 300,
  maxPagePixels: 36_000_000,
  timeoutSeconds: 300,
  memoryMb: 2048,
  maxDocumentBytes: 100 * 1024 * 1024,
} as const;

/** Parses "1-3,5,9-" into a predicate over 1-based page numbers. Throws on bad syntax. */
export function parsePageRange(spec: string): (n: number) => boolean {
  const parts = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (parts.length === 0) throw new Error(`Invalid page range '${spec}'.`);
  const ranges: Array<[number, number]> = [];
  for (const p of parts) {
    const m = /^(\d+)?\s*(-)?\s*(\d+)?$/.exec(p);
    if (!m || (!m[1] && !m[3])) throw new Error(`Invalid page range '${spec}'.`);
    const a = m[1] ? Number(m[1]) : 1;
    const b = m[2] ? (m[3] ? Number(m[3]) : Infinity) : a;
    if (a < 1 || b < a) throw new Error(`Invalid page range '${spec}'.`);
    ranges.push([a, b]);
  }
  return (n) => ranges.some(([a, b]) => n >= a && n <= b);
}

/** Picks the page numbers to process out of 1..pageCount. */
export function selectPages(pageCount: number, opts: DocumentOptions): number[] {
  const inRange = opts.pages ? parsePageRange(opts.pages) : () => true;
  const out: number[] = [];
  for (let n = 1; n <= pageCount; n++) if (inRange(n)) out.push(n);
  return opts.maxPages && opts.maxPages > 0 ? out.slice(0, opts.maxPages) : out;
}

/**
 * CPUs this container may really use: the cgroup v2 cpu.max quota (or cgroup v1 CFS quota), capped by
 * os.availableParallelism() (which honours the affinity mask). Never the host's core count alone.
 */
export function availableCpus(): number {
  const host = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  let quota: number | null = null;
  try {
    if (existsSync('/sys/fs/cgroup/cpu.max')) {
      const [q, p] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
      if (q !== 'max') quota = Number(q) / Number(p);
    } else if (existsSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')) {
      const q = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us', 'utf8'));
      const p = Number(readFileSync('/sys/fs/cgroup/cpu/cpu.cfs_period_us', 'utf8'));
      if (q > 0 && p > 0) quota = q / p;
    }
  } catch {
    quota = null;
  }
  const n = quota && Number.isFinite(quota) ? Math.min(host, Math.ceil(quota - 0.01)) : host;
  return Math.max(1, n);
}
