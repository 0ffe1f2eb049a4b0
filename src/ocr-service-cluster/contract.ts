/**
 * The contract between `OcrServiceCluster` (the infrastructure) and the OCR service container
 * (`assets/ocr-worker`, HTTP mode). Both sides import these names, so the construct, the stream
 * handler, the service and their tests agree on one spelling. This file must not import aws-cdk-lib:
 * the stream handler bundles it.
 *
 * docs/ocr-service-cluster.md, section "Service container contract", describes the semantics.
 */

/**
 * Environment variables the construct sets on the service container.
 */
export class OcrServiceEnvironment {
  /** `service`: the worker image starts its HTTP server instead of a one-shot batch run. */
  public static readonly MODE = 'OCR_MODE';
  /** The value of `OCR_MODE` for the HTTP service. */
  public static readonly MODE_SERVICE = 'service';
  /** TCP port the HTTP server listens on (all interfaces). */
  public static readonly PORT = 'PORT';
  /** DynamoDB table holding one status item per document (partition key `document_id`). */
  public static readonly TABLE_NAME = 'OCR_TABLE_NAME';
  /** S3 bucket for uploaded documents and for results. */
  public static readonly DOCUMENTS_BUCKET = 'OCR_DOCUMENTS_BUCKET';
  /** Key prefix for documents uploaded through `POST /extract` (ends with `/`). */
  public static readonly UPLOADS_PREFIX = 'OCR_UPLOADS_PREFIX';
  /** Key prefix for result objects (ends with `/`): `${prefix}${document_id}/result.json` and `.txt`. */
  public static readonly RESULTS_PREFIX = 'OCR_RESULTS_PREFIX';
  /** Redis/Valkey endpoint as a URL, `rediss://host:port` (TLS); unset = no cache. */
  public static readonly REDIS_URL = 'OCR_REDIS_URL';
  /** Redis/Valkey host name (same endpoint as `OCR_REDIS_URL`). */
  public static readonly REDIS_HOST = 'OCR_REDIS_HOST';
  /** Redis/Valkey port. */
  public static readonly REDIS_PORT = 'OCR_REDIS_PORT';
  /** `true` when the cache requires TLS (always, for the cache the construct creates). */
  public static readonly REDIS_TLS = 'OCR_REDIS_TLS';
  /** AUTH token of the cache, injected from Secrets Manager as a container secret. */
  public static readonly REDIS_AUTH_TOKEN = 'OCR_REDIS_AUTH_TOKEN';
  /** Time-to-live of cache entries, in seconds. */
  public static readonly CACHE_TTL_SECONDS = 'OCR_CACHE_TTL_SECONDS';
  /** Upper bound on handling one HTTP request (reading the body included); then 408/503 and the socket is closed. */
  public static readonly REQUEST_TIMEOUT_SECONDS = 'OCR_REQUEST_TIMEOUT_SECONDS';
  /** After SIGTERM: how long in-flight documents may keep running before they are handed back (status PENDING). */
  public static readonly SHUTDOWN_GRACE_SECONDS = 'OCR_SHUTDOWN_GRACE_SECONDS';
  /** How long a PROCESSING claim is valid without renewal (`lease_expires_at`). */
  public static readonly LEASE_SECONDS = 'OCR_LEASE_SECONDS';
  /**
   * Claims per document before the service gives up (status FAILED, `error_code` TOO_MANY_ATTEMPTS):
   * a document that kills its task is not retried forever.
   */
  public static readonly MAX_ATTEMPTS = 'OCR_MAX_ATTEMPTS';
  /** Largest accepted request body / document, in bytes; larger requests get 413. */
  public static readonly MAX_DOCUMENT_BYTES = 'OCR_MAX_DOCUMENT_BYTES';
  /** Number of OCR worker processes per task. */
  public static readonly WORKERS = 'OCR_WORKERS';
  /** Per-document time bound of the engine, in seconds. */
  public static readonly DOC_TIMEOUT_SECONDS = 'OCR_DOC_TIMEOUT_SECONDS';
  /** Per-document memory bound of the engine, in MiB. */
  public static readonly DOC_MEMORY_MB = 'OCR_DOC_MEMORY_MB';
  /** OCR languages (tesseract codes joined by `+`). */
  public static readonly LANGUAGES = 'OCR_LANGUAGES';
  /** OCR backend: `tesseract.js` or `tesseract` (native Tesseract, which the image must contain). */
  public static readonly OCR_ENGINE = 'OCR_ENGINE';
  /** What draws the PDF pages that go to OCR: `pdf.js` or `poppler` (pdftoppm, which the image must contain). */
  public static readonly PDF_RENDERER = 'OCR_PDF_RENDERER';
  /** Namespace of the EMF metrics the service writes to its log stream. */
  public static readonly METRICS_NAMESPACE = 'OCR_METRICS_NAMESPACE';
  /** Value of the `Service` metric dimension. */
  public static readonly METRICS_SERVICE = 'OCR_METRICS_SERVICE';
  /** Comma-separated ARNs of the SNS topics a Textract Start's `NotificationChannel` may name (`textractNotificationTopics`). */
  public static readonly TEXTRACT_NOTIFICATION_TOPICS = 'OCR_TEXTRACT_NOTIFICATION_TOPICS';
  /** Comma-separated buckets a Textract Start's `OutputConfig` may name besides the documents bucket (`textractOutputBuckets`). */
  public static readonly TEXTRACT_OUTPUT_BUCKETS = 'OCR_TEXTRACT_OUTPUT_BUCKETS';
  /** OTLP/HTTP traces URL of the collector sidecar (`http://127.0.0.1:4318/v1/traces`), when tracing is on. */
  public static readonly OTLP_TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
}

