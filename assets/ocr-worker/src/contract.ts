/**
 * The container contract: every environment variable the worker reads, the exit codes of a Batch run
 * and where results are written. The library's constructs set these variables and read these objects
 * (their side: src/common/worker-contract.ts and src/ocr-service-cluster/contract.ts), and a test of
 * the library checks both sides against this file.
 *
 * That test reads this file as text, so it keeps to one shape: each table is
 * `export const NAME = {` ... `} as const;` with one `KEY: 'value',` or `KEY: number,` entry per
 * line, each entry preceded by its `/** ... *\/` description on the line(s) above. README.md's
 * "Container contract" section lists the same entries (checked by test/contract.test.ts).
 */

/** Read in both modes. */
export const COMMON_ENV = {
  /** Default OCR languages, tesseract codes joined by `+` (default `eng`); service requests may choose among these only. */
  LANGUAGES: 'OCR_LANGUAGES',
  /** OCR backend: `tesseract.js` (default, the image's `ENV`) or `tesseract` (native Tesseract, the image built with `--build-arg OCR_ENGINE=tesseract`; see "OCR engines"). */
  OCR_ENGINE: 'OCR_ENGINE',
  /** What draws the PDF pages that go to OCR: `pdf.js` or `poppler` (pdftoppm; see "PDF renderer"); default `poppler` with `OCR_ENGINE=tesseract`, else `pdf.js`. */
  PDF_RENDERER: 'OCR_PDF_RENDERER',
  /** Tesseract workers: Batch mode, the pages of a document in parallel; service mode, bounded child processes, documents in parallel. Default: the cgroup's CPUs. */
  WORKERS: 'OCR_WORKERS',
  /** Per-document time bound, in seconds (default 300). */
  DOC_TIMEOUT_SECONDS: 'OCR_DOC_TIMEOUT_SECONDS',
  /** Per-document memory bound, RSS of its process in MiB (default 2048). */
  DOC_MEMORY_MB: 'OCR_DOC_MEMORY_MB',
  /** Largest document in bytes, `TOO_LARGE` above it (Batch mode: default 100 MiB, checked from ContentLength before download; service mode: default 50 MiB, 413). */
  MAX_DOCUMENT_BYTES: 'OCR_MAX_DOCUMENT_BYTES',
  /** CloudWatch namespace of the EMF metrics on stdout (default `CdkOcrConstructs`). */
  METRICS_NAMESPACE: 'OCR_METRICS_NAMESPACE',
  /** Value of the `Service` metric dimension (default `ocr-worker` in Batch mode, `ocr-service` in service mode). */
  METRICS_SERVICE: 'OCR_METRICS_SERVICE',
  /** Folder holding `<lang>.traineddata.gz`, instead of the `@tesseract.js-data/<lang>` packages. */
  LANG_PATH: 'OCR_LANG_PATH',
  /** Command of native Tesseract (default `tesseract`). */
  TESSERACT_COMMAND: 'OCR_TESSERACT_COMMAND',
  /** Command of Poppler's renderer (default `pdftoppm`). */
  PDFTOPPM_COMMAND: 'OCR_PDFTOPPM_COMMAND',
} as const;

/** Read by the Batch entry point (src/batch.ts, the image's default command). */
export const BATCH_ENV = {
  /** Bucket the documents are read from (required). */
  INPUT_BUCKET: 'OCR_INPUT_BUCKET',
  /** Bucket results, summaries and manifests live in (required). */
  OUTPUT_BUCKET: 'OCR_OUTPUT_BUCKET',
  /** Key prefix of the job folders in the output bucket (default `results/`; a missing trailing `/` is added). */
  OUTPUT_PREFIX: 'OCR_OUTPUT_PREFIX',
  /** The API's job id: the job's folder is `${OCR_OUTPUT_PREFIX}${OCR_JOB_ID}/` (required). */
  JOB_ID: 'OCR_JOB_ID',
  /** Key of the one document in the input bucket; exactly one of this and `OCR_MANIFEST_KEY`. */
  INPUT_KEY: 'OCR_INPUT_KEY',
  /** Key of the job's manifest in the output bucket; exactly one of this and `OCR_INPUT_KEY`. */
  MANIFEST_KEY: 'OCR_MANIFEST_KEY',
  /** Resolution PDF pages are drawn at for OCR (default 300; 50 to 1200). */
  DPI: 'OCR_DPI',
  /** Pages read per document; unset = all. */
  MAX_PAGES: 'OCR_MAX_PAGES',
} as const;

