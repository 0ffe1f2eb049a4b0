/**
 * The result of a document: what the engine knows before the child reads it (source, hash, versions)
 * and what it makes of the child's outcome (pages, text, QR codes, status).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RunOutcome } from './engine-child.ts';
import type { ErrorInfo } from './errors.ts';
import type { OcrEngineName, PdfRendererName } from './options.ts';
import { PACKAGE_ROOT } from './paths.ts';
import { PAGE_SEPARATOR, SCHEMA_VERSION, type OcrResult } from './result.ts';

const require = createRequire(import.meta.url);
export const WORKER_VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
const TESSERACT_JS_VERSION: string = require('tesseract.js/package.json').version;
const PDFJS_VERSION: string = require('pdfjs-dist/package.json').version;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A FAILED result for a document the engine never read: its input was missing, unreadable or too
 * large (the CLI, the Batch job and the service each find that out before handing it over).
 */
export function failedResult(source: string, error: ErrorInfo, languages: string): OcrResult {
  return {
    schemaVersion: SCHEMA_VERSION, source, sha256: sha256(new Uint8Array(0)), // bytes not read
    engine: { version: WORKER_VERSION, languages: languages.split('+') }, status: 'FAILED', mediaType: null, pageCount: 0,
    pages: [], text: '', qrCodes: [], error, durationMs: 0, queuedMs: 0,
  };
}

/** A document's result before it is read: FAILED with no pages until its outcome says otherwise. */
export function pendingResult(bytes: Uint8Array, source: string, languages: string[], ocrEngine: OcrEngineName, pdfRenderer: PdfRendererName): OcrResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    source,
    sha256: sha256(bytes),
    engine: { version: WORKER_VERSION, languages, ocr: ocrEngine, ...(ocrEngine === 'tesseract.js' ? { tesseractJs: TESSERACT_JS_VERSION } : {}), pdfjs: PDFJS_VERSION,
      pdfRenderer },
    status: 'FAILED',
    mediaType: null,
    pageCount: 0,
    pages: [],
    text: '',
    qrCodes: [],
    error: null,
    durationMs: 0,
  };
}

/**
 * The bytes of each output a result's document got besides the JSON (searchable PDF, hOCR), held
 * beside the result object rather than in it: the result is JSON, stored and sent as such.
 */
const outputBytesByResult = new WeakMap<OcrResult, Partial<Record<'pdf' | 'hocr', Uint8Array>>>();

/** The bytes of a result's output `format` (undefined when it was not asked for or failed: see result.outputs). */
export function outputBytes(result: OcrResult, format: 'pdf' | 'hocr'): Uint8Array | undefined {
  return outputBytesByResult.get(result)?.[format];
}

/** Versions the OCR children reported when they became ready. */
export interface ChildVersions { tesseract?: string; poppler?: string }

/**
 * Fills `result` from the run of its document: the child's outcome (pages, text, QR codes; SUCCEEDED
 * when at least one page was read) or its error.
 */
export function assembleResult(result: OcrResult, run: RunOutcome, versions: ChildVersions): void {
  if (run.peakRss) result.peakRssBytes = run.peakRss;
  if (versions.tesseract) result.engine.tesseract = versions.tesseract;
  if (versions.poppler) result.engine.poppler = versions.poppler;
  if (run.error) {
    result.error = run.error;
    return;
  }
  const o = run.outcome!;
  result.pageCount = o.pageCount;
  result.pages = o.pages;
  result.text = o.pages.filter((p) => !p.error).map((p) => p.text).join(PAGE_SEPARATOR);
  if (o.outputs) {
    const held: Partial<Record<'pdf' | 'hocr', Uint8Array>> = {};
    result.outputs = o.outputs.map((x) => {
      if (x.bytes) held[x.format] = x.bytes;
      return { format: x.format, ...(x.bytes ? { bytes: x.bytes.byteLength } : {}), error: x.error };
    });
    outputBytesByResult.set(result, held);
  }
  result.qrCodes = o.pages.flatMap((p) => p.qrCodes.map((q) => ({ pageNumber: p.pageNumber, text: q.text, format: q.format })));
  const good = o.pages.filter((p) => !p.error);
  if (good.length > 0) {
    result.status = 'SUCCEEDED';
  } else {
    const first = o.pages.find((p) => p.error)?.error;
    result.error = first ?? { code: 'INTERNAL_ERROR', message: 'No page could be read.' };
    if (first) result.error = { code: first.code, message: `No page could be read; first error: ${first.message}` };
  }
}