/** Environment variables of the stream handler. */
export class OcrStreamHandlerEnvironment {
  /** Base URL of the service, e.g. `http://internal-ocr-123.us-east-1.elb.amazonaws.com`. */
  public static readonly SERVICE_URL = 'OCR_SERVICE_URL';
  /** Timeout of one `POST /process` call, in milliseconds. */
  public static readonly HANDOFF_TIMEOUT_MS = 'OCR_HANDOFF_TIMEOUT_MS';
  /** Sweep: the status table. */
  public static readonly TABLE_NAME = 'OCR_TABLE_NAME';
  /** Sweep: the index with partition key `status`. */
  public static readonly STATUS_INDEX_NAME = 'OCR_STATUS_INDEX_NAME';
  /** Sweep: PENDING items not updated for this long are handed off again. */
  public static readonly STALE_PENDING_SECONDS = 'OCR_STALE_PENDING_SECONDS';
  /** Sweep: at most this many items handed off or released per run. */
  public static readonly SWEEP_MAX_ITEMS = 'OCR_SWEEP_MAX_ITEMS';
  /** Sweep: EMF namespace and `Service` dimension of its metrics. */
  public static readonly METRICS_NAMESPACE = 'OCR_METRICS_NAMESPACE';
  /** Sweep: value of the `Service` dimension of its EMF metrics (the service's own name, shared with the tasks). */
  public static readonly METRICS_SERVICE = 'OCR_METRICS_SERVICE';
}

/** HTTP paths and port of the service. */
export class OcrServiceApi {
  /**
   * Command of the bundled worker image in service mode: the service entry point is
   * `assets/ocr-worker/src/service/main.ts` (the image's default command runs batch mode).
   */
  public static readonly BUNDLED_IMAGE_COMMAND: string[] = [
    'node', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/service/main.ts',
  ];
  /** Default container port (`PORT`, default 8000). */
  public static readonly DEFAULT_PORT = 8000;
  /** Readiness: 200 only when the OCR workers are warm and the service is not shutting down. */
  public static readonly HEALTH_PATH = '/health';
  /** Hand-off of a PENDING item: `{ record: { document_id, bucket, key, status, file_type } }`. */
  public static readonly PROCESS_PATH = '/process';
}

/**
 * The one status vocabulary of a document's item. Some producers write lower-case
 * `pending`; both sides read it as `PENDING`.
 */
export enum OcrDocumentStatus {
  /** Waiting for a task to claim it. */
  PENDING = 'PENDING',
  /** Claimed by one task until `lease_expires_at`. */
  PROCESSING = 'PROCESSING',
  /** Result written (`result_key`). */
  SUCCEEDED = 'SUCCEEDED',
  /** Terminal failure; `error_code` and `error_message` say why. */
  FAILED = 'FAILED',
}

