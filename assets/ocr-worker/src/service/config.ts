/**
 * Configuration of the HTTP service, from the environment. The names follow the container contract of
 * OcrServiceCluster (docs/ocr-service-cluster.md in the library). Without OCR_TABLE_NAME the service
 * runs in local mode: embedded storage (memory, or files under OCR_DATA_DIR), no AWS needed.
 */
import { availableCpus, DEFAULTS, parseBackendEnvironment, type OcrEngineName, type PdfRendererName } from '../options.ts';
import { missingLanguageData } from '../paths.ts';
import { COMMON_ENV, SERVICE_ENV, SERVICE_MODE } from '../contract.ts';

export class ServiceConfigError extends Error {
  constructor(message: string) { super(message); this.name = 'ServiceConfigError'; }
}

export interface ServiceConfig {
  /** 'aws': DynamoDB + S3 (+ Redis); 'local': embedded storage. */
  storage: 'aws' | 'local';
  /** OCR_ENGINE: 'tesseract.js' (default) or 'tesseract' (native; the image built with that engine). */
  ocrEngine: OcrEngineName;
  /** OCR_PDF_RENDERER: 'pdf.js' or 'poppler'; default poppler with the native backend (whose image has it), else pdf.js. */
  pdfRenderer: PdfRendererName;
  port: number;
  /** Listen address: 0.0.0.0 in a container (OCR_MODE=service), 127.0.0.1 in local mode unless HOST is set. */
  host: string;
  tableName: string | null;
  documentsBucket: string | null;
  uploadsPrefix: string;
  resultsPrefix: string;
  /** Local mode: where status items, uploads and results are kept; null = memory only. */
  dataDir: string | null;
  redisUrl: string | null;
  redisAuthToken: string | null;
  cacheTtlSeconds: number;
  requestTimeoutSeconds: number;
  shutdownGraceSeconds: number;
  leaseSeconds: number;
  maxAttempts: number;
  maxDocumentBytes: number;
  workers: number;
  /** Documents accepted but not finished, per task; beyond it POST answers 503 + Retry-After. */
  maxQueuedDocuments: number;
  docTimeoutSeconds: number;
  docMemoryMb: number;
  languages: string;
  metricsNamespace: string;
  metricsService: string;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (set by OcrServiceCluster with `tracing`): requests are traced to this collector; null = no tracing. */
  otlpTracesEndpoint: string | null;
  /** OCR_TEXTRACT_NOTIFICATION_TOPICS: the SNS topics Textract's NotificationChannel may name. */
  textractNotificationTopics: string[];
  /** OCR_TEXTRACT_OUTPUT_BUCKETS: the buckets Textract's OutputConfig may name besides the documents bucket. */
  textractOutputBuckets: string[];
  /** Settings that work but do not fit Fargate Spot's two-minute notice (logged at start). */
  warnings: string[];
}

/** Fargate Spot: SIGTERM, then SIGKILL two minutes later. */
const SPOT_NOTICE_SECONDS = 120;

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return def;
  if (!/^\d+$/.test(raw.trim())) throw new ServiceConfigError(`${name} must be an integer, got '${raw}'.`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new ServiceConfigError(`${name} must be between ${min} and ${max}, got ${n}.`);
  return n;
}

/** A comma-separated list, each item checked by `pattern`. */
function list(env: NodeJS.ProcessEnv, name: string, pattern: RegExp, example: string): string[] {
  const items = (env[name] ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const item of items) if (!pattern.test(item)) throw new ServiceConfigError(`${name} must list ${example} separated by commas, got '${item}'.`);
  return items;
}

function prefix(env: NodeJS.ProcessEnv, name: string, def: string): string {
  let p = env[name] ?? def;
  if (p && !p.endsWith('/')) p += '/';
  return p;
}