/** Read by the HTTP service (src/service/main.ts). */
export const SERVICE_ENV = {
  /** `service` in a container: listen on all interfaces. */
  MODE: 'OCR_MODE',
  /** TCP port of the HTTP server (default 8000; `0`: any free port, logged). */
  PORT: 'PORT',
  /** Listen address (default `0.0.0.0` with `OCR_MODE=service` or AWS storage, else `127.0.0.1`). */
  HOST: 'HOST',
  /** DynamoDB status table; with `OCR_DOCUMENTS_BUCKET`, AWS storage, without both local mode. */
  TABLE_NAME: 'OCR_TABLE_NAME',
  /** S3 bucket of uploaded documents and of results. */
  DOCUMENTS_BUCKET: 'OCR_DOCUMENTS_BUCKET',
  /** Key prefix of documents uploaded through `POST /extract`, `${prefix}${document_id}/${safe file name}` (default `uploads/`). */
  UPLOADS_PREFIX: 'OCR_UPLOADS_PREFIX',
  /** Key prefix of result objects (default `results/`; see the result layout below). */
  RESULTS_PREFIX: 'OCR_RESULTS_PREFIX',
  /** Local mode: folder for status items, uploads and results; unset = memory only. */
  DATA_DIR: 'OCR_DATA_DIR',
  /** Redis/Valkey result cache, `rediss://host:port` (TLS) or `redis://`; unset: a memory cache in local mode, none with AWS storage. */
  REDIS_URL: 'OCR_REDIS_URL',
  /** Result cache host, when `OCR_REDIS_URL` is unset. */
  REDIS_HOST: 'OCR_REDIS_HOST',
  /** Result cache port (default 6379). */
  REDIS_PORT: 'OCR_REDIS_PORT',
  /** `false` for a cache without TLS (default `true`). */
  REDIS_TLS: 'OCR_REDIS_TLS',
  /** AUTH token of the cache (a container secret). */
  REDIS_AUTH_TOKEN: 'OCR_REDIS_AUTH_TOKEN',
  /** Time-to-live of cache entries, in seconds (default 7 days). */
  CACHE_TTL_SECONDS: 'OCR_CACHE_TTL_SECONDS',
  /** Bound on one HTTP request, body included, in seconds (default 30): 408 while the body is arriving, else 503; the socket is closed. */
  REQUEST_TIMEOUT_SECONDS: 'OCR_REQUEST_TIMEOUT_SECONDS',
  /** After SIGTERM, how long documents in flight may go on before they are handed back (default 100). */
  SHUTDOWN_GRACE_SECONDS: 'OCR_SHUTDOWN_GRACE_SECONDS',
  /** How long a PROCESSING claim holds, in seconds, renewed every third of it (default `max(OCR_DOC_TIMEOUT_SECONDS + 60, 300)`). */
  LEASE_SECONDS: 'OCR_LEASE_SECONDS',
  /** Claims per document before it is FAILED with `TOO_MANY_ATTEMPTS` (default 3). */
  MAX_ATTEMPTS: 'OCR_MAX_ATTEMPTS',
  /** Documents accepted but not finished per task; beyond it 503 + Retry-After (default 8 per worker). */
  MAX_QUEUED_DOCUMENTS: 'OCR_MAX_QUEUED_DOCUMENTS',
  /** Comma-separated ARNs of the SNS topics a Textract Start's NotificationChannel may name (the task role may publish to them); unset: none. */
  TEXTRACT_NOTIFICATION_TOPICS: 'OCR_TEXTRACT_NOTIFICATION_TOPICS',
  /** Comma-separated buckets a Textract Start's OutputConfig may name besides the documents bucket (the task role may write to them); unset: none. */
  TEXTRACT_OUTPUT_BUCKETS: 'OCR_TEXTRACT_OUTPUT_BUCKETS',
  /** OTLP/HTTP traces URL of an OpenTelemetry collector, e.g. `http://127.0.0.1:4318/v1/traces`: requests are traced to it (see "Tracing"). Unset: no tracing. */
  OTLP_TRACES_ENDPOINT: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
} as const;

