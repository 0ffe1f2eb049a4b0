/**
 * Storage behind small interfaces, so that the same service runs on a laptop (embedded storage:
 * memory, or files under a data directory) and on AWS (DynamoDB, S3, Redis; see aws-stores.ts and
 * redis-cache.ts).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { OcrResult } from '../result.ts';

export type DocumentStatus = 'PENDING' | 'PROCESSING' | 'SUCCEEDED' | 'FAILED';

/** Maps any spelling producers use (producers may write `pending`) onto the status vocabulary. */
export function normalizeStatus(value: unknown): DocumentStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const s = value.trim().toUpperCase();
  return s === 'PENDING' || s === 'PROCESSING' || s === 'SUCCEEDED' || s === 'FAILED' ? s : undefined;
}

/** The status item of one document (attribute names of the DynamoDB table). */
export interface DocumentItem {
  document_id: string;
  /** As stored: producers may have written `pending`; use normalizeStatus() to read it. */
  status: string;
  bucket?: string;
  key?: string;
  file_type?: string;
  /** Original file name (uploads). */
  file_name?: string;
  content_sha256?: string;
  attempts?: number;
  owner?: string;
  lease_expires_at?: number;
  version?: number;
  created_at?: string;
  updated_at?: string;
  /** Per-document options as JSON (dpi, pages, maxPages, languages), kept so a hand-back keeps them. */
  options?: string;
  result_key?: string;
  text_key?: string;
  page_count?: number;
  text_length?: number;
  qr_count?: number;
  qr_codes?: string[];
  text_preview?: string;
  error_code?: string;
  error_message?: string;
  /** true when the result came from the cache (same content, engine, languages and options). */
  cache_hit?: boolean;
  /** The outputs asked for besides the JSON result (option `outputs`): each one's size when written, or its error code. */
  outputs?: Array<{ format: 'pdf' | 'hocr'; bytes: number } | { format: 'pdf' | 'hocr'; error_code: string }>;
  /** The result's durationMs: time spent on the document, its wait for the engine excluded. */
  duration_ms?: number;
  /** The result's queuedMs: time the document waited for the engine behind other documents. */
  queued_ms?: number;
  /**
   * A Textract job's JobTag, NotificationChannel topic and OutputConfig (JSON, see
   * ../textract/job-options.ts): what the task that finishes the job delivers.
   */
  textract_job?: string;
  /**
   * A byte limit for this document below the service's own: DetectDocumentText's 10 MB, so that an
   * S3 object above it is refused as Amazon Textract refuses it rather than read.
   */
  max_document_bytes?: number;
  /** Why the last attempt handed the document back (a storage or engine failure); quoted by TOO_MANY_ATTEMPTS. */
  last_error?: string;
  expires_at?: number;
}

/** The reason a document that used up its attempts ends FAILED with. */
export function tooManyAttemptsMessage(item: DocumentItem): string {
  return `Claimed ${item.attempts ?? 0} times without finishing${item.last_error ? `; last error: ${item.last_error}` : ''}.`;
}

/** Fields written when a document reaches SUCCEEDED or FAILED. */
export type CompletionFields = Pick<DocumentItem,
  'result_key' | 'text_key' | 'page_count' | 'text_length' | 'qr_count' | 'qr_codes' | 'text_preview' |
  'error_code' | 'error_message' | 'cache_hit' | 'content_sha256' | 'duration_ms' | 'queued_ms' | 'outputs'>;

export type ClaimOutcome =
  | { kind: 'claimed'; item: DocumentItem }
  | { kind: 'not-found' }
  /** Already SUCCEEDED or FAILED. */
  | { kind: 'finished'; item: DocumentItem }
  /** PROCESSING under another claim (live or not: the sweep releases expired ones). */
  | { kind: 'busy'; item: DocumentItem }
  /** The claim would exceed the attempt budget: the item was set FAILED (TOO_MANY_ATTEMPTS). */
  | { kind: 'exhausted'; item: DocumentItem };

export interface ClaimRequest {
  owner: string;
  leaseSeconds: number;
  maxAttempts: number;
  /** Fields the claimer fills in when the item lacks them (bucket/key from the request). */
  fill?: Pick<DocumentItem, 'bucket' | 'key' | 'file_type'>;
}