/** Names of the sweep's metrics (EMF, dimension `Service`). */
export class OcrServiceMetrics {
  /** Items with status PENDING at the sweep (the queue of pending documents). */
  public static readonly PENDING_DOCUMENTS = 'PendingDocuments';
  /** Stale PENDING items the sweep handed off again. */
  public static readonly STALE_PENDING_REDRIVEN = 'StalePendingRedriven';
  /** Expired PROCESSING claims the sweep returned to PENDING. */
  public static readonly EXPIRED_CLAIMS_RELEASED = 'ExpiredClaimsReleased';
}

/** Attribute names of a document's item in the status table. */
export class OcrDocumentAttributes {
  /** Partition key (string). */
  public static readonly DOCUMENT_ID = 'document_id';
  /** Processing state (string, an `OcrDocumentStatus`); partition key of the status index. */
  public static readonly STATUS = 'status';
  /** S3 bucket of the source document. */
  public static readonly BUCKET = 'bucket';
  /** S3 object key of the source document in `bucket`. */
  public static readonly KEY = 'key';
  /** `pdf`, `png`, `jpeg`, `tiff`, ...; the service sniffs the content anyway. */
  public static readonly FILE_TYPE = 'file_type';
  /** SHA-256 hash of the document's bytes (part of the result cache key). */
  public static readonly CONTENT_SHA256 = 'content_sha256';
  /** S3 key of the result JSON, set when the item is SUCCEEDED. */
  public static readonly RESULT_KEY = 'result_key';
  /** S3 key of the plain-text result, set when the item is SUCCEEDED. */
  public static readonly TEXT_KEY = 'text_key';
  /** Number of pages the service processed (number). */
  public static readonly PAGE_COUNT = 'page_count';
  /** Decoded payloads of the QR codes found in the document (a list, summary only). */
  public static readonly QR_CODES = 'qr_codes';
  /** Up to 4 KiB of the text, so `GET /status` answers without reading S3. */
  public static readonly TEXT_PREVIEW = 'text_preview';
  /** Machine-readable reason of a FAILED item, e.g. `INVALID_PDF`, `TIMEOUT`, `TOO_LARGE`. */
  public static readonly ERROR_CODE = 'error_code';
  /** Human-readable reason of a FAILED item. */
  public static readonly ERROR_MESSAGE = 'error_message';
  /** Number of claims so far (incremented by each PENDING -> PROCESSING transition). */
  public static readonly ATTEMPTS = 'attempts';
  /** Task that holds the claim (ECS task ARN or host name). */
  public static readonly OWNER = 'owner';
  /** Epoch seconds after which a PROCESSING claim may be taken over. */
  public static readonly LEASE_EXPIRES_AT = 'lease_expires_at';
  /** ISO-8601 time the item was created. */
  public static readonly CREATED_AT = 'created_at';
  /** ISO-8601 time of the last write. */
  public static readonly UPDATED_AT = 'updated_at';
  /** Optional epoch seconds; the table's TTL attribute. */
  public static readonly EXPIRES_AT = 'expires_at';
  /** Monotonic version for optimistic concurrency (every update: `version = version + 1` conditional on the old value). */
  public static readonly VERSION = 'version';
}

/** Helpers for the status vocabulary. */
export class OcrDocumentStatuses {
  /** The spellings of PENDING the stream filter accepts (producers may write `pending`). */
  public static readonly PENDING_SPELLINGS: string[] = ['PENDING', 'pending', 'Pending'];

  /**
   * Map a status as producers write it onto the vocabulary: `pending`, `Pending` and `PENDING` are
   * all PENDING. Returns undefined for anything that is not one of the four statuses.
   */
  public static normalize(value: any): OcrDocumentStatus | undefined {
    if (typeof value !== 'string') return undefined;
    switch (value.trim().toUpperCase()) {
      case 'PENDING': return OcrDocumentStatus.PENDING;
      case 'PROCESSING': return OcrDocumentStatus.PROCESSING;
      case 'SUCCEEDED': return OcrDocumentStatus.SUCCEEDED;
      case 'FAILED': return OcrDocumentStatus.FAILED;
      default: return undefined;
    }
  }

  private constructor() {}
}
