/**
 * The document lifecycle of the HTTP service, independent of HTTP: accept (upload, S3 object,
 * stream hand-off), claim, process through the engine's bounded runner, record, hand back on
 * shutdown. http.ts maps its outcomes and ServiceError onto status codes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { emfLine } from '../batch.ts';
import { failedResult, sha256, WORKER_VERSION, type Engine } from '../engine.ts';
import { OcrError, type ErrorCode } from '../errors.ts';
import { detectMediaType } from '../media.ts';
import { outputBytes } from '../engine-result.ts';
import { defaultPdfRenderer, OUTPUT_CONTENT_TYPES, parseOutputs, parsePageRange, type DocumentOptions, type OcrEngineName, type PdfRendererName } from '../options.ts';
import type { OcrResult } from '../result.ts';
import type { SpanOutcome, Tracing } from './tracing.ts';
import type { ServiceConfig } from './config.ts';
import {
  DocumentNotFoundError, DocumentTooLargeError, DocumentUnreadableError, epochSeconds, normalizeStatus,
  type Cache, type CompletionFields, type DocumentItem, type DocumentStore, type ResultStore, type StatusStore,
} from './stores.ts';

/** A request the service refuses: HTTP status, a stable error name and a human reason. */
export class ServiceError extends Error {
  readonly status: number;
  readonly error: string;
  readonly retryAfterSeconds?: number;
  constructor(status: number, error: string, message: string, retryAfterSeconds?: number) {
    super(message);
    this.name = 'ServiceError';
    this.status = status;
    this.error = error;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** What the service needs from the engine (createEngine() provides it; tests may wrap it). */
export type DocumentEngine = Pick<Engine, 'process' | 'warm' | 'isReady' | 'close' | 'workers'>;

export type LogFn = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

/**
 * What a finished document's status item asks for besides its result (Textract's OutputConfig and
 * NotificationChannel, ../textract/completion.ts). Called by the task that finishes the document.
 */
export interface DocumentHooks {
  /** Before the status turns final; a failure hands the document back, as a result that cannot be stored does. */
  beforeComplete(item: DocumentItem, result: OcrResult): Promise<void>;
  /** After the status turned final (`result` undefined: FAILED before the engine read it); must not throw. */
  afterComplete(item: DocumentItem, result: OcrResult | undefined): Promise<void>;
}

export interface ServiceDeps {
  config: ServiceConfig;
  engine: DocumentEngine;
  status: StatusStore;
  results: ResultStore;
  documents: DocumentStore;
  /** null: no cache. */
  cache: Cache | null;
  /** Identity of this process in claims; claimOwner() when not given. */
  owner?: string;
  log?: LogFn;
  /** EMF metric lines (stdout in production). */
  metrics?: (line: string) => void;
  /** OpenTelemetry tracing (with a collector sidecar): the background work of a request as its child spans. */
  tracing?: Tracing;
  /** Deliveries of finished documents whose items ask for them (Textract jobs). */
  hooks?: DocumentHooks;
}

/**
 * Who holds the claims this process makes, unique per start: `<base>#<random id>`, the base being the
 * ECS task ARN or else host name and pid (for people reading the status table). A container restarted
 * in the same task, or on the same host and data directory, often has the same ARN, host name and pid
 * again; the random part keeps it from taking the claims of the dead process for its own (it would
 * neither release nor finish them).
 */
export function claimOwner(base = `${hostname()}:${process.pid}`, startId: string = randomUUID()): string {
  return `${base}#${startId}`;
}

/** Ids are used in S3 keys and URLs: a conservative alphabet. */
const DOCUMENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,199}$/;

export function checkDocumentId(id: unknown): string {
  if (typeof id !== 'string' || !DOCUMENT_ID.test(id)) {
    throw new ServiceError(400, 'INVALID_DOCUMENT_ID', 'document_id must be 1-200 characters of A-Z a-z 0-9 . _ : @ - starting with a letter or digit.');
  }
  return id;
}

/** Options a request may set. Passwords are not accepted: they would have to be stored for a hand-back. */
const OPTION_KEYS = new Set(['languages', 'dpi', 'pages', 'maxPages', 'forceOcr', 'qr', 'geometry', 'outputs']);

export function parseRequestOptions(raw: unknown, allowedLanguages: string): DocumentOptions {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ServiceError(400, 'INVALID_OPTIONS', 'options must be a JSON object.');
  const o = raw as Record<string, unknown>;
  const out: DocumentOptions = {};
  for (const k of Object.keys(o)) {
    if (!OPTION_KEYS.has(k)) throw new ServiceError(400, 'INVALID_OPTIONS', `Unknown option '${k}' (allowed: ${[...OPTION_KEYS].join(', ')}).`);
  }
  if (o.languages !== undefined) {
    const allowed = new Set(allowedLanguages.split('+'));
    if (typeof o.languages !== 'string' || !/^[A-Za-z_]+(\+[A-Za-z_]+)*$/.test(o.languages) || !o.languages.split('+').every((l) => allowed.has(l))) {
      throw new ServiceError(400, 'INVALID_OPTIONS', `languages must be '+'-separated codes out of '${allowedLanguages}'.`);
    }
    out.languages = o.languages;
  }
  if (o.dpi !== undefined) {
    const dpi = Number(o.dpi);
    if (!Number.isInteger(dpi) || dpi < 50 || dpi > 1200) throw new ServiceError(400, 'INVALID_OPTIONS', 'dpi must be an integer from 50 to 1200.');
    out.dpi = dpi;
  }
  if (o.maxPages !== undefined) {
    const n = Number(o.maxPages);
    if (!Number.isInteger(n) || n < 1) throw new ServiceError(400, 'INVALID_OPTIONS', 'maxPages must be an integer >= 1.');
    out.maxPages = n;
  }
  if (o.pages !== undefined) {
    if (typeof o.pages !== 'string') throw new ServiceError(400, 'INVALID_OPTIONS', 'pages must be a string like "1-3,5".');
    try { parsePageRange(o.pages); } catch (err) { throw new ServiceError(400, 'INVALID_OPTIONS', (err as Error).message); }
    out.pages = o.pages;
  }
  if (o.outputs !== undefined) {
    // a list, or (a multipart field) its names separated by commas
    const list = typeof o.outputs === 'string' ? o.outputs.split(',').map((x) => x.trim()) : o.outputs;
    try { out.outputs = parseOutputs(list, 'outputs'); } catch (err) { throw new ServiceError(400, 'INVALID_OPTIONS', (err as Error).message); }
  }
  for (const k of ['forceOcr', 'qr', 'geometry'] as const) {
    if (o[k] === undefined) continue;
    const v = o[k] === 'true' ? true : o[k] === 'false' ? false : o[k];
    if (typeof v !== 'boolean') throw new ServiceError(400, 'INVALID_OPTIONS', `${k} must be true or false.`);
    out[k] = v;
  }
  return out;
}

/**
 * Cache key: content hash + engine version + OCR backend + PDF renderer + languages + the remaining
 * options. Backend and renderer are part of it: a cache shared by services configured differently (or
 * during a switch from one to the other) must not answer one's request with the other's result (the
 * two renderers' pixels differ a little, and so may the text read from them).
 */
export function cacheKey(contentSha256: string, languages: string, options: DocumentOptions, ocrEngine: OcrEngineName = 'tesseract.js',
  pdfRenderer: PdfRendererName = defaultPdfRenderer(ocrEngine)): string {
  const rest = Object.fromEntries(Object.entries(options).filter(([k, v]) => k !== 'languages' && v !== undefined).sort(([a], [b]) => a.localeCompare(b)));
  const optionsHash = createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
  return `ocr:1:${contentSha256}:${WORKER_VERSION}:${ocrEngine}:${pdfRenderer}:${languages}:${optionsHash}`;
}

/** Failures that say something about the environment rather than the document are not cached. */
const NOT_CACHED: ReadonlySet<string> = new Set(['TIMEOUT', 'RESOURCE_LIMIT', 'WORKER_CRASHED', 'INTERNAL_ERROR', 'INPUT_NOT_FOUND']);

export const TEXT_PREVIEW_BYTES = 4096;

function preview(text: string): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= TEXT_PREVIEW_BYTES) return text;
  // cut on a character boundary (continuation bytes are 10xxxxxx)
  let end = TEXT_PREVIEW_BYTES;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}

