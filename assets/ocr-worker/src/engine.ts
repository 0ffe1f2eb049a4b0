/**
 * The engine: runs each document in a bounded child process (time limit + RSS limit), with a warm
 * pool of tesseract workers inside the child. By default one document at a time (its pages use all
 * workers); `concurrency` runs several documents, each in its own child. Callers may queue many. Used by the CLI, the Batch entry point and the
 * HTTP service alike.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { OcrError, toErrorInfo, type ErrorInfo } from './errors.ts';
import { detectMediaType, type MediaType } from './media.ts';
import { availableCpus, DEFAULTS, parseOcrEngine, parsePdfRenderer, type DocumentOptions, type OcrEngineName, type PdfRendererName } from './options.ts';
import { PACKAGE_ROOT } from './paths.ts';
import { processes, readRss } from './proc.ts';
import { makeChildScratch, removeOrphanedChildScratch } from './scratch.ts';
import type { DocumentOutcome } from './document.ts';
import { PAGE_SEPARATOR, SCHEMA_VERSION, type OcrResult } from './result.ts';
import { INTERNAL_ENV } from './contract.ts';

const require = createRequire(import.meta.url);
export const WORKER_VERSION: string = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
const TESSERACT_JS_VERSION: string = require('tesseract.js/package.json').version;
const PDFJS_VERSION: string = require('pdfjs-dist/package.json').version;

export interface EngineOptions {
  /** tesseract workers in the child (pages processed concurrently). Default: CPUs from cgroup limits. */
  workers?: number;
  /** Default languages ('+'-separated). Default 'eng'. */
  languages?: string;
  /**
   * OCR backend: 'tesseract.js' (default) or 'tesseract' (native Tesseract, which must be installed:
   * Debian package tesseract-ocr). An unknown name throws here.
   */
  ocrEngine?: OcrEngineName;
  /**
   * What draws the PDF pages that go to OCR: 'pdf.js' or 'poppler' (Debian's pdftoppm, which must be
   * installed: package poppler-utils). Default: 'poppler' with ocrEngine 'tesseract', else 'pdf.js'.
   * An unknown name throws here.
   */
  pdfRenderer?: PdfRendererName;
  /** Time limit per document, seconds. Default 300. */
  timeoutSeconds?: number;
  /** RSS limit of the child process per document, MiB. Default 2048. */
  memoryMb?: number;
  /** Larger inputs fail with TOO_LARGE. Default 100 MiB. */
  maxDocumentBytes?: number;
  /** Defaults for per-document options (dpi, maxPages...). */
  defaults?: DocumentOptions;
  /** Progress callback (document name, pages done, pages total, page number). */
  onProgress?: (name: string, done: number, total: number, pageNumber: number) => void;
  /** Lines the child writes on stderr; default: copied to this process's stderr. */
  onChildLog?: (line: string) => void;
  /** How long the child may take to start its workers. Default 120 s. */
  warmTimeoutSeconds?: number;
  /**
   * Documents processed at the same time, each in its own bounded child process with
   * max(1, floor(workers / concurrency)) tesseract workers. Default 1 (one document at a time, its
   * pages in parallel). Raise it for streams of one-page documents (e.g. the HTTP service).
   */
  concurrency?: number;
}

export interface ProcessRequest {
  name?: string;
  options?: DocumentOptions;
}

export type EngineState = 'cold' | 'warming' | 'ready' | 'busy' | 'closed';

/** The engine could not do its job for reasons unrelated to a document (child cannot start...). */
export class EngineInfrastructureError extends Error {
  constructor(message: string) { super(message); this.name = 'EngineInfrastructureError'; }
}

export interface EngineStats { childrenStarted: number; documentsJoined: number; documentsRerun: number }

