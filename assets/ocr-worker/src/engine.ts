/**
 * The engine: runs each document in a bounded child process (time limit + RSS limit), with a warm
 * pool of tesseract workers inside the child. By default one document at a time (its pages use all
 * workers); `concurrency` runs several documents, each in its own child. Callers may queue many. Used by the CLI, the Batch entry point and the
 * HTTP service alike.
 *
 * Its parts: src/engine-slots.ts decides which document runs in which child, src/engine-child.ts
 * starts the children and runs a document in one under its bounds, src/engine-result.ts makes the
 * result; the parent/child messages are src/engine-messages.ts.
 */
import { killGroup, runInChild, sendToChild, spawnChild, type Child, type ChildSpec, type RunOutcome } from './engine-child.ts';
import { assembleResult, pendingResult, type ChildVersions } from './engine-result.ts';
import { SlotScheduler, type Slot } from './engine-slots.ts';
import { EngineInfrastructureError, OcrError, toErrorInfo } from './errors.ts';
import { detectMediaType, type MediaType } from './media.ts';
import { availableCpus, DEFAULTS, parseOcrEngine, parsePdfRenderer, type DocumentOptions, type OcrEngineName, type PdfRendererName } from './options.ts';
import { removeOrphanedChildScratch } from './scratch.ts';
import type { OcrResult } from './result.ts';

export { EngineInfrastructureError } from './errors.ts';
export { groupMembers, groupRssReader, memoryVerdict, type MemoryVerdict } from './engine-child.ts';
export { failedResult, sha256, WORKER_VERSION } from './engine-result.ts';

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

/** A child whose RSS stays above this fraction of the memory limit after a document is replaced. */
export const RECYCLE_FRACTION = 0.5;

export function createEngine(options: EngineOptions = {}): Engine {
  const workers = Math.max(1, options.workers ?? availableCpus());
  const languages = options.languages ?? options.defaults?.languages ?? DEFAULTS.languages;
  const ocrEngine = parseOcrEngine(options.ocrEngine, 'ocrEngine');
  const pdfRenderer = parsePdfRenderer(options.pdfRenderer, 'pdfRenderer', ocrEngine);
  const versions: ChildVersions = {};
  const timeoutMs = (options.timeoutSeconds ?? DEFAULTS.timeoutSeconds) * 1000;
  const memoryBytes = (options.memoryMb ?? DEFAULTS.memoryMb) * 1024 * 1024;
  const maxBytes = options.maxDocumentBytes ?? DEFAULTS.maxDocumentBytes;
  const log = options.onChildLog ?? ((line: string) => process.stderr.write(line + '\n'));
  // folders of OCR children killed along with an earlier engine process (a crash of both)
  const orphans = removeOrphanedChildScratch();
  if (orphans.length > 0) log(`removed ${orphans.length} scratch folder(s) of OCR children whose process is gone: ${orphans.join(', ')}`);
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, workers));
  const scheduler = new SlotScheduler(concurrency);
  const slots = scheduler.slots;
  let closed = false;
  let nextId = 1;
  let childrenStarted = 0;
  let documentsRerun = 0;
  const childSpec: ChildSpec = {
    workersPerChild: Math.max(1, Math.floor(workers / concurrency)),
    languages, ocrEngine, pdfRenderer, memoryBytes,
    warmTimeoutMs: (options.warmTimeoutSeconds ?? 120) * 1000,
    log,
    onReady: (m) => {
      if (ocrEngine === 'tesseract') versions.tesseract = m.ocrVersion;
      if (m.popplerVersion) versions.poppler = m.popplerVersion;
    },
  };

  function currentState(): EngineState {
    if (closed) return 'closed';
    if (scheduler.allBusy()) return 'busy';
    if (scheduler.idleWarm()) return 'ready';
    if (scheduler.anyLive()) return 'warming';
    return 'cold';
  }

  function startChild(slot: Slot): Child {
    childrenStarted++;
    return spawnChild(childSpec, (c) => { if (slot.child === c) slot.child = null; });
  }

  async function ensureChild(slot: Slot): Promise<Child> {
    if (closed) throw new EngineInfrastructureError('Engine is closed.');
    if (!slot.child || slot.child.exited) slot.child = startChild(slot);
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

  function runDocument(slot: Slot, c: Child, bytes: Uint8Array, mediaType: MediaType, name: string, opts: DocumentOptions): Promise<RunOutcome> {
    return runInChild(c, nextId++, bytes, mediaType, opts, {
      timeoutMs,
      memoryBytes,
      documentsInChild: () => slot.docs,
      kill: (forDocument) => killChild(slot, c, forDocument),
      onDispatched: () => scheduler.dispatched(slot, c),
      onProgress: (done, total, pageNumber) => options.onProgress?.(name, done, total, pageNumber),
    });
  }

  async function processOne(bytes: Uint8Array, request: ProcessRequest): Promise<OcrResult> {
    const t0 = performance.now();
    const opts: DocumentOptions = { ...options.defaults, ...stripUndefined(request.options ?? {}) };
    const langs = (opts.languages ?? languages).split('+').filter(Boolean);
    const result = pendingResult(bytes, request.name ?? '', langs, ocrEngine, pdfRenderer);
    // the document's own time excludes its waits for a slot (behind other documents), reported apart:
    // otherwise a document queued behind a long one would show that one's time as its own
    let queuedMs = 0;
    const done = (): OcrResult => {
      // every output asked for is listed: one the document never got (it could not be read) with why
      const asked = (opts.outputs ?? []).filter((f): f is 'pdf' | 'hocr' => f !== 'json');
      const missing = asked.filter((f) => !result.outputs?.some((o) => o.format === f));
      if (missing.length > 0) {
        result.outputs = [...(result.outputs ?? []), ...missing.map((format) => ({ format, error: { code: 'OUTPUT_FAILED' as const,
          message: `No ${format} output: the document could not be read${result.error ? ` (${result.error.code})` : ''}.` } }))];
      }
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
      if (attempt > 0) documentsRerun++;
      const waitStart = performance.now();
      const slot = await scheduler.acquire(attempt > 0);
      queuedMs += performance.now() - waitStart;
      try {
        const c = await ensureChild(slot);
        r = await runDocument(slot, c, bytes, result.mediaType as MediaType, result.source, opts);
        if (slot.docs === 1) {
          // a child left holding more than half the memory limit (WASM heaps never shrink) is recycled,
          // so that the next document gets its full budget
          if (!closed && slot.child && !slot.child.exited && slot.child.rss() > memoryBytes * RECYCLE_FRACTION) killChild(slot, slot.child);
          // a killed child is replaced right away, so that readiness (isReady) comes back without a request
          if (!closed && (!slot.child || slot.child.exited)) slot.child = startChild(slot);
        }
      } finally {
        scheduler.release(slot);
      }
    }
    if (r.rerun) r = { ...r, error: { code: 'WORKER_CRASHED', message: closed ? "The engine was closed while the document's process was running." : "The document's process died twice." } };
    assembleResult(result, r, versions);
    return done();
  }

  const engine: Engine = {
    get state() { return currentState(); },
    workers,
    stats: () => ({ childrenStarted, documentsJoined: scheduler.joined, documentsRerun }),
    isReady: () => !closed && scheduler.anyWarm(),
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
          sendToChild(c, { type: 'exit' }, (err) => { if (err) killGroup(c.proc); });
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