/** The value of `OCR_MODE` that runs the HTTP service. */
export const SERVICE_MODE = {
  /** `OCR_MODE=service`. */
  MODE_SERVICE: 'service',
} as const;

/** Internal: set by the engine for the OCR child processes it starts (src/engine.ts -> src/child.ts), never by a deployment. */
export const INTERNAL_ENV = {
  /** Tesseract workers in the child. */
  CHILD_WORKERS: 'OCR_CHILD_WORKERS',
  /** Languages the child's workers start with. */
  CHILD_LANGUAGES: 'OCR_CHILD_LANGUAGES',
  /** OCR backend of the child. */
  CHILD_ENGINE: 'OCR_CHILD_ENGINE',
  /** PDF renderer of the child. */
  CHILD_PDF_RENDERER: 'OCR_CHILD_PDF_RENDERER',
  /** The child's own scratch folder, removed when it exits. */
  SCRATCH_DIR: 'OCR_SCRATCH_DIR',
  /** Tests only: milliseconds the child waits before writing a document's outputs (searchable PDF, hOCR). */
  TEST_OUTPUT_STALL_MS: 'OCR_TEST_OUTPUT_STALL_MS',
} as const;

/** Set by the worker for the programs it runs. */
export const PROGRAM_ENV = {
  /** One thread per native Tesseract process: the worker runs one process per worker already. */
  OMP_THREAD_LIMIT: 'OMP_THREAD_LIMIT',
} as const;

/** Debugging only: no deployment sets them. */
export const DEBUG_ENV = {
  /** Non-empty: the QR decoder writes the time of each attempt to stderr. */
  QR_DEBUG: 'QR_DEBUG',
} as const;

/** Set by the platform the container runs on, not by the library. */
export const PLATFORM_ENV = {
  /** AWS Batch array jobs: child i processes its share of the manifest, `children[i]` (documents `[first, first + count)`); unset: all. */
  BATCH_JOB_ARRAY_INDEX: 'AWS_BATCH_JOB_ARRAY_INDEX',
  /** Amazon ECS: the task metadata endpoint (the service names its claims after its task). */
  ECS_CONTAINER_METADATA_URI_V4: 'ECS_CONTAINER_METADATA_URI_V4',
} as const;

/**
 * Exit codes of a Batch run. 70 and 75 are sysexits.h's EX_SOFTWARE (internal software error) and
 * EX_TEMPFAIL (try again later): only 75 is worth a retry.
 */
export const EXIT = {
  /** Every document of this run has a result (a failed document is a result too). */
  OK: 0,
  /** Configuration error (environment, manifest, language data): a retry fails the same way. */
  CONFIG: 1,
  /** Unexpected error, a bug: a retry fails the same way. */
  UNEXPECTED: 70,
  /** Transient infrastructure failure (S3 throttling, the network, an OCR process that cannot start): retry. */
  INFRA: 75,
  /** Stopped by SIGTERM without writing the summary: the job did not finish. */
  SIGTERM: 143,
} as const;

/**
 * Where the results are. Batch mode, in the output bucket under `${OCR_OUTPUT_PREFIX}${OCR_JOB_ID}/`:
 * `manifest.json` (written by the submitter), `results/NNNNN.json` and `.txt` per document (NNNNN its
 * zero-padded index in the manifest; the `.json` is written last, so it marks the document complete;
 * `results/NNNNN.pdf` and `.hocr` beside it, written before it, when the job's `outputs` ask for them;
 * with `outputs` `textract`, `results/NNNNN.textract.json`, the whole GetDocumentTextDetection
 * response, and `results/NNNNN.textract/1`, `/2`, ..., the same response in pages of 1,000 blocks,
 * each page a Get answer without NextToken, their count in the summary's `textractPages`)
 * and `summaries/NNNNN.json` per array child (NNNNN its array index), written when the child finished.
 * Service mode, in the documents bucket: `${OCR_RESULTS_PREFIX}${document_id}/result.json` and `.txt`
 * (and `result.pdf`, `result.hocr` when the request's `outputs` ask for them).
 */
