/**
 * The bounded child process. The parent (engine.ts) forks it, watches its RSS and its time per
 * document, and kills it on overrun. It keeps a warm pool of tesseract workers between documents.
 */
import { rmSync } from 'node:fs';
import { toErrorInfo } from './errors.ts';
import type { ChildMessage, ParentMessage } from './engine-messages.ts';
import type { OcrEngineName, PdfRendererName } from './options.ts';
import { OcrPool } from './ocr.ts';
import { processDocument } from './document.ts';
import { popplerVersion } from './poppler.ts';
import { EXIT, INTERNAL_ENV } from './contract.ts';

const workers = Number(process.env[INTERNAL_ENV.CHILD_WORKERS] ?? '1');
let languages = process.env[INTERNAL_ENV.CHILD_LANGUAGES] ?? 'eng';
const ocrEngine = (process.env[INTERNAL_ENV.CHILD_ENGINE] ?? 'tesseract.js') as OcrEngineName; // validated by the parent
const pdfRenderer = (process.env[INTERNAL_ENV.CHILD_PDF_RENDERER] ?? 'pdf.js') as PdfRendererName; // validated by the parent
let pool = new OcrPool(workers, languages, ocrEngine);

function send(msg: ChildMessage): void {
  if (process.send) process.send(msg);
}

async function main(): Promise<void> {
  let poppler: string | undefined;
  try {
    // a missing pdftoppm stops the engine at start, as a missing tesseract does, not page by page
    if (pdfRenderer === 'poppler') poppler = popplerVersion();
  } catch (err) {
    send({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(EXIT.UNEXPECTED);
  }
  try {
    await pool.warm();
  } catch (err) {
    send({ type: 'fatal', message: `OCR workers failed to start: ${err instanceof Error ? err.message : String(err)}` });
    process.exit(EXIT.UNEXPECTED);
  }
  send({ type: 'ready', ocrVersion: pool.version, popplerVersion: poppler });
}

/**
 * Documents run one after the other, overlapping only at the boundary: the next document starts
 * once the previous one has handed all its pages to the pool (its 'dispatched' message), so that
 * rendering the next pages overlaps the OCR of the last ones. The parent sends a second document
 * only after that message, and decides what an overrun means for the documents sharing the child.
 */
let gate: Promise<void> = Promise.resolve();
const running = new Set<Promise<void>>();
process.on('message', (msg: ParentMessage) => {
  if (msg.type === 'exit') {
    void pool.close().finally(() => process.exit(0));
    return;
  }
  if (msg.type !== 'process') return;
  const previous = gate;
  let open!: () => void;
  gate = new Promise<void>((resolve) => { open = resolve; });
  const onAllDispatched = (): void => {
    send({ type: 'dispatched', id: msg.id });
    open();
  };
  const work = (async () => {
    await previous;
    const opts = msg.options ?? {};
    try {
      const wanted = opts.languages ?? languages;
      if (wanted !== languages) {
        // another language set needs other workers: wait until the pool is idle
        await Promise.all([...running].filter((r) => r !== work));
        await pool.close();
        languages = wanted;
        pool = new OcrPool(workers, languages, ocrEngine);
        await pool.warm();
      }
      const outcome = await processDocument(msg.bytes, msg.mediaType, opts, pool, {
        progress: (done, total, pageNumber) => send({ type: 'progress', id: msg.id, done, total, pageNumber }),
        onAllDispatched,
        onPagesRead: (pagesRead) => send({ type: 'pages-read', id: msg.id, outcome: pagesRead }),
      }, pdfRenderer);
      send({ type: 'done', id: msg.id, outcome });
    } catch (err) {
      send({ type: 'error', id: msg.id, error: toErrorInfo(err) });
    } finally {
      open();
    }
  })();
  running.add(work);
  void work.finally(() => running.delete(work));
});

process.on('disconnect', () => process.exit(0));
// native Tesseract processes of this child must not outlive it (the parent's kill reaches them
// through the process group; this covers the child's own exit), nor its scratch folder: the parent
// removes it when the child exits, unless the parent itself was killed (the child then exits here)
process.on('exit', () => {
  pool.abort();
  const scratch = process.env[INTERNAL_ENV.SCRATCH_DIR];
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});
void main();