export interface Engine {
  process(bytes: Uint8Array, request?: ProcessRequest): Promise<OcrResult>;
  /** Starts the child and its tesseract workers; resolves when ready. */
  warm(): Promise<void>;
  /** True when a warm child is waiting (for /health readiness). */
  isReady(): boolean;
  readonly state: EngineState;
  readonly workers: number;
  /** Counters: children started, documents that joined a child finishing another, documents run again alone. */
  stats(): EngineStats;
  /** Stops the child (finishing nothing) and refuses further work. `force` kills it at once (SIGTERM handling). */
  close(opts?: { force?: boolean }): Promise<void>;
}

interface Child {
  proc: ChildProcess;
  ready: Promise<void>;
  isReady: boolean;
  stderrTail: string;
  exited: boolean;
  /** Its memory: its own RSS, with the native backend plus its process group's (groupRssReader). */
  rss: () => number;
  /**
   * Why the parent killed this child: the id of the document it overran for (another document in
   * it is not to blame), or 'shared' when an overrun could not be pinned on one of two documents.
   */
  killedFor?: number | 'shared';
}

/** What one run of a document in a child gave. `rerun`: it shared a child that died for another reason or document. */
interface RunOutcome { outcome?: DocumentOutcome; error?: ErrorInfo; peakRss: number; rerun?: boolean }

/** Pids of the processes in a process group other than its leader (a scan of /proc). */
export function groupMembers(leader: number): number[] {
  return processes().filter((p) => p.pid !== leader && Number(p.fields[2]) === leader).map((p) => p.pid); // [2] pgrp
}

/**
 * RSS of a process group's leader and of every other process in the group (a child leads its own
 * group): with the native backend, the child's tesseract processes hold the page images and the
 * model, and count against the document's memory limit like the child's own heap. The members are
 * looked up at most every `rescanMs` (a scan of /proc costs about a millisecond; a tesseract process
 * lives for seconds), their RSS on every call.
 */
export function groupRssReader(leader: number, rescanMs = 250): () => number {
  let members: number[] = [];
  let scannedAt = -Infinity;
  return () => {
    const now = performance.now();
    if (now - scannedAt >= rescanMs) {
      members = groupMembers(leader);
      scannedAt = now;
    }
    return members.reduce((sum, pid) => sum + readRss(pid), readRss(leader));
  };
}

/** SIGKILL to a child's whole process group (it and the native Tesseract processes it started). */
function killGroup(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
}

/**
 * What one poll of a child's memory means for one document in it:
 * - `awaiting-exit`: the child is already being killed (for the other document, or for both). Its
 *   exit decides, not its RSS: /proc still shows the dying process's memory while the other document
 *   has left the slot, so this one would look like the child's only document and take the blame.
 * - `within`: at or under the limit.
 * - `rerun-alone`: over the limit with two documents in the child; it cannot be pinned on one, so
 *   both run again, each alone, and then the bounds judge them.
 * - `over`: over the limit with this document alone in the child: RESOURCE_LIMIT.
 */
export type MemoryVerdict = 'awaiting-exit' | 'within' | 'rerun-alone' | 'over';

export function memoryVerdict(rss: number, limitBytes: number, documentsInChild: number, childKilledFor: number | 'shared' | undefined): MemoryVerdict {
  if (childKilledFor !== undefined) return 'awaiting-exit';
  if (rss <= limitBytes) return 'within';
  return documentsInChild > 1 ? 'rerun-alone' : 'over';
}

/** A child whose RSS stays above this fraction of the memory limit after a document is replaced. */
export const RECYCLE_FRACTION = 0.5;

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

