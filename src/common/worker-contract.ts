/**
 * The Batch side of the contract between the constructs and the worker container: the environment
 * BatchOcrProcessor and its submit handler give a job, the exit codes the job definition's retry
 * strategy reads, and where the worker writes what the status handler reads. The worker declares the
 * same names in `assets/ocr-worker/src/contract.ts` (same keys, same values); test/worker-contract.test.ts
 * checks that both sides agree. The service side is `src/ocr-service-cluster/contract.ts`.
 *
 * This file must not import aws-cdk-lib: the Lambda handlers bundle it.
 */

/** Environment variables of a Batch job: set on the job definition, or per job through containerOverrides. */
export const WorkerBatchEnvironment = {
  /** Bucket the documents are read from. */
  INPUT_BUCKET: 'OCR_INPUT_BUCKET',
  /** Bucket results, summaries and manifests live in. */
  OUTPUT_BUCKET: 'OCR_OUTPUT_BUCKET',
  /** Key prefix of the job folders in the output bucket, ending with `/`. */
  OUTPUT_PREFIX: 'OCR_OUTPUT_PREFIX',
  /** Per job: the job's id, which names its folder. */
  JOB_ID: 'OCR_JOB_ID',
  /** Per job: the one document's key (single-document jobs). */
  INPUT_KEY: 'OCR_INPUT_KEY',
  /** Per job: the manifest's key in the output bucket (manifest and array jobs). */
  MANIFEST_KEY: 'OCR_MANIFEST_KEY',
  /** Resolution PDF pages are drawn at for OCR. */
  DPI: 'OCR_DPI',
  /** Pages read per document; unset = all. */
  MAX_PAGES: 'OCR_MAX_PAGES',
  /** OCR languages, tesseract codes joined by `+`. */
  LANGUAGES: 'OCR_LANGUAGES',
  /** OCR backend (`OcrEngine`). */
  OCR_ENGINE: 'OCR_ENGINE',
  /** PDF renderer (`PdfRenderer`). */
  PDF_RENDERER: 'OCR_PDF_RENDERER',
  /** Documents processed in parallel per task. */
  WORKERS: 'OCR_WORKERS',
  /** Per-document time bound, in seconds. */
  DOC_TIMEOUT_SECONDS: 'OCR_DOC_TIMEOUT_SECONDS',
  /** Per-document memory bound, in MiB. */
  DOC_MEMORY_MB: 'OCR_DOC_MEMORY_MB',
  /** Largest document, in bytes. */
  MAX_DOCUMENT_BYTES: 'OCR_MAX_DOCUMENT_BYTES',
  /** Namespace of the worker's EMF metrics. */
  METRICS_NAMESPACE: 'OCR_METRICS_NAMESPACE',
  /** Value of the `Service` dimension of the worker's EMF metrics. */
  METRICS_SERVICE: 'OCR_METRICS_SERVICE',
} as const;

/** Exit codes of a Batch job's container that the constructs act on. */
export const WorkerExitCode = {
  /** Every document has a result. */
  OK: 0,
  /** Configuration error: not retried. */
  CONFIG: 1,
  /** Unexpected error (a bug): not retried. */
  UNEXPECTED: 70,
  /** Transient infrastructure failure: the only code the job definition retries. */
  INFRA: 75,
} as const;

/** Where a Batch job's objects are, under `${outputPrefix}${jobId}/` in the output bucket. */
export const WorkerResultLayout = {
  /** The manifest the submit handler writes and the worker reads. */
  MANIFEST: 'manifest.json',
  /** Per-document results, `NNNNN.json` and `NNNNN.txt`. */
  RESULTS_FOLDER: 'results/',
  /** Per-child summaries, `NNNNN.json`, which the status and job-state handlers add up. */
  SUMMARIES_FOLDER: 'summaries/',
  /** Digits of the zero-padded indexes in result and summary names. */
  INDEX_DIGITS: 5,
  /** Suffix of the folder of a document's Textract response in pages, `NNNNN.textract/1`, `/2`, ... */
  TEXTRACT_PAGES_SUFFIX: '.textract/',
  /** Blocks per Textract page object, GetDocumentTextDetection's largest MaxResults. */
  TEXTRACT_PAGE_BLOCKS: 1000,
} as const;

/** The job's folder in the output bucket. */
export function workerJobFolder(outputPrefix: string, jobId: string): string {
  return `${outputPrefix}${jobId}/`;
}

/** Key of a job's manifest. */
export function workerManifestKey(outputPrefix: string, jobId: string): string {
  return `${workerJobFolder(outputPrefix, jobId)}${WorkerResultLayout.MANIFEST}`;
}

/** Key prefix of a job's summaries (list it to find them). */
export function workerSummariesPrefix(outputPrefix: string, jobId: string): string {
  return `${workerJobFolder(outputPrefix, jobId)}${WorkerResultLayout.SUMMARIES_FOLDER}`;
}

/** Key of one array child's summary (`NNNNN.json`, its zero-padded array index; 0 for a plain job). */
export function workerSummaryKey(outputPrefix: string, jobId: string, arrayIndex: number): string {
  return `${workerSummariesPrefix(outputPrefix, jobId)}${String(arrayIndex).padStart(WorkerResultLayout.INDEX_DIGITS, '0')}.json`;
}

/**
 * Key of page `page` (1, 2, ...) of a document's Textract response (job option `outputs` `textract`):
 * the response's fields with blocks `(page - 1) * TEXTRACT_PAGE_BLOCKS` up to `page * TEXTRACT_PAGE_BLOCKS`.
 * The child's summary gives their number and the blocks in all as the document's `textractPages`.
 */
export function workerTextractPageKey(outputPrefix: string, jobId: string, index: number, page: number): string {
  const name = String(index).padStart(WorkerResultLayout.INDEX_DIGITS, '0');
  return `${workerJobFolder(outputPrefix, jobId)}${WorkerResultLayout.RESULTS_FOLDER}${name}${WorkerResultLayout.TEXTRACT_PAGES_SUFFIX}${page}`;
}