/**
 * Status of documents. Every transition is conditional, so two tasks never process one document
 * and no update is lost (a writer that lost its claim is told so and writes nothing).
 */
export interface StatusStore {
  /** Inserts the item if no item has its id. Returns false when one exists. */
  create(item: DocumentItem): Promise<boolean>;
  get(documentId: string): Promise<DocumentItem | undefined>;
  /** PENDING (any spelling) → PROCESSING with `attempts + 1`, owner and lease, if attempts < max. */
  claim(documentId: string, req: ClaimRequest): Promise<ClaimOutcome>;
  /** Extends the lease; false when the claim is no longer ours. */
  renew(documentId: string, owner: string, leaseSeconds: number): Promise<boolean>;
  /** PROCESSING → SUCCEEDED/FAILED, only by the claim holder; false when the claim is no longer ours. */
  complete(documentId: string, owner: string, status: 'SUCCEEDED' | 'FAILED', fields: CompletionFields): Promise<boolean>;
  /**
   * PROCESSING → PENDING, lease released, only by the holder. Without `failure` (shutdown: nobody's
   * fault) the attempt is given back (`attempts - 1`). With it (storage or engine failed) the attempt
   * counts and `last_error` keeps why: the stream hands a PENDING item straight to a task again, so a
   * failure that persists (a results bucket the role may not write) ends in TOO_MANY_ATTEMPTS after
   * OCR_MAX_ATTEMPTS claims instead of going round for ever.
   */
  handBack(documentId: string, owner: string, failure?: string): Promise<boolean>;
  close?(): Promise<void>;
}

/** Result JSON (large) and its text, by document. */
export interface ResultStore {
  put(documentId: string, result: OcrResult): Promise<{ resultKey: string; textKey: string }>;
  get(resultKey: string): Promise<OcrResult | undefined>;
  /** Stores an output besides the result (searchable PDF, hOCR) beside it: `result.pdf`, `result.hocr`. Before put. */
  putOutput(documentId: string, format: 'pdf' | 'hocr', bytes: Uint8Array): Promise<string>;
  /** An output stored with putOutput, by the key of the result it belongs to. */
  getOutput(resultKey: string, format: 'pdf' | 'hocr'): Promise<Uint8Array | undefined>;
}

/** The key of a result's output beside its `result.json`. */
export function outputKeyOf(resultKey: string, format: 'pdf' | 'hocr'): string {
  return resultKey.replace(/result\.json$/, `result.${format}`);
}

/** Document bytes: uploads are stored before they are processed, so a hand-back can find them. */
export interface DocumentStore {
  /** Name of the bucket uploads go to ('local' in local mode). */
  readonly uploadBucket: string;
  /** Where putUpload() stores a document (known before it is stored). */
  uploadLocation(documentId: string, fileName: string): { bucket: string; key: string };
  putUpload(documentId: string, fileName: string, bytes: Uint8Array): Promise<{ bucket: string; key: string }>;
  /** Reads a document; throws DocumentNotFoundError / DocumentUnreadableError / DocumentTooLargeError. */
  get(bucket: string, key: string, maxBytes: number): Promise<Uint8Array>;
  /** A document's size in bytes, without reading it; throws DocumentNotFoundError / DocumentUnreadableError. */
  size(bucket: string, key: string): Promise<number>;
  /**
   * Why no document can ever be read from this bucket and key (a name S3 refuses, a path out of the
   * data directory), or null: checked when a request names them, so that it is refused then.
   */
  locationProblem(bucket: string, key: string): string | null;
}

