/**
 * The closed list of error codes a result can carry (document level or page level).
 * Documented in README.md; the JSON Schema (schema/result.schema.json) enumerates the same list.
 */
export const ERROR_CODES = [
  'EMPTY_INPUT', // zero bytes
  'INPUT_NOT_FOUND', // the input (S3 object, file) does not exist
  'INPUT_UNREADABLE', // the input cannot be read: a directory or no permission (CLI), access denied (S3)
  'TOO_LARGE', // input larger than maxDocumentBytes
  'UNSUPPORTED_MEDIA_TYPE', // content is not a PDF or a supported image type
  'INVALID_PDF', // pdf.js cannot open the file (broken structure)
  'INVALID_IMAGE', // image header recognised but the image cannot be decoded
  'PASSWORD_REQUIRED', // encrypted PDF, no password given
  'INCORRECT_PASSWORD', // encrypted PDF, the password given does not open it
  'PAGE_FAILED', // one page could not be read or rendered (page-level)
  'OCR_FAILED', // tesseract failed on a page (page-level)
  'NO_PAGES', // the page selection matched no page of the document
  'TIMEOUT', // the document exceeded its time limit; its child process was killed
  'RESOURCE_LIMIT', // the document exceeded its memory limit; its child process was killed
  'WORKER_CRASHED', // the child process died for a reason not attributed to a limit
  'OUTPUT_REFUSED', // an output other than the JSON result was asked for and is refused (a searchable copy of an encrypted PDF)
  'OUTPUT_FAILED', // an output other than the JSON result (searchable PDF, hOCR) could not be written
  'INTERNAL_ERROR', // a bug: anything not classified above
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class OcrError extends Error {
  code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'OcrError';
    this.code = code;
  }
}

/** The engine could not do its job for reasons unrelated to a document (child cannot start...). */
export class EngineInfrastructureError extends Error {
  constructor(message: string) { super(message); this.name = 'EngineInfrastructureError'; }
}

export function toErrorInfo(err: unknown, fallback: ErrorCode = 'INTERNAL_ERROR'): ErrorInfo {
  if (err instanceof OcrError) return { code: err.code, message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { code: fallback, message: message || fallback };
}