export function parseServiceConfig(env: NodeJS.ProcessEnv): ServiceConfig {
  const tableName = env[SERVICE_ENV.TABLE_NAME] || null;
  const documentsBucket = env[SERVICE_ENV.DOCUMENTS_BUCKET] || null;
  if ((tableName === null) !== (documentsBucket === null)) {
    throw new ServiceConfigError('Set both OCR_TABLE_NAME and OCR_DOCUMENTS_BUCKET (AWS storage) or neither (local mode).');
  }
  const languages = env[COMMON_ENV.LANGUAGES] || DEFAULTS.languages;
  if (!/^[A-Za-z_]+(\+[A-Za-z_]+)*$/.test(languages)) throw new ServiceConfigError(`OCR_LANGUAGES must look like 'eng' or 'eng+deu', got '${languages}'.`);
  const noData = missingLanguageData(languages);
  if (noData) throw new ServiceConfigError(`OCR_LANGUAGES: ${noData}`);
  const workers = int(env, COMMON_ENV.WORKERS, availableCpus(), 1, 64);
  let backend: ReturnType<typeof parseBackendEnvironment>;
  try { backend = parseBackendEnvironment(env); } catch (err) { throw new ServiceConfigError((err as Error).message); }
  const requestTimeoutSeconds = int(env, SERVICE_ENV.REQUEST_TIMEOUT_SECONDS, 30, 1, 3600);
  const shutdownGraceSeconds = int(env, SERVICE_ENV.SHUTDOWN_GRACE_SECONDS, 100, 0, 3600);
  const docTimeoutSeconds = int(env, COMMON_ENV.DOC_TIMEOUT_SECONDS, DEFAULTS.timeoutSeconds, 1, 86400);
  let redisUrl = env[SERVICE_ENV.REDIS_URL] || null;
  if (!redisUrl && env[SERVICE_ENV.REDIS_HOST]) {
    const tls = (env[SERVICE_ENV.REDIS_TLS] ?? 'true').toLowerCase() !== 'false';
    redisUrl = `${tls ? 'rediss' : 'redis'}://${env[SERVICE_ENV.REDIS_HOST]}:${env[SERVICE_ENV.REDIS_PORT] || '6379'}`;
  }
  if (redisUrl && !/^rediss?:\/\/[^/\s]+/.test(redisUrl)) throw new ServiceConfigError(`OCR_REDIS_URL must look like rediss://host:port, got '${redisUrl}'.`);
  const otlpTracesEndpoint = env[SERVICE_ENV.OTLP_TRACES_ENDPOINT]?.trim() || null;
  if (otlpTracesEndpoint && !URL.canParse(otlpTracesEndpoint) || otlpTracesEndpoint && !/^https?:$/.test(new URL(otlpTracesEndpoint).protocol)) {
    throw new ServiceConfigError(`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL such as http://127.0.0.1:4318/v1/traces, got '${otlpTracesEndpoint}'.`);
  }
  const inContainer = (env[SERVICE_ENV.MODE] ?? '').toLowerCase() === SERVICE_MODE.MODE_SERVICE || tableName !== null;
  const warnings: string[] = [];
  if (shutdownGraceSeconds >= SPOT_NOTICE_SECONDS) warnings.push(`OCR_SHUTDOWN_GRACE_SECONDS (${shutdownGraceSeconds}) should stay below Fargate Spot's ${SPOT_NOTICE_SECONDS} s notice, with room to hand documents back.`);
  if (requestTimeoutSeconds > shutdownGraceSeconds) warnings.push(`OCR_REQUEST_TIMEOUT_SECONDS (${requestTimeoutSeconds}) is above OCR_SHUTDOWN_GRACE_SECONDS (${shutdownGraceSeconds}): requests may outlive the drain.`);
  return {
    warnings,
    storage: tableName ? 'aws' : 'local',
    ...backend,
    port: int(env, SERVICE_ENV.PORT, 8000, 0, 65535),
    host: env[SERVICE_ENV.HOST] || (inContainer ? '0.0.0.0' : '127.0.0.1'),
    tableName,
    documentsBucket,
    uploadsPrefix: prefix(env, SERVICE_ENV.UPLOADS_PREFIX, 'uploads/'),
    resultsPrefix: prefix(env, SERVICE_ENV.RESULTS_PREFIX, 'results/'),
    dataDir: env[SERVICE_ENV.DATA_DIR] || null,
    redisUrl,
    redisAuthToken: env[SERVICE_ENV.REDIS_AUTH_TOKEN] || null,
    cacheTtlSeconds: int(env, SERVICE_ENV.CACHE_TTL_SECONDS, 7 * 24 * 3600, 1),
    requestTimeoutSeconds,
    shutdownGraceSeconds,
    leaseSeconds: int(env, SERVICE_ENV.LEASE_SECONDS, Math.max(docTimeoutSeconds + 60, 300), 3),
    maxAttempts: int(env, SERVICE_ENV.MAX_ATTEMPTS, 3, 1, 100),
    maxDocumentBytes: int(env, COMMON_ENV.MAX_DOCUMENT_BYTES, 50 * 1024 * 1024, 1),
    workers,
    maxQueuedDocuments: int(env, SERVICE_ENV.MAX_QUEUED_DOCUMENTS, Math.max(8, workers * 8), 1),
    docTimeoutSeconds,
    docMemoryMb: int(env, COMMON_ENV.DOC_MEMORY_MB, DEFAULTS.memoryMb, 64),
    languages,
    metricsNamespace: env[COMMON_ENV.METRICS_NAMESPACE] || 'CdkOcrConstructs',
    metricsService: env[COMMON_ENV.METRICS_SERVICE] || 'ocr-service',
    otlpTracesEndpoint,
    textractNotificationTopics: list(env, SERVICE_ENV.TEXTRACT_NOTIFICATION_TOPICS, /^arn:[a-z\d-]+:sns:[a-zA-Z\d-]{1,20}:\w{12}:.+$/, 'SNS topic ARNs'),
    textractOutputBuckets: list(env, SERVICE_ENV.TEXTRACT_OUTPUT_BUCKETS, /^[0-9A-Za-z.\-_]{3,255}$/, 'bucket names'),
  };
}