/** Writes an object to a bucket the service may write to (Textract's OutputConfig). */
export interface ObjectWriter {
  putObject(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** Why no object can be written at this bucket and key, or null (see DocumentStore.locationProblem). */
  locationProblem(bucket: string, key: string): string | null;
}

export class DocumentNotFoundError extends Error {
  constructor(message: string) { super(message); this.name = 'DocumentNotFoundError'; }
}
/** The document exists but this service may not read it (S3 access denied): no retry helps. */
export class DocumentUnreadableError extends Error {
  constructor(message: string) { super(message); this.name = 'DocumentUnreadableError'; }
}
export class DocumentTooLargeError extends Error {
  readonly size: number;
  constructor(size: number, maxBytes: number) {
    super(`The document is ${size} bytes, above the limit of ${maxBytes} bytes.`);
    this.name = 'DocumentTooLargeError';
    this.size = size;
  }
}

/** Result cache by content hash + engine version + languages + options. */
export interface Cache {
  get(key: string): Promise<OcrResult | undefined>;
  set(key: string, result: OcrResult, ttlSeconds: number): Promise<void>;
  close?(): Promise<void>;
}

export const nowIso = (): string => new Date().toISOString();
export const epochSeconds = (): number => Math.floor(Date.now() / 1000);

/** File name safe to use as the last path segment of a key. */
export function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 120);
  return cleaned || 'document';
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

const clone = <T>(x: T): T => structuredClone(x);

/**
 * Embedded status store: a map (JavaScript runs one transition at a time, so each method is atomic),
 * written through to `<dataDir>/status/<id>.json` when a data directory is given.
 */
export class LocalStatusStore implements StatusStore {
  private readonly items = new Map<string, DocumentItem>();
  private readonly dir: string | null;

  constructor(dataDir: string | null = null) {
    this.dir = dataDir ? join(dataDir, 'status') : null;
    if (this.dir && existsSync(this.dir)) {
      for (const f of readdirSync(this.dir)) {
        if (!f.endsWith('.json')) continue;
        const item = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as DocumentItem;
        this.items.set(item.document_id, item);
      }
    }
  }

  private save(item: DocumentItem): void {
    this.items.set(item.document_id, item);
    if (this.dir) writeAtomic(join(this.dir, `${encodeURIComponent(item.document_id)}.json`), JSON.stringify(item, null, 2));
  }

  async create(item: DocumentItem): Promise<boolean> {
    if (this.items.has(item.document_id)) return false;
    const t = nowIso();
    this.save({ attempts: 0, version: 1, created_at: t, ...clone(item), updated_at: t });
    return true;
  }

  async get(documentId: string): Promise<DocumentItem | undefined> {
    const item = this.items.get(documentId);
    return item ? clone(item) : undefined;
  }

  async claim(documentId: string, req: ClaimRequest): Promise<ClaimOutcome> {
    const item = this.items.get(documentId);
    if (!item) return { kind: 'not-found' };
    const status = normalizeStatus(item.status);
    if (status === 'SUCCEEDED' || status === 'FAILED') return { kind: 'finished', item: clone(item) };
    if (status !== 'PENDING') return { kind: 'busy', item: clone(item) };
    const attempts = item.attempts ?? 0;
    const next: DocumentItem = { ...item, version: (item.version ?? 0) + 1, updated_at: nowIso() };
    if (attempts >= req.maxAttempts) {
      Object.assign(next, { status: 'FAILED', error_code: 'TOO_MANY_ATTEMPTS', error_message: tooManyAttemptsMessage(item) });
      this.save(next);
      return { kind: 'exhausted', item: clone(next) };
    }
    Object.assign(next, {
      bucket: item.bucket ?? req.fill?.bucket, key: item.key ?? req.fill?.key, file_type: item.file_type ?? req.fill?.file_type,
      status: 'PROCESSING', attempts: attempts + 1, owner: req.owner, lease_expires_at: epochSeconds() + req.leaseSeconds,
    });
    for (const k of ['bucket', 'key', 'file_type'] as const) if (next[k] === undefined) delete next[k];
    this.save(next);
    return { kind: 'claimed', item: clone(next) };
  }