export function createEngine(options: EngineOptions = {}): Engine {
  const workers = Math.max(1, options.workers ?? availableCpus());
  const languages = options.languages ?? options.defaults?.languages ?? DEFAULTS.languages;
  const ocrEngine = parseOcrEngine(options.ocrEngine, 'ocrEngine');
  const pdfRenderer = parsePdfRenderer(options.pdfRenderer, 'pdfRenderer', ocrEngine);
  let nativeTesseractVersion: string | undefined;
  let popplerVersion: string | undefined;
  const timeoutMs = (options.timeoutSeconds ?? DEFAULTS.timeoutSeconds) * 1000;
  const memoryBytes = (options.memoryMb ?? DEFAULTS.memoryMb) * 1024 * 1024;
  const maxBytes = options.maxDocumentBytes ?? DEFAULTS.maxDocumentBytes;
  const warmTimeoutMs = (options.warmTimeoutSeconds ?? 120) * 1000;
  const log = options.onChildLog ?? ((line: string) => process.stderr.write(line + '\n'));
  // folders of OCR children killed along with an earlier engine process (a crash of both)
  const orphans = removeOrphanedChildScratch();
  if (orphans.length > 0) log(`removed ${orphans.length} scratch folder(s) of OCR children whose process is gone: ${orphans.join(', ')}`);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, workers));
  const workersPerChild = Math.max(1, Math.floor(workers / concurrency));
  /**
   * A slot is one bounded child. It holds one document, plus a second one once the first has handed
   * all its pages to the OCR pool ('dispatched'): the workers then go straight on with the next
   * document instead of idling at the boundary. A document that must run alone (`exclusive`, see
   * processOne) is never joined.
   */
  interface Slot { child: Child | null; docs: number; joinable: boolean; exclusive: boolean }
  const slots: Slot[] = Array.from({ length: concurrency }, () => ({ child: null, docs: 0, joinable: false, exclusive: false }));
  const waiters: Array<{ exclusive: boolean; resolve: (s: Slot) => void }> = [];
  let closed = false;
  let nextId = 1;
  const stats: EngineStats = { childrenStarted: 0, documentsJoined: 0, documentsRerun: 0 };

  function admissible(slot: Slot, exclusive: boolean): boolean {
    if (slot.docs === 0) return true;
    return !exclusive && slot.docs === 1 && slot.joinable && !slot.exclusive && !!slot.child && !slot.child.exited;
  }
  function admit(slot: Slot, exclusive: boolean): Slot {
    if (slot.docs > 0) stats.documentsJoined++;
    slot.docs++;
    slot.joinable = false;
    slot.exclusive = exclusive;
    return slot;
  }
  /** Hands free (or joinable) slots to waiting documents, in arrival order; idle slots first. */
  function pump(): void {
    for (let i = 0; i < waiters.length;) {
      const w = waiters[i];
      const slot = slots.find((x) => x.docs === 0) ?? slots.find((x) => admissible(x, w.exclusive));
      if (!slot) { i++; continue; }
      waiters.splice(i, 1);
      w.resolve(admit(slot, w.exclusive));
    }
  }
  function acquire(exclusive: boolean): Promise<Slot> {
    return new Promise((resolve) => { waiters.push({ exclusive, resolve }); pump(); });
  }
  function release(slot: Slot): void {
    slot.docs--;
    if (slot.docs === 0) { slot.joinable = false; slot.exclusive = false; }
    pump();
  }
  function currentState(): EngineState {
    if (closed) return 'closed';
    if (slots.every((x) => x.docs > 0)) return 'busy';
    if (slots.some((x) => x.docs === 0 && x.child && x.child.isReady && !x.child.exited)) return 'ready';
    if (slots.some((x) => x.child && !x.child.exited)) return 'warming';
    return 'cold';
  }

  function spawnChild(slot: Slot): Child {
    const heapMb = Math.max(256, Math.floor(memoryBytes / (1024 * 1024)));
    stats.childrenStarted++;
    // the child's page files (native backend) go here, and the folder goes when the child does: a
    // child killed on an overrun cannot clean up after itself, and the service lives on for days
    const scratch = makeChildScratch();
    const proc = fork(join(PACKAGE_ROOT, 'src', 'child.ts'), [], {
      serialization: 'advanced',
      // its own process group, so that killing it also kills the processes it started (native backend)
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: [`--max-old-space-size=${heapMb}`, '--disable-warning=ExperimentalWarning'],
      env: { ...process.env, [INTERNAL_ENV.CHILD_WORKERS]: String(workersPerChild), [INTERNAL_ENV.CHILD_LANGUAGES]: languages, [INTERNAL_ENV.CHILD_ENGINE]: ocrEngine,
        [INTERNAL_ENV.CHILD_PDF_RENDERER]: pdfRenderer, [INTERNAL_ENV.SCRATCH_DIR]: scratch },
    });
    // only the native backend and Poppler start processes of their own: otherwise the child is measured alone
    const rss = ocrEngine === 'tesseract' || pdfRenderer === 'poppler' ? groupRssReader(proc.pid!) : () => readRss(proc.pid!);
    const c: Child = { proc, rss, ready: Promise.resolve(), isReady: false, stderrTail: '', exited: false };
    const onData = (buf: Buffer): void => {
      const s = buf.toString('utf8');
      c.stderrTail = (c.stderrTail + s).slice(-4096);
      for (const line of s.split('\n')) if (line.trim() && !/^Estimating resolution|^Detected \d+ diacritics|^Warning: Invalid resolution/.test(line)) log(line);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    // a failed pipe costs only log lines; unheard, its 'error' would end the parent
    proc.stdout!.on('error', (err) => log(`OCR child ${proc.pid} stdout: ${err.message}`));
    proc.stderr!.on('error', (err) => log(`OCR child ${proc.pid} stderr: ${err.message}`));
    proc.on('exit', () => {
      c.exited = true;
      if (slot.child === c) slot.child = null;
      // the child's tesseract processes die with it (killed as a group, or by its exit handler)
      rmSync(scratch, { recursive: true, force: true });
    });
    // every send has a callback; this catches what else the IPC channel may report, which as an
    // unhandled 'error' event would end the parent (the Batch job, the service) with it
    proc.on('error', (err) => log(`OCR child ${proc.pid}: ${err.message}`));
    c.ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { killGroup(proc); reject(new EngineInfrastructureError('OCR child did not become ready in time.')); }, warmTimeoutMs);
      const onMsg = (m: any): void => {
        if (m?.type === 'ready') {
          if (ocrEngine === 'tesseract') nativeTesseractVersion = m.ocrVersion;
          if (m.popplerVersion) popplerVersion = m.popplerVersion;
          clearTimeout(timer);
          c.isReady = true;
          proc.off('message', onMsg);
          resolve();
        }
        if (m?.type === 'fatal') { clearTimeout(timer); reject(new EngineInfrastructureError(m.message)); }
      };
      proc.on('message', onMsg);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new EngineInfrastructureError(`OCR child exited during start-up (code ${code}, signal ${signal}): ${c.stderrTail.slice(-500)}`));
      });
    });
    c.ready.catch(() => undefined);
    return c;
  }

  async function ensureChild(slot: Slot): Promise<Child> {
    if (closed) throw new EngineInfrastructureError('Engine is closed.');
    if (!slot.child || slot.child.exited) slot.child = spawnChild(slot);
    const c = slot.child;
    await c.ready;
    return c;
  }

  function killChild(slot: Slot, c: Child, forDocument?: number | 'shared'): void {
    if (!c.exited) {
      c.killedFor ??= forDocument;
      killGroup(c.proc);
    }
    if (slot.child === c) slot.child = null;
  }

  function runInChild(slot: Slot, c: Child, bytes: Uint8Array, mediaType: MediaType, name: string, opts: DocumentOptions): Promise<RunOutcome> {
    const id = nextId++;
    /** The parent killed the child for the other document (or for both): not this document's fault. */
    const killedForAnother = (): boolean => c.killedFor !== undefined && c.killedFor !== id;
    return new Promise((resolve) => {
      let peakRss = c.rss();
      let settled = false;
      let delivered = false; // the document has been written to the child (see the send below)
      const finish = (v: { outcome?: DocumentOutcome; error?: ErrorInfo; rerun?: boolean }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearInterval(poll);
        c.proc.off('message', onMsg);
        c.proc.off('exit', onExit);
        resolve({ ...v, peakRss });
      };
      const timer = setTimeout(() => {
        if (killedForAnother()) return; // dying for another reason; its exit settles this run
        killChild(slot, c, id);
        finish({ error: { code: 'TIMEOUT', message: `Document exceeded its time limit of ${timeoutMs / 1000} s; its process was stopped.` } });
      }, timeoutMs);
      const poll = setInterval(() => {
        const rss = c.rss();
        const verdict = memoryVerdict(rss, memoryBytes, slot.docs, c.killedFor);
        if (verdict === 'awaiting-exit') return;
        if (rss > peakRss) peakRss = rss;
        if (verdict === 'within') return;
        killChild(slot, c, verdict === 'rerun-alone' ? 'shared' : id);
        if (verdict === 'rerun-alone') finish({ rerun: true });
        else finish({ error: { code: 'RESOURCE_LIMIT', message: `Document exceeded its memory limit of ${Math.round(memoryBytes / 1048576)} MiB (RSS ${Math.round(rss / 1048576)} MiB); its process was stopped.` } });
      }, 50);
      const onMsg = (m: any): void => {
        if (m?.id !== id) return;
        if (m.type === 'progress') options.onProgress?.(name, m.done, m.total, m.pageNumber);
        else if (m.type === 'dispatched') { if (slot.child === c && !slot.exclusive) { slot.joinable = true; pump(); } }
        else if (m.type === 'done') finish({ outcome: m.outcome });
        else if (m.type === 'error') finish({ error: m.error });
      };
      const onExit = (code: number | null, signal: string | null): void => {
        // killed for the other document, died while two shared it, or died before the document had
        // reached it: not this document's fault (yet)
        if (!delivered || killedForAnother() || (c.killedFor === undefined && slot.docs > 1)) {
          finish({ rerun: true });
          return;
        }
        const oom = /heap out of memory|Allocation failed|RangeError: Array buffer allocation failed|out of memory/i.test(c.stderrTail);
        if (oom || signal === 'SIGABRT' || code === 134) {
          finish({ error: { code: 'RESOURCE_LIMIT', message: `Document exhausted the memory of its process (code ${code}, signal ${signal}).` } });
        } else {
          finish({ error: { code: 'WORKER_CRASHED', message: `The document's process died (code ${code}, signal ${signal}).` } });
        }
      };
      c.proc.on('message', onMsg);
      c.proc.on('exit', onExit);
      // A child that died a moment ago (its exit not yet seen) fails the send asynchronously, and
      // its exit may be seen first. The callback reports the failure (not an 'error' event) and says
      // when the document has been written to the child; until then a death is not the document's.
      c.proc.send({ type: 'process', id, bytes, mediaType, options: opts }, (err) => {
        if (!err) { delivered = true; return; }
        killChild(slot, c);
        finish({ rerun: true });
      });
    });
  }

  async function processOne(bytes: Uint8Array, request: ProcessRequest): Promise<OcrResult> {
    const t0 = performance.now();
    const opts: DocumentOptions = { ...options.defaults, ...stripUndefined(request.options ?? {}) };
    const langs = (opts.languages ?? languages).split('+').filter(Boolean);
    const result: OcrResult = {
      schemaVersion: SCHEMA_VERSION,
      source: request.name ?? '',
      sha256: sha256(bytes),
      engine: { version: WORKER_VERSION, languages: langs, ocr: ocrEngine, ...(ocrEngine === 'tesseract.js' ? { tesseractJs: TESSERACT_JS_VERSION } : {}), pdfjs: PDFJS_VERSION,
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
    // the document's own time excludes its waits for a slot (behind other documents), reported apart:
    // otherwise a document queued behind a long one would show that one's time as its own
    let queuedMs = 0;
    const done = (): OcrResult => {
      result.durationMs = Math.round(performance.now() - t0 - queuedMs);
      result.queuedMs = Math.round(queuedMs);
      return result;
    };
    try {
      if (bytes.length > maxBytes) throw new OcrError('TOO_LARGE', `The document is ${bytes.length} bytes, above the limit of ${maxBytes} bytes.`);
      result.mediaType = detectMediaType(bytes);
    } catch (err) {
      result.error = toErrorInfo(err);
      return done();
    }
    let r: RunOutcome = { peakRss: 0, rerun: true };
    // A document that shared a child which died (killed for the other document, or a crash or memory
    // overrun that cannot be pinned on one of the two) runs once more, alone: then the bounds judge it.
    for (let attempt = 0; r.rerun && attempt < 2 && !(closed && attempt > 0); attempt++) {
      if (attempt > 0) stats.documentsRerun++;
      const waitStart = performance.now();
      const slot = await acquire(attempt > 0);
      queuedMs += performance.now() - waitStart;
      try {
        const c = await ensureChild(slot);
        r = await runInChild(slot, c, bytes, result.mediaType as MediaType, result.source, opts);
        if (slot.docs === 1) {
          // a child left holding more than half the memory limit (WASM heaps never shrink) is recycled,
          // so that the next document gets its full budget
          if (!closed && slot.child && !slot.child.exited && slot.child.rss() > memoryBytes * RECYCLE_FRACTION) killChild(slot, slot.child);
          // a killed child is replaced right away, so that readiness (isReady) comes back without a request
          if (!closed && (!slot.child || slot.child.exited)) slot.child = spawnChild(slot);
        }
      } finally {
        release(slot);
      }
    }
    if (r.rerun) r = { ...r, error: { code: 'WORKER_CRASHED', message: closed ? "The engine was closed while the document's process was running." : "The document's process died twice." } };
    if (r.peakRss) result.peakRssBytes = r.peakRss;
    if (nativeTesseractVersion) result.engine.tesseract = nativeTesseractVersion;
    if (popplerVersion) result.engine.poppler = popplerVersion;
    if (r.error) {
      result.error = r.error;
      return done();
    }
    const o = r.outcome!;
    result.pageCount = o.pageCount;
    result.pages = o.pages;
    result.text = o.pages.filter((p) => !p.error).map((p) => p.text).join(PAGE_SEPARATOR);
    result.qrCodes = o.pages.flatMap((p) => p.qrCodes.map((q) => ({ pageNumber: p.pageNumber, text: q.text, format: q.format })));
    const good = o.pages.filter((p) => !p.error);
    if (good.length > 0) {
      result.status = 'SUCCEEDED';
    } else {
      const first = o.pages.find((p) => p.error)?.error;
      result.error = first ?? { code: 'INTERNAL_ERROR', message: 'No page could be read.' };
      if (first) result.error = { code: first.code, message: `No page could be read; first error: ${first.message}` };
    }
    return done();
  }

  const engine: Engine = {
    get state() { return currentState(); },
    workers,
    stats: () => ({ ...stats }),
    isReady: () => !closed && slots.some((x) => !!x.child && x.child.isReady && !x.child.exited),
    async warm() {
      await Promise.all(slots.map((x) => ensureChild(x)));
    },
    process(bytes, request = {}) {
      return processOne(bytes, request);
    },
    async close(opts = {}) {
      closed = true;
      const children = slots.map((x) => x.child).filter((c): c is Child => !!c && !c.exited);
      slots.forEach((x) => { x.child = null; });
      await Promise.all(children.map(async (c) => {
        if (opts.force) { killGroup(c.proc); return; }
        await new Promise<void>((resolve) => {
          const t = setTimeout(() => { killGroup(c.proc); resolve(); }, 3000);
          c.proc.once('exit', () => { clearTimeout(t); resolve(); });
          c.proc.send({ type: 'exit' }, (err) => { if (err) killGroup(c.proc); });
        });
      }));
    },
  };
  return engine;
}

export function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