/** Short file type from a media type ('application/pdf' → 'pdf'). */
function fileTypeOf(mediaType: string): string {
  return mediaType.split('/')[1]?.replace(/^x-portable-/, '') ?? mediaType;
}

export interface Accepted { document_id: string; status: string }

interface Job {
  documentId: string;
  /** Set when shutdown handed the document back: whatever the engine returns is dropped. */
  handedBack: boolean;
  done: Promise<void>;
}

export type ServiceState = 'starting' | 'ready' | 'draining' | 'stopped';

export class OcrService {
  readonly config: ServiceConfig;
  readonly owner: string;
  private readonly engine: DocumentEngine;
  private readonly status: StatusStore;
  private readonly results: ResultStore;
  private readonly documents: DocumentStore;
  private readonly cache: Cache | null;
  private readonly log: LogFn;
  private readonly metrics: (line: string) => void;
  private readonly tracing: Tracing | undefined;
  private readonly hooks: DocumentHooks | undefined;
  private readonly jobs = new Map<string, Job>();
  /** Engine runs in progress by cache key (single flight for identical documents). */
  private readonly running = new Map<string, Promise<OcrResult>>();
  private stateValue: ServiceState = 'starting';
  /** Counters for tests, the benchmark and logs. */
  readonly counters = { accepted: 0, processed: 0, cacheHits: 0, cacheMisses: 0, handedBack: 0, lostClaims: 0 };

