import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorInfo } from './errors.ts';
import type { Line, Word } from './geometry.ts';
import type { OcrEngineName, PdfRendererName } from './options.ts';
import { RESULT_SCHEMA_PATH } from './paths.ts';

/** 1.1 added each page's `words` and `lines` (geometry). */
export const SCHEMA_VERSION = '1.1';

export interface QrCode { text: string; format: string }

export interface PageResult {
  pageNumber: number;
  method: 'text-layer' | 'ocr';
  text: string;
  /** Tesseract mean word confidence 0..100 for OCR pages; null for text-layer and failed pages. */
  confidence: number | null;
  qrCodes: QrCode[];
  error: ErrorInfo | null;
  durationMs: number;
  /** Effective render DPI (OCR pages of PDFs). */
  dpi?: number;
  /** What drew the page (OCR pages of PDFs): the engine's PDF renderer, or pdf.js where Poppler failed on it. */
  renderer?: PdfRendererName;
  /** Degrees clockwise the page was turned before recognition (auto-orientation). */
  rotation?: number;
  /**
   * The page's words in reading order, each with its box normalized to the page as seen (0..1 from
   * the top-left corner); absent when geometry was not asked for (option `geometry: false`).
   */
  words?: Word[];
  /** The page's lines: their text, mean confidence, box and the indices of their words in `words`. */
  lines?: Line[];
  /** Why the text layer was or was not used (PDF pages). */
  textLayer?: { used: boolean; reason: string; chars: number; badRatio: number };
}

export interface OcrResult {
  schemaVersion: string;
  source: string;
  sha256: string;
  engine: {
    version: string; languages: string[]; ocr?: OcrEngineName; tesseractJs?: string; tesseract?: string; pdfjs?: string;
    pdfRenderer?: PdfRendererName; poppler?: string;
  };
  status: 'SUCCEEDED' | 'FAILED';
  mediaType: string | null;
  pageCount: number;
  pages: PageResult[];
  text: string;
  qrCodes: Array<{ pageNumber: number; text: string; format: string }>;
  error: ErrorInfo | null;
  /** Time spent on this document, ms: its waits for a free slot behind other documents excluded. */
  durationMs: number;
  /** Time the document waited for a free slot behind other documents, ms (0 when it started at once). */
  queuedMs?: number;
  /** Peak resident memory of the child process while it held this document. */
  peakRssBytes?: number;
  /** The outputs asked for besides this result (option `outputs`): written (their size) or with the error that kept them from being written. */
  outputs?: Array<{ format: 'pdf' | 'hocr'; bytes?: number; error: ErrorInfo | null }>;
}

/** Page texts are joined with a form feed line, like pdftotext. */
export const PAGE_SEPARATOR = '\n\f\n';

export function resultSchema(): object {
  return JSON.parse(readFileSync(RESULT_SCHEMA_PATH, 'utf8'));
}

let validator: ((x: unknown) => boolean) & { errors?: unknown } | null = null;

/** Validates a result against schema/result.schema.json. Returns the list of problems (empty = valid). */
export function validateResult(result: unknown): string[] {
  if (!validator) {
    const require = createRequire(import.meta.url);
    const Ajv = require('ajv').default;
    const ajv = new Ajv({ allErrors: true, strict: false });
    validator = ajv.compile(resultSchema());
  }
  if (!validator!(result)) {
    return ((validator!.errors ?? []) as Array<{ instancePath: string; message: string }>).map((e) => `${e.instancePath || '/'} ${e.message}`);
  }
  return geometryProblems(result as OcrResult);
}

/** Slack for boxes rounded to 4 decimals. */
const ROUNDING = 1.0001e-4;

/**
 * What the schema cannot say about a page's geometry: every line's words are indices into the page's
 * words, in order, each word in exactly one line; a line's text is its words' texts joined by a space
 * and its box holds theirs; no box reaches past the page.
 */
function geometryProblems(result: OcrResult): string[] {
  const problems: string[] = [];
  result.pages.forEach((p, pi) => {
    if (!p.words && !p.lines) return;
    const at = `/pages/${pi}`;
    if (!p.words || !p.lines) { problems.push(`${at} has ${p.words ? 'words but no lines' : 'lines but no words'}`); return; }
    const words = p.words;
    const all = p.lines.flatMap((l) => l.words);
    if (all.length !== words.length || all.some((w, i) => w !== i)) problems.push(`${at}/lines do not list each of the page's ${words.length} words once, in order`);
    for (const [kind, list] of [['words', words], ['lines', p.lines]] as const) {
      list.forEach((x, i) => {
        const b = x.bbox;
        if (b.left + b.width > 1 + ROUNDING || b.top + b.height > 1 + ROUNDING) problems.push(`${at}/${kind}/${i}/bbox reaches past the page`);
      });
    }
    p.lines.forEach((line, li) => {
      const own = line.words.map((wi) => words[wi]).filter((w) => w !== undefined);
      if (own.length !== line.words.length) return; // reported above
      if (line.text !== own.map((w) => w.text).join(' ')) problems.push(`${at}/lines/${li}/text is not its words' texts joined by a space`);
      const l = line.bbox;
      if (own.some(({ bbox: b }) => b.left < l.left - ROUNDING || b.top < l.top - ROUNDING
        || b.left + b.width > l.left + l.width + ROUNDING || b.top + b.height > l.top + l.height + ROUNDING)) {
        problems.push(`${at}/lines/${li}/bbox does not hold its words' boxes`);
      }
    });
  });
  return problems;
}
