/**
 * The bounded child process. The parent (engine.ts) forks it, watches its RSS and its time per
 * document, and kills it on overrun. It keeps a warm pool of tesseract workers between documents.
 */
import { toErrorInfo } from './errors.ts';
import type { MediaType } from './media.ts';
import type { DocumentOptions } from './options.ts';
import { OcrPool } from './ocr.ts';
import { processDocument } from './document.ts';

interface ProcessMsg { type: 'process'; id: number; bytes: Uint8Array; mediaType: MediaType; options: DocumentOptions }

const workers = Number(process.env.OCR_CHILD_WORKERS ?? '1');
let languages = process.env.OCR_CHILD_LANGUAGES ?? 'eng';
let pool = new OcrPool(workers, languages);

function send(msg: unknown): void {
  if (process.send) process.send(msg);
}

async function main(): Promise<void> {
  try {
    await pool.warm();
  } catch (err) {
    send({ type: 'fatal', message: `OCR workers failed to start: ${err instanceof Error ? err.message : String(err)}` });
    process.exit(70);
  }
  send({ type: 'ready' });
}

let queue = Promise.resolve();
process.on('message', (msg: ProcessMsg | { type: 'exit' }) => {
  if (msg.type === 'exit') {
    void pool.close().finally(() => process.exit(0));
    return;
  }
  if (msg.type !== 'process') return;
  queue = queue.then(async () => {
    const opts = msg.options ?? {};
    try {
      const wanted = opts.languages ?? languages;
      if (wanted !== languages) {
        await pool.close();
        languages = wanted;
        pool = new OcrPool(workers, languages);
        await pool.warm();
      }
      const outcome = await processDocument(msg.bytes, msg.mediaType, opts, pool, (done, total, pageNumber) => {
        send({ type: 'progress', id: msg.id, done, total, pageNumber });
      });
      send({ type: 'done', id: msg.id, outcome });
    } catch (err) {
      send({ type: 'error', id: msg.id, error: toErrorInfo(err) });
    }
  });
});

process.on('disconnect', () => process.exit(0));
void main();