  constructor(deps: ServiceDeps) {
    this.config = deps.config;
    this.engine = deps.engine;
    this.status = deps.status;
    this.results = deps.results;
    this.documents = deps.documents;
    this.cache = deps.cache;
    this.owner = deps.owner ?? claimOwner();
    this.log = deps.log ?? (() => undefined);
    this.metrics = deps.metrics ?? (() => undefined);
    this.tracing = deps.tracing;
    this.hooks = deps.hooks;
  }

  /** Runs `fn` as a child span of the current request's span (when tracing is on). */
  private traced<T>(name: string, fn: () => Promise<T>, outcome?: (value: T) => SpanOutcome): Promise<T> {
    return this.tracing ? this.tracing.span(name, fn, outcome) : fn();
  }

  get state(): ServiceState { return this.stateValue; }
  /** The bucket the service stores uploads in and reads documents from (`local` in local mode). */
  get documentsBucket(): string { return this.documents.uploadBucket; }
  get inFlight(): number { return this.jobs.size; }

  /**
   * Warms the engine (tesseract workers loaded); /health turns 200 afterwards. Documents an earlier
   * process left behind (local mode) are then resumed in the background, as room frees up.
   */
  async start(): Promise<void> {
    await this.engine.warm();
    if (this.stateValue === 'starting') this.stateValue = 'ready';
    void this.resumeLocalWork().catch((err: Error) => this.log('error', 'resuming documents failed', { error: err.message }));
  }

  /**
   * Local mode with a data directory: finish what an earlier process left PENDING or PROCESSING. The
   * backlog may be longer than OCR_MAX_QUEUED_DOCUMENTS: each document waits for room, as a request
   * would retry on 503 BUSY, so all of them are finished. At shutdown the rest stays PENDING for the
   * next process.
   */
  private async resumeLocalWork(): Promise<void> {
    const store = this.status as StatusStore & { recoverAfterRestart?: (owner: string) => Promise<string[]> };
    if (!store.recoverAfterRestart || this.config.storage !== 'local' || !this.config.dataDir) return;
    const backlog = await store.recoverAfterRestart(this.owner);
    if (backlog.length > 0) this.log('info', 'resuming documents left by an earlier process', { count: backlog.length });
    for (const [i, documentId] of backlog.entries()) {
      for (;;) {
        if (!await this.roomForOneMore()) {
          this.log('warn', 'shutting down: documents left PENDING for the next process', { count: backlog.length - i });
          return;
        }
        try {
          const out = await this.processRecord({ document_id: documentId });
          this.log('info', 'resumed a document left by an earlier process', { documentId, status: out.httpStatus });
        } catch (err) {
          // a request took the room first: wait for the next
          if (err instanceof ServiceError && err.error === 'BUSY') continue;
          this.log('warn', 'could not resume a document', { documentId, error: (err as Error).message });
        }
        break;
      }
    }
  }

