/**
 * Supervision of the engine's OCR child processes: starting one (its own process group, its own
 * scratch folder), waiting until it is warm, and running one document in it under the document's
 * time and memory bounds. Which documents share which child is src/engine-slots.ts's business.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { INTERNAL_ENV } from './contract.ts';
import type { DocumentOutcome } from './document.ts';
import { isDocumentMessage, type ChildMessage, type ParentMessage, type ReadyMessage } from './engine-messages.ts';
import { EngineInfrastructureError, type ErrorInfo } from './errors.ts';
import type { MediaType } from './media.ts';
import type { DocumentOptions, OcrEngineName, PdfRendererName } from './options.ts';
import { PACKAGE_ROOT } from './paths.ts';
import { processes, readRss } from './proc.ts';
import { makeChildScratch } from './scratch.ts';

export interface Child {
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
export interface RunOutcome { outcome?: DocumentOutcome; error?: ErrorInfo; peakRss: number; rerun?: boolean }

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
export function killGroup(proc: ChildProcess): void {
  try {
    process.kill(-proc.pid!, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
}

/** Sends a message to a child; `done` hears whether it was written (a child that just died fails it). */
export function sendToChild(c: Child, message: ParentMessage, done: (err: Error | null) => void): void {
  c.proc.send(message, done);
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

/** How every child of one engine is started. */
export interface ChildSpec {
  workersPerChild: number;
  languages: string;
  ocrEngine: OcrEngineName;
  pdfRenderer: PdfRendererName;
  memoryBytes: number;
  warmTimeoutMs: number;
  log: (line: string) => void;
  /** The child's ready message (versions of the OCR backend and of Poppler). */
  onReady: (message: ReadyMessage) => void;
}

/** Starts a child; `onExit` runs when it has exited (its scratch folder is gone by then). */
export function spawnChild(spec: ChildSpec, onExit: (c: Child) => void): Child {
  const heapMb = Math.max(256, Math.floor(spec.memoryBytes / (1024 * 1024)));
  // the child's page files (native backend) go here, and the folder goes when the child does: a
  // child killed on an overrun cannot clean up after itself, and the service lives on for days
  const scratch = makeChildScratch();
  const proc = fork(join(PACKAGE_ROOT, 'src', 'child.ts'), [], {
    serialization: 'advanced',
    // its own process group, so that killing it also kills the processes it started (native backend)
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [`--max-old-space-size=${heapMb}`, '--disable-warning=ExperimentalWarning'],
    env: { ...process.env, [INTERNAL_ENV.CHILD_WORKERS]: String(spec.workersPerChild), [INTERNAL_ENV.CHILD_LANGUAGES]: spec.languages, [INTERNAL_ENV.CHILD_ENGINE]: spec.ocrEngine,
      [INTERNAL_ENV.CHILD_PDF_RENDERER]: spec.pdfRenderer, [INTERNAL_ENV.SCRATCH_DIR]: scratch },
  });
  const log = spec.log;
  // only the native backend and Poppler start processes of their own: otherwise the child is measured alone
  const rss = spec.ocrEngine === 'tesseract' || spec.pdfRenderer === 'poppler' ? groupRssReader(proc.pid!) : () => readRss(proc.pid!);
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
    onExit(c);
    // the child's tesseract processes die with it (killed as a group, or by its exit handler)
    rmSync(scratch, { recursive: true, force: true });
  });
  // every send has a callback; this catches what else the IPC channel may report, which as an
  // unhandled 'error' event would end the parent (the Batch job, the service) with it
  proc.on('error', (err) => log(`OCR child ${proc.pid}: ${err.message}`));
  c.ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { killGroup(proc); reject(new EngineInfrastructureError('OCR child did not become ready in time.')); }, spec.warmTimeoutMs);
    const onMsg = (m: ChildMessage): void => {
      if (m?.type === 'ready') {
        spec.onReady(m);
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

/** What running one document needs from the engine: its bounds and the state of the document's slot. */
export interface RunContext {
  timeoutMs: number;
  memoryBytes: number;
  /** Documents in the child's slot now (one, or two when a second joined). */
  documentsInChild: () => number;
  /** Kill the child: for this document (its id), for both ('shared'), or for no document's fault (undefined). */
  kill: (forDocument?: number | 'shared') => void;
  /** The document has handed all its pages to the OCR pool. */
  onDispatched: () => void;
  onProgress: (done: number, total: number, pageNumber: number) => void;
}

/**
 * The outcome of a document whose pages were read but whose process was stopped (or died) while
 * writing its other outputs: the JSON result stands, and each output asked for fails with why.
 */
export function withOutputsFailed(pagesRead: DocumentOutcome, opts: DocumentOptions, cause: ErrorInfo): DocumentOutcome {
  const formats = (opts.outputs ?? []).filter((f): f is 'pdf' | 'hocr' => f === 'pdf' || f === 'hocr');
  return {
    ...pagesRead,
    outputs: formats.map((format) => ({ format, error: { code: 'OUTPUT_FAILED', message: `Writing the ${format} output failed (${cause.code}): ${cause.message}` } })),
  };
}

/** Runs one document (`id`) in a warm child under its time and memory bounds. */
export function runInChild(c: Child, id: number, bytes: Uint8Array, mediaType: MediaType, opts: DocumentOptions, ctx: RunContext): Promise<RunOutcome> {
  const { timeoutMs, memoryBytes } = ctx;
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
    // the JSON result, once the child has read the pages and is writing the other outputs
    let pagesRead: DocumentOutcome | undefined;
    /** The document overran or its process died: it fails, unless only its other outputs were left to write. */
    const fail = (error: ErrorInfo): void => {
      finish(pagesRead ? { outcome: withOutputsFailed(pagesRead, opts, error) } : { error });
    };
    const timer = setTimeout(() => {
      if (killedForAnother()) return; // dying for another reason; its exit settles this run
      ctx.kill(id);
      fail({ code: 'TIMEOUT', message: `Document exceeded its time limit of ${timeoutMs / 1000} s; its process was stopped.` });
    }, timeoutMs);
    const poll = setInterval(() => {
      const rss = c.rss();
      const verdict = memoryVerdict(rss, memoryBytes, ctx.documentsInChild(), c.killedFor);
      if (verdict === 'awaiting-exit') return;
      if (rss > peakRss) peakRss = rss;
      if (verdict === 'within') return;
      ctx.kill(verdict === 'rerun-alone' ? 'shared' : id);
      if (verdict === 'rerun-alone') finish({ rerun: true });
      else fail({ code: 'RESOURCE_LIMIT', message: `Document exceeded its memory limit of ${Math.round(memoryBytes / 1048576)} MiB (RSS ${Math.round(rss / 1048576)} MiB); its process was stopped.` });
    }, 50);
    const onMsg = (m: ChildMessage): void => {
      if (!isDocumentMessage(m) || m.id !== id) return;
      switch (m.type) {
        case 'progress': ctx.onProgress(m.done, m.total, m.pageNumber); break;
        case 'dispatched': ctx.onDispatched(); break;
        case 'pages-read': pagesRead = m.outcome; break;
        case 'done': finish({ outcome: m.outcome }); break;
        case 'error': finish({ error: m.error }); break;
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      // killed for the other document, died while two shared it, or died before the document had
      // reached it: not this document's fault (yet)
      if (!delivered || killedForAnother() || (c.killedFor === undefined && ctx.documentsInChild() > 1)) {
        finish({ rerun: true });
        return;
      }
      const oom = /heap out of memory|Allocation failed|RangeError: Array buffer allocation failed|out of memory/i.test(c.stderrTail);
      if (oom || signal === 'SIGABRT' || code === 134) {
        fail({ code: 'RESOURCE_LIMIT', message: `Document exhausted the memory of its process (code ${code}, signal ${signal}).` });
      } else {
        fail({ code: 'WORKER_CRASHED', message: `The document's process died (code ${code}, signal ${signal}).` });
      }
    };
    c.proc.on('message', onMsg);
    c.proc.on('exit', onExit);
    // A child that died a moment ago (its exit not yet seen) fails the send asynchronously, and
    // its exit may be seen first. The callback reports the failure (not an 'error' event) and says
    // when the document has been written to the child; until then a death is not the document's.
    sendToChild(c, { type: 'process', id, bytes, mediaType, options: opts }, (err) => {
      if (!err) { delivered = true; return; }
      ctx.kill();
      finish({ rerun: true });
    });
  });
}