export const RESULT_LAYOUT = {
  /** The job's manifest, in the job folder. */
  MANIFEST: 'manifest.json',
  /** Folder of per-document results, in the job folder. */
  RESULTS_FOLDER: 'results/',
  /** Folder of per-child summaries, in the job folder. */
  SUMMARIES_FOLDER: 'summaries/',
  /** Digits of the zero-padded indexes in result and summary names. */
  INDEX_DIGITS: 5,
  /** Batch mode: suffix of the folder of a document's Textract response in pages, `NNNNN.textract/1`, `/2`, ... */
  TEXTRACT_PAGES_SUFFIX: '.textract/',
  /** Batch mode: blocks per Textract page object, GetDocumentTextDetection's largest MaxResults. */
  TEXTRACT_PAGE_BLOCKS: 1000,
  /** Service mode: the result JSON, in the document's folder. */
  SERVICE_RESULT: 'result.json',
  /** Service mode: the plain text, in the document's folder. */
  SERVICE_TEXT: 'result.txt',
} as const;

const padIndex = (n: number): string => String(n).padStart(RESULT_LAYOUT.INDEX_DIGITS, '0');

/** `${outputPrefix}${jobId}/`: the job's folder in the output bucket. */
export function jobFolder(outputPrefix: string, jobId: string): string {
  return `${outputPrefix}${jobId}/`;
}

/** Keys of one document's results in a Batch job. */
export function batchResultKeys(outputPrefix: string, jobId: string, index: number): { json: string; txt: string } {
  const base = `${jobFolder(outputPrefix, jobId)}${RESULT_LAYOUT.RESULTS_FOLDER}${padIndex(index)}`;
  return { json: `${base}.json`, txt: `${base}.txt` };
}

/**
 * Key of one document's output besides its JSON result in a Batch job (job option `outputs`): the
 * searchable PDF (`NNNNN.pdf`), hOCR (`NNNNN.hocr`) or Amazon Textract's GetDocumentTextDetection
 * response (`NNNNN.textract.json`), beside `NNNNN.json`, written before it.
 */
export function batchOutputKey(outputPrefix: string, jobId: string, index: number, format: 'pdf' | 'hocr' | 'textract'): string {
  const extension = format === 'textract' ? 'textract.json' : format;
  return `${jobFolder(outputPrefix, jobId)}${RESULT_LAYOUT.RESULTS_FOLDER}${padIndex(index)}.${extension}`;
}

/**
 * Key of page `page` (1, 2, ...) of one document's Textract response in a Batch job: the response's
 * fields with blocks `(page - 1) * TEXTRACT_PAGE_BLOCKS` to `page * TEXTRACT_PAGE_BLOCKS`, so that
 * GetDocumentTextDetection reads one or two pages, never the whole response.
 */
export function batchTextractPageKey(outputPrefix: string, jobId: string, index: number, page: number): string {
  return `${jobFolder(outputPrefix, jobId)}${RESULT_LAYOUT.RESULTS_FOLDER}${padIndex(index)}${RESULT_LAYOUT.TEXTRACT_PAGES_SUFFIX}${page}`;
}

/** Key of one array child's summary in a Batch job. */
export function batchSummaryKey(outputPrefix: string, jobId: string, arrayIndex: number): string {
  return `${jobFolder(outputPrefix, jobId)}${RESULT_LAYOUT.SUMMARIES_FOLDER}${padIndex(arrayIndex)}.json`;
}

/** Keys of one document's results in service mode. */
export function serviceResultKeys(resultsPrefix: string, documentId: string): { json: string; txt: string } {
  return { json: `${resultsPrefix}${documentId}/${RESULT_LAYOUT.SERVICE_RESULT}`, txt: `${resultsPrefix}${documentId}/${RESULT_LAYOUT.SERVICE_TEXT}` };
}