  /**
   * Local mode has no stream and no sweep: at start-up, claims left by an earlier process on the same
   * data directory (stopped by SIGKILL) are released, and the ids of all PENDING items returned so the
   * new process can take them. One process per data directory, and each start has an owner of its own
   * (claimOwner), so every claim but the current owner's is held by no live process; the current
   * owner's are the requests it has accepted since it turned ready.
   */
  async recoverAfterRestart(currentOwner: string): Promise<string[]> {
    for (const item of [...this.items.values()]) {
      if (item.status === 'PROCESSING' && item.owner !== currentOwner) {
        const next: DocumentItem = { ...item, status: 'PENDING', attempts: Math.max(0, (item.attempts ?? 1) - 1), version: (item.version ?? 0) + 1, updated_at: nowIso() };
        delete next.owner;
        delete next.lease_expires_at;
        this.save(next);
      }
    }
    return [...this.items.values()].filter((i) => normalizeStatus(i.status) === 'PENDING').map((i) => i.document_id);
  }

  private holds(documentId: string, owner: string): DocumentItem | undefined {
    const item = this.items.get(documentId);
    return item && item.status === 'PROCESSING' && item.owner === owner ? item : undefined;
  }

  async renew(documentId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const item = this.holds(documentId, owner);
    if (!item) return false;
    this.save({ ...item, lease_expires_at: epochSeconds() + leaseSeconds, version: (item.version ?? 0) + 1, updated_at: nowIso() });
    return true;
  }

  async complete(documentId: string, owner: string, status: 'SUCCEEDED' | 'FAILED', fields: CompletionFields): Promise<boolean> {
    const item = this.holds(documentId, owner);
    if (!item) return false;
    const next: DocumentItem = { ...item, ...clone(fields), status, version: (item.version ?? 0) + 1, updated_at: nowIso() };
    delete next.owner;
    delete next.lease_expires_at;
    for (const [k, v] of Object.entries(next)) if (v === undefined) delete (next as unknown as Record<string, unknown>)[k];
    this.save(next);
    return true;
  }

  async handBack(documentId: string, owner: string, failure?: string): Promise<boolean> {
    const item = this.holds(documentId, owner);
    if (!item) return false;
    const attempts = failure === undefined ? Math.max(0, (item.attempts ?? 1) - 1) : item.attempts ?? 1;
    const next: DocumentItem = { ...item, status: 'PENDING', attempts, version: (item.version ?? 0) + 1, updated_at: nowIso() };
    if (failure !== undefined) next.last_error = failure;
    delete next.owner;
    delete next.lease_expires_at;
    this.save(next);
    return true;
  }
}

/** Embedded result store: memory, or `<dataDir>/results/<id>/result.json|.txt`. */
export class LocalResultStore implements ResultStore {
  private readonly mem = new Map<string, string>();
  private readonly dataDir: string | null;
  private readonly prefix: string;
  constructor(dataDir: string | null = null, prefix = 'results/') { this.dataDir = dataDir; this.prefix = prefix; }

  async put(documentId: string, result: OcrResult): Promise<{ resultKey: string; textKey: string }> {
    const base = `${this.prefix}${encodeURIComponent(documentId)}`;
    const resultKey = `${base}/result.json`;
    const textKey = `${base}/result.txt`;
    const json = JSON.stringify(result);
    if (this.dataDir) {
      writeAtomic(join(this.dataDir, textKey), result.text);
      writeAtomic(join(this.dataDir, resultKey), json);
    } else {
      this.mem.set(textKey, result.text);
      this.mem.set(resultKey, json);
    }
    return { resultKey, textKey };
  }

  async get(resultKey: string): Promise<OcrResult | undefined> {
    if (this.dataDir) {
      const p = join(this.dataDir, resultKey);
      return existsSync(p) ? JSON.parse(readFileSync(p, 'utf8')) : undefined;
    }
    const s = this.mem.get(resultKey);
    return s === undefined ? undefined : JSON.parse(s);
  }

  private readonly outputs = new Map<string, Uint8Array>();

  async putOutput(documentId: string, format: 'pdf' | 'hocr', bytes: Uint8Array): Promise<string> {
    const key = outputKeyOf(`${this.prefix}${encodeURIComponent(documentId)}/result.json`, format);
    if (this.dataDir) writeAtomic(join(this.dataDir, key), bytes);
    else this.outputs.set(key, bytes);
    return key;
  }

