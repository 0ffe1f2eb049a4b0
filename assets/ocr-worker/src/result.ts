import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ErrorInfo } from './errors.ts';
import type { OcrEngineName, PdfRendererName } from './options.ts';
import { RESULT_SCHEMA_PATH } from './paths.ts';

export const SCHEMA_VERSION = '1.0';

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
  if (validator!(result)) return [];
  return ((validator!.errors ?? []) as Array<{ instancePath: string; message: string }>).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