  /** Waits until this task holds fewer than OCR_MAX_QUEUED_DOCUMENTS; false when it is shutting down instead. */
  private async roomForOneMore(): Promise<boolean> {
    while (this.stateValue === 'ready' && this.jobs.size >= this.config.maxQueuedDocuments) {
      await Promise.race([...this.jobs.values()].map((j) => j.done.catch(() => undefined)));
    }
    return this.stateValue === 'ready';
  }

  /**
   * Waits until this task has finished the document (its result recorded, or handed back), for at
   * most `timeoutMs`; false when it is still running then. A document this task is not running
   * is settled already.
   */
  async whenSettled(documentId: string, timeoutMs: number): Promise<boolean> {
    const job = this.jobs.get(documentId);
    if (!job) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), Math.max(0, timeoutMs)); });
    try {
      return await Promise.race([job.done.then(() => true, () => true), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** 200 on /health only when warm and not shutting down. */
  isHealthy(): boolean {
    return this.stateValue === 'ready' && this.engine.isReady();
  }

  private admit(): void {
    if (this.stateValue === 'draining' || this.stateValue === 'stopped') {
      throw new ServiceError(503, 'SHUTTING_DOWN', 'This task is shutting down; retry (another task will take the request).', 5);
    }
    if (this.stateValue !== 'ready') throw new ServiceError(503, 'NOT_READY', 'The OCR workers are still starting; retry shortly.', 5);
    if (this.jobs.size >= this.config.maxQueuedDocuments) {
      throw new ServiceError(503, 'BUSY', `This task already holds ${this.jobs.size} documents; retry later.`, 10);
    }
  }

  private newClaimedItem(documentId: string, fields: Partial<DocumentItem>): DocumentItem {
    return {
      ...fields,
      document_id: documentId, status: 'PROCESSING', attempts: 1, owner: this.owner,
      lease_expires_at: epochSeconds() + this.config.leaseSeconds,
    };
  }

  /** POST /extract with a file: stored, claimed at once, processed in the background. */
  async submitUpload(input: { bytes: Uint8Array; fileName: string; documentId?: string; options?: DocumentOptions }): Promise<Accepted> {
    this.admit();
    const documentId = input.documentId === undefined ? randomUUID() : checkDocumentId(input.documentId);
    if (input.bytes.length === 0) throw new ServiceError(400, 'EMPTY_INPUT', 'The uploaded file is empty.');
    let mediaType: string;
    try {
      mediaType = detectMediaType(input.bytes);
    } catch (err) {
      const code = err instanceof OcrError ? err.code : 'UNSUPPORTED_MEDIA_TYPE';
      throw new ServiceError(code === 'UNSUPPORTED_MEDIA_TYPE' ? 415 : 400, code, (err as Error).message);
    }
    const options = input.options ?? {};
    // the item names the upload's location from the start, so a hand-back lets another task read it
    const where = this.documents.uploadLocation(documentId, input.fileName);
    const created = await this.status.create(this.newClaimedItem(documentId, {
      bucket: where.bucket, key: where.key, file_name: input.fileName, file_type: fileTypeOf(mediaType), content_sha256: sha256(input.bytes), options: JSON.stringify(options),
    }));
    if (!created) throw new ServiceError(409, 'DUPLICATE_DOCUMENT_ID', `A document with id '${documentId}' already exists.`);
    try {
      await this.documents.putUpload(documentId, input.fileName, input.bytes);
    } catch (err) {
      this.log('error', 'upload could not be stored', { documentId, error: (err as Error).message });
      await this.status.complete(documentId, this.owner, 'FAILED', { error_code: 'STORAGE_ERROR', error_message: 'The upload could not be stored.' }).catch(() => false);
      throw new ServiceError(503, 'STORAGE_ERROR', 'The upload could not be stored; retry with another document_id.', 5);
    }
    this.startJob(documentId, input.fileName, options, input.bytes);
    return { document_id: documentId, status: 'PROCESSING' };
  }

  /**
   * Refuses now an object that cannot be read or is larger than `maxBytes` (Textract's operations
   * check the object when they are called): 400 INVALID_LOCATION, 404 INPUT_NOT_FOUND,
   * 403 INPUT_UNREADABLE or 413 TOO_LARGE. Reads the object's size only.
   */
  async checkObject(bucket: string, key: string, maxBytes = this.config.maxDocumentBytes): Promise<void> {
    const problem = this.documents.locationProblem(bucket, key);
    if (problem) throw new ServiceError(400, 'INVALID_LOCATION', problem);
    let size: number;
    try {
      size = await this.documents.size(bucket, key);
    } catch (err) {
      if (err instanceof DocumentNotFoundError) throw new ServiceError(404, 'INPUT_NOT_FOUND', err.message);
      if (err instanceof DocumentUnreadableError) throw new ServiceError(403, 'INPUT_UNREADABLE', err.message);
      throw err;
    }
    if (size > maxBytes) throw new ServiceError(413, 'TOO_LARGE', new DocumentTooLargeError(size, maxBytes).message);
  }

  /** POST /extract with JSON naming an object: claimed at once, read and processed in the background. */
  async submitObject(input: { bucket?: string; key: string; documentId?: string; options?: DocumentOptions; textractJob?: string; maxDocumentBytes?: number }): Promise<Accepted> {
    this.admit();
    const documentId = input.documentId === undefined ? randomUUID() : checkDocumentId(input.documentId);
    const bucket = input.bucket ?? this.documents.uploadBucket;
    const problem = this.documents.locationProblem(bucket, input.key);
    if (problem) throw new ServiceError(400, 'INVALID_LOCATION', problem);
    const created = await this.status.create(this.newClaimedItem(documentId, {
      bucket, key: input.key, file_name: input.key.split('/').pop() || input.key, options: JSON.stringify(input.options ?? {}),
      ...(input.textractJob !== undefined ? { textract_job: input.textractJob } : {}),
      ...(input.maxDocumentBytes !== undefined ? { max_document_bytes: input.maxDocumentBytes } : {}),
    }));
    if (!created) throw new ServiceError(409, 'DUPLICATE_DOCUMENT_ID', `A document with id '${documentId}' already exists.`);
    this.startJob(documentId, input.key, input.options ?? {});
    return { document_id: documentId, status: 'PROCESSING' };
  }

  /**
   * POST /process (the stream hand-off): claims a PENDING item and processes it.
   * Returns the HTTP status with the body: 202 claimed, 200 already finished.
   */
  async processRecord(record: { document_id: string; bucket?: string; key?: string; file_type?: string }): Promise<{ httpStatus: number; body: Record<string, unknown> }> {
    this.admit();
    const documentId = checkDocumentId(record.document_id);
    const outcome = await this.status.claim(documentId, {
      owner: this.owner, leaseSeconds: this.config.leaseSeconds, maxAttempts: this.config.maxAttempts,
      fill: { bucket: record.bucket, key: record.key, file_type: record.file_type },
    });
    switch (outcome.kind) {
      case 'not-found':
        throw new ServiceError(404, 'NOT_FOUND', `No status item with document_id '${documentId}'; insert it (status PENDING) first.`);
      case 'finished':
        return { httpStatus: 200, body: { document_id: documentId, status: normalizeStatus(outcome.item.status), message: 'Already finished.' } };
      case 'busy':
        throw new ServiceError(409, 'ALREADY_CLAIMED', `Document '${documentId}' is being processed (status ${outcome.item.status}).`);
      case 'exhausted':
        await this.afterComplete(outcome.item, undefined);
        throw new ServiceError(422, 'TOO_MANY_ATTEMPTS', `Document '${documentId}' was claimed ${outcome.item.attempts} times without finishing; it is now FAILED.`);
      case 'claimed': {
        const item = outcome.item;
        if (!item.bucket || !item.key) {
          const failed: CompletionFields = { error_code: 'INVALID_RECORD', error_message: 'The item names no bucket and key.' };
          if (await this.status.complete(documentId, this.owner, 'FAILED', failed)) await this.afterComplete({ ...item, ...failed, status: 'FAILED' }, undefined);
          throw new ServiceError(422, 'INVALID_RECORD', 'The record and its item name no bucket and key; the item is now FAILED.');
        }
        let options: DocumentOptions = {};
        try { options = item.options ? parseRequestOptions(JSON.parse(item.options), this.config.languages) : {}; } catch { options = {}; }
        this.startJob(documentId, item.file_name ?? item.key, options);
        return { httpStatus: 202, body: { document_id: documentId, status: 'PROCESSING' } };
      }
    }
  }

  private startJob(documentId: string, name: string, options: DocumentOptions, bytes?: Uint8Array): void {
    this.counters.accepted++;
    const job: Job = { documentId, handedBack: false, done: Promise.resolve() };
    this.jobs.set(documentId, job);
    // started inside the request's trace context: the job's spans join that trace
    job.done = this.traced('process document', () => this.runJob(job, name, options, bytes), () => ({ attributes: { 'ocr.document_id': documentId } }))
      .finally(() => { this.jobs.delete(documentId); });
  }

  private async runJob(job: Job, name: string, options: DocumentOptions, bytes?: Uint8Array): Promise<void> {
    const { documentId } = job;
    const languages = options.languages ?? this.config.languages;
    const renewEvery = Math.max(1000, (this.config.leaseSeconds * 1000) / 3);
    const renewal = setInterval(() => {
      this.status.renew(documentId, this.owner, this.config.leaseSeconds)
        .then((ok) => { if (!ok) this.log('warn', 'lease lost', { documentId }); })
        .catch((err: Error) => this.log('warn', 'lease renewal failed', { documentId, error: err.message }));
    }, renewEvery);
    renewal.unref();
    try {
      let result: OcrResult | undefined;
      let cacheHit = false;
      // the status item as this task read it; an upload processed from its bytes carries no deliveries
      let item: DocumentItem | undefined;
      if (!bytes) {
        item = await this.status.get(documentId);
        const maxBytes = Math.min(this.config.maxDocumentBytes, item?.max_document_bytes ?? Infinity);
        try {
          bytes = await this.traced('read document', () => this.documents.get(item!.bucket!, item!.key!, maxBytes), (b) => ({ attributes: { 'ocr.document_bytes': b.length } }));
        } catch (err) {
          if (err instanceof DocumentNotFoundError) result = failedResult(name, { code: 'INPUT_NOT_FOUND', message: err.message }, languages);
          else if (err instanceof DocumentUnreadableError) result = failedResult(name, { code: 'INPUT_UNREADABLE', message: err.message }, languages);
          else if (err instanceof DocumentTooLargeError) result = failedResult(name, { code: 'TOO_LARGE', message: err.message }, languages);
          else throw err;
        }
      }
      let key: string | null = null;
      // the cache and single flight share result JSON only: a document that asks for a searchable PDF
      // or hOCR runs the engine itself, which makes them
      const extraOutputs = (options.outputs ?? []).some((f) => f !== 'json');
      if (!result && bytes) {
        key = cacheKey(sha256(bytes), languages, options, this.config.ocrEngine, this.config.pdfRenderer);
        const cached = this.cache && !extraOutputs ? await this.cache.get(key) : undefined;
        const running = extraOutputs ? undefined : this.running.get(key);
        if (cached || running) {
          // same content, engine and options: from the cache, or from the identical document this
          // task is processing right now (single flight: N identical uploads cost one OCR run)
          const shared = cached ?? await running!;
          cacheHit = true;
          this.counters.cacheHits++;
          result = { ...shared, source: name, durationMs: cached ? 0 : shared.durationMs, queuedMs: cached ? 0 : shared.queuedMs ?? 0 };
        } else {
          if (this.cache) this.counters.cacheMisses++;
          const input = bytes;
          const run = this.traced('ocr', () => this.engine.process(input, { name, options }), (r) => ({
            attributes: { 'ocr.status': r.status, 'ocr.page_count': r.pageCount, ...(r.error ? { 'ocr.error_code': r.error.code } : {}) },
            // a document the engine could not read: the span says so, the service goes on
            error: r.error ? `${r.error.code}: ${r.error.message.slice(0, 500)}` : undefined,
          }));
          if (!extraOutputs) this.running.set(key, run);
          try {
            result = await run;
          } finally {
            if (!extraOutputs) this.running.delete(key);
          }
          this.counters.processed++;
        }
        if (this.cache) this.metrics(this.cacheMetric(cacheHit));
      }
      if (job.handedBack) return; // shutdown gave it to another task; the engine's answer is dropped
      if (this.cache && key && !cacheHit && !extraOutputs && !NOT_CACHED.has(result!.error?.code ?? '')) await this.cache.set(key, result!, this.config.cacheTtlSeconds);
      // the outputs first, the result last: a recorded result's outputs are there
      for (const format of ['pdf', 'hocr'] as const) {
        const out = outputBytes(result!, format);
        if (out) await this.traced(`store ${format}`, () => this.results.putOutput(documentId, format, out));
      }
      if (item && this.hooks) await this.traced('deliver outputs', () => this.hooks!.beforeComplete(item!, result!));
      const { resultKey, textKey } = await this.traced('store result', () => this.results.put(documentId, result!));
      const fields: CompletionFields = {
        result_key: resultKey, text_key: textKey, page_count: result!.pageCount, text_length: result!.text.length,
        qr_count: result!.qrCodes.length, qr_codes: result!.qrCodes.map((q) => q.text).slice(0, 100), text_preview: preview(result!.text),
        content_sha256: result!.sha256, cache_hit: cacheHit, duration_ms: result!.durationMs, queued_ms: result!.queuedMs ?? 0,
        ...(result!.error ? { error_code: result!.error.code, error_message: result!.error.message.slice(0, 1000) } : {}),
        // no undefined inside: DynamoDB's marshalling refuses it
        ...(result!.outputs ? { outputs: result!.outputs.map((o) => (o.error ? { format: o.format, error_code: o.error.code } : { format: o.format, bytes: o.bytes ?? 0 })) } : {}),
      };
      const recorded = await this.status.complete(documentId, this.owner, result!.status, fields);
      if (!recorded) {
        this.counters.lostClaims++;
        this.log('warn', 'claim lost before completion; result not recorded in the status item', { documentId });
      } else if (item) {
        await this.afterComplete({ ...item, ...fields, status: result!.status }, result);
      }
      this.metrics(emfLine(this.config, result!));
      this.log('info', 'document finished', { documentId, status: result!.status, errorCode: result!.error?.code, pageCount: result!.pageCount, cacheHit, durationMs: result!.durationMs, queuedMs: result!.queuedMs ?? 0 });
    } catch (err) {
      // storage or engine infrastructure failed, not the document: give it back for another attempt,
      // which counts (see StatusStore.handBack: a failure that persists must not go round for ever)
      this.log('error', 'document could not be processed; handing it back', { documentId, error: (err as Error).message });
      if (!job.handedBack) {
        job.handedBack = true;
        await this.status.handBack(documentId, this.owner, String((err as Error).message ?? err).slice(0, 1000)).catch((e: Error) => this.log('error', 'hand-back failed', { documentId, error: e.message }));
        this.counters.handedBack++;
      }
    } finally {
      clearInterval(renewal);
    }
  }

  /** The hooks' deliveries after a document's status turned final; their failure is only logged. */
  private async afterComplete(item: DocumentItem, result: OcrResult | undefined): Promise<void> {
    if (!this.hooks) return;
    await this.hooks.afterComplete(item, result).catch((err: Error) => this.log('error', 'delivery after completion failed', { documentId: item.document_id, error: err.message }));
  }

  private cacheMetric(hit: boolean): string {
    return JSON.stringify({
      _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: this.config.metricsNamespace, Dimensions: [['Service']], Metrics: [{ Name: hit ? 'CacheHits' : 'CacheMisses', Unit: 'Count' }] }] },
      Service: this.config.metricsService,
      [hit ? 'CacheHits' : 'CacheMisses']: 1,
    });
  }

  async getItem(documentId: string): Promise<DocumentItem> {
    checkDocumentId(documentId);
    const item = await this.status.get(documentId);
    if (!item) throw new ServiceError(404, 'NOT_FOUND', `No document with id '${documentId}'.`);
    return item;
  }

  /** GET /check-status/{id}, GET /status/{id}. */
  async getStatus(documentId: string): Promise<Record<string, unknown>> {
    const item = await this.getItem(documentId);
    const status = normalizeStatus(item.status) ?? item.status;
    return {
      document_id: item.document_id, status, file_name: item.file_name ?? null, file_type: item.file_type ?? null,
      bucket: item.bucket ?? null, key: item.key ?? null, attempts: item.attempts ?? 0,
      created_at: item.created_at ?? null, updated_at: item.updated_at ?? null, content_sha256: item.content_sha256 ?? null,
      page_count: item.page_count ?? null, text_length: item.text_length ?? null, qr_count: item.qr_count ?? null,
      qr_codes: item.qr_codes ?? [], text_preview: item.text_preview ?? null, cache_hit: item.cache_hit ?? null,
      // every output asked for: where to get it, or why there is none
      outputs: (item.outputs ?? []).map((o) => ('error_code' in o
        ? { format: o.format, bytes: null, error_code: o.error_code, url: null }
        : { format: o.format, bytes: o.bytes, error_code: null, url: `/result/${encodeURIComponent(item.document_id)}?format=${o.format}` })),
      error: item.error_code ? { code: item.error_code, message: item.error_message ?? '' } : null,
      result_key: item.result_key ?? null,
      result_url: status === 'SUCCEEDED' || (status === 'FAILED' && item.result_key) ? `/result/${encodeURIComponent(item.document_id)}` : null,
    };
  }

  /**
   * GET /result/{id}: the engine's result JSON when finished. Not ready → 202 with the status;
   * FAILED before the engine ran (no result) → 409 with the error.
   */
  async getResult(documentId: string, format: 'json' | 'pdf' | 'hocr' = 'json'): Promise<{ httpStatus: number; body: unknown; bytes?: Uint8Array; contentType?: string }> {
    const item = await this.getItem(documentId);
    const status = normalizeStatus(item.status);
    if (status === 'PENDING' || status === 'PROCESSING') {
      return { httpStatus: 202, body: { document_id: documentId, status, message: 'Not ready yet: poll /check-status or retry this URL.' } };
    }
    if (!item.result_key) {
      throw new ServiceError(409, 'NO_RESULT', `Document '${documentId}' FAILED without a result: ${item.error_code ?? 'UNKNOWN'}: ${item.error_message ?? ''}`);
    }
    const result = await this.results.get(item.result_key);
    if (!result) throw new ServiceError(500, 'RESULT_MISSING', `The result of '${documentId}' is recorded but cannot be read.`);
    if (format === 'json') return { httpStatus: 200, body: result };
    const entry = result.outputs?.find((o) => o.format === format);
    if (!entry) throw new ServiceError(404, 'NO_SUCH_OUTPUT', `Document '${documentId}' was not asked for a ${format} output (option outputs).`);
    if (entry.error) throw new ServiceError(409, entry.error.code, `Document '${documentId}' has no ${format} output: ${entry.error.message}`);
    const bytes = await this.results.getOutput(item.result_key, format);
    if (!bytes) throw new ServiceError(500, 'RESULT_MISSING', `The ${format} output of '${documentId}' is recorded but cannot be read.`);
    return { httpStatus: 200, body: null, bytes, contentType: OUTPUT_CONTENT_TYPES[format] };
  }

  /**
   * SIGTERM: stop admitting work at once (health 503), let in-flight documents run for up to
   * `graceMs`, hand the rest back (PROCESSING → PENDING, owner only) and stop the engine.
   */
  async shutdown(graceMs = this.config.shutdownGraceSeconds * 1000): Promise<{ finished: number; handedBack: number }> {
    if (this.stateValue === 'stopped') return { finished: 0, handedBack: 0 };
    this.stateValue = 'draining';
    const before = this.jobs.size;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.jobs.values()].map((j) => j.done)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, graceMs); }),
    ]);
    clearTimeout(timer);
    const remaining = [...this.jobs.values()];
    for (const job of remaining) {
      job.handedBack = true;
      const ok = await this.status.handBack(job.documentId, this.owner).catch((err: Error) => {
        this.log('error', 'hand-back failed (the sweep releases the claim when its lease expires)', { documentId: job.documentId, error: err.message });
        return false;
      });
      if (ok) this.counters.handedBack++;
      this.log('warn', 'document handed back at shutdown', { documentId: job.documentId, recorded: ok });
    }
    await this.engine.close({ force: remaining.length > 0 }).catch(() => undefined);
    await Promise.allSettled(remaining.map((j) => j.done));
    this.stateValue = 'stopped';
    await this.cache?.close?.().catch(() => undefined);
    await this.status.close?.().catch(() => undefined);
    return { finished: before - remaining.length, handedBack: remaining.length };
  }
}

export type { ErrorCode };