  async getOutput(resultKey: string, format: 'pdf' | 'hocr'): Promise<Uint8Array | undefined> {
    const key = outputKeyOf(resultKey, format);
    if (this.dataDir) {
      const p = join(this.dataDir, key);
      return existsSync(p) ? readFileSync(p) : undefined;
    }
    return this.outputs.get(key);
  }
}

/**
 * Embedded document store. Uploads go to memory or `<dataDir>/uploads/<id>/<name>`. In local mode a
 * `POST /process` or JSON `/extract` naming bucket `local` reads `<dataDir>/<key>`.
 */
export class LocalDocumentStore implements DocumentStore, ObjectWriter {
  readonly uploadBucket = 'local';
  private readonly mem = new Map<string, Uint8Array>();
  private readonly dataDir: string | null;
  private readonly prefix: string;
  constructor(dataDir: string | null = null, prefix = 'uploads/') { this.dataDir = dataDir; this.prefix = prefix; }

  uploadLocation(documentId: string, fileName: string): { bucket: string; key: string } {
    return { bucket: this.uploadBucket, key: `${this.prefix}${encodeURIComponent(documentId)}/${safeFileName(fileName)}` };
  }

  async putUpload(documentId: string, fileName: string, bytes: Uint8Array): Promise<{ bucket: string; key: string }> {
    const { key } = this.uploadLocation(documentId, fileName);
    if (this.dataDir) writeAtomic(join(this.dataDir, key), bytes);
    else this.mem.set(key, bytes);
    return { bucket: this.uploadBucket, key };
  }

  /** Puts a document at an arbitrary key (tests and local producers). */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (this.dataDir) writeAtomic(join(this.dataDir, key), bytes);
    else this.mem.set(key, bytes);
  }

  /** Bucket `local` is the data directory (or memory), as for reading. */
  async putObject(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    const problem = this.locationProblem(bucket, key);
    if (problem) throw new Error(problem);
    await this.put(key, typeof body === 'string' ? Buffer.from(body, 'utf8') : body);
  }

  locationProblem(bucket: string, key: string): string | null {
    if (bucket !== this.uploadBucket) return `Bucket '${bucket}' is not available in local mode (use '${this.uploadBucket}').`;
    if (key.split('/').includes('..')) return `Key '${key}' is not allowed: a '..' segment would leave the data directory.`;
    return null;
  }

  async size(bucket: string, key: string): Promise<number> {
    const problem = this.locationProblem(bucket, key);
    if (problem) throw new DocumentNotFoundError(problem);
    if (this.dataDir) {
      const stat = statSync(join(this.dataDir, key), { throwIfNoEntry: false });
      if (stat?.isFile()) return stat.size;
    } else {
      const bytes = this.mem.get(key);
      if (bytes) return bytes.length;
    }
    throw new DocumentNotFoundError(`No document at ${bucket}/${key}.`);
  }

  async get(bucket: string, key: string, maxBytes: number): Promise<Uint8Array> {
    // also checked here: /process records come from the status table, not from a request
    const problem = this.locationProblem(bucket, key);
    if (problem) throw new DocumentNotFoundError(problem);
    let bytes: Uint8Array | undefined;
    if (this.dataDir) {
      const p = join(this.dataDir, key);
      if (existsSync(p)) bytes = readFileSync(p);
    } else {
      bytes = this.mem.get(key);
    }
    if (!bytes) throw new DocumentNotFoundError(`No document at ${bucket}/${key}.`);
    if (bytes.length > maxBytes) throw new DocumentTooLargeError(bytes.length, maxBytes);
    return bytes;
  }
}

/** Embedded cache: a bounded map in insertion order (oldest evicted first), with TTL. */
export class MemoryCache implements Cache {
  private readonly entries = new Map<string, { value: string; expires: number }>();
  private readonly maxEntries: number;
  constructor(maxEntries = 1000) { this.maxEntries = maxEntries; }

  async get(key: string): Promise<OcrResult | undefined> {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires < Date.now()) { this.entries.delete(key); return undefined; }
    return JSON.parse(e.value);
  }

  async set(key: string, result: OcrResult, ttlSeconds: number): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { value: JSON.stringify(result), expires: Date.now() + ttlSeconds * 1000 });
    while (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}
