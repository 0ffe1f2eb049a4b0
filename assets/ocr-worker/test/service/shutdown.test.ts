/**
 * Graceful shutdown of the real service process (`src/service/main.ts`, local mode with a data
 * directory): SIGTERM while a document is being processed. Within the grace period the document
 * finishes; beyond it the document is handed back (PENDING, claim released). Exit 0 either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateResult } from '../../src/index.ts';
import { decodeImageFrame } from '../../src/image.ts';
import { fixture, PKG } from '../helpers/common.ts';
import { imagePdf, PdfWriter } from '../helpers/pdfwriter.ts';
import { endlessPdf } from '../hostile.ts';
import { getJson, upload } from './helpers.ts';

interface Running { proc: ChildProcess; url: string; lines: any[]; exit: Promise<number | null>; dataDir: string }

/** Starts `node src/service/main.ts` on a free port and waits for 'ready' (workers warm). */
async function startService(env: Record<string, string>): Promise<Running> {
  // a second process on the same data directory gets it in env; only a new one makes one
  const dataDir = env.OCR_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'ocr-svc-'));
  const proc = spawn(join(PKG, 'node_modules', '.bin', 'node'), ['--disable-warning=ExperimentalWarning', join(PKG, 'src', 'service', 'main.ts')], {
    cwd: PKG,
    env: { ...process.env, PORT: '0', OCR_DATA_DIR: dataDir, OCR_WORKERS: '1', OCR_REQUEST_TIMEOUT_SECONDS: '5', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: any[] = [];
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let port = 0;
    proc.stdout!.on('data', (b: Buffer) => {
      buf += b.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try { lines.push(JSON.parse(line)); } catch { continue; }
        const last = lines[lines.length - 1];
        if (last.msg === 'listening') port = last.port;
        if (last.msg === 'ready') resolve(`http://127.0.0.1:${port}`);
      }
    });
    void exit.then((code) => reject(new Error(`service exited early (${code}): ${JSON.stringify(lines)}`)));
  });
  return { proc, url, lines, exit, dataDir };
}

/** The scratch folders engines made for their OCR children. */
function childScratchFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-')).map((f) => join(tmpdir(), f));
}

function item(dataDir: string, id: string): any {
  return JSON.parse(readFileSync(join(dataDir, 'status', `${id}.json`), 'utf8'));
}

/** Several scanned pages as one PDF: OCR keeps one worker busy for a few seconds. */
async function scannedPdf(pages: number): Promise<Buffer> {
  const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
  const one = imagePdf(img, 150);
  // the same page n times: rebuild with n page objects sharing one image
  const src = one.toString('latin1');
  const imageStream = /(\d+) 0 obj\n<< \/Type \/XObject[\s\S]*?endstream/.exec(src);
  assert.ok(imageStream, 'image object found');
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const imgObj = imageStream[0].slice(imageStream[0].indexOf('\n') + 1);
  const imgId = w.add(Buffer.from(imgObj, 'latin1'));
  const mb = /\/MediaBox \[([^\]]+)\]/.exec(src)![1].trim().split(/\s+/).map(Number);
  const content = w.stream(`q ${mb[2]} 0 0 ${mb[3]} 0 0 cm /Im0 Do Q`);
  const kids: number[] = [];
  for (let i = 0; i < pages; i++) kids.push(w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [${mb.join(' ')}] /Resources << /XObject << /Im0 ${imgId} 0 R >> >> /Contents ${content} 0 R >>`));
  w.set(pagesId, `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

test('GIVEN a document in flight WHEN SIGTERM arrives THEN it finishes within the grace period and the process exits 0', async () => {
  const svc = await startService({ OCR_SHUTDOWN_GRACE_SECONDS: '90' });
  try {
    const pdf = await scannedPdf(4);
    const r = await upload(svc.url, pdf, 'scan4.pdf', { document_id: 'inflight-1' });
    assert.equal(r.status, 202);
    svc.proc.kill('SIGTERM');
    assert.equal(await svc.exit, 0);
    const drain = svc.lines.find((l) => l.msg === 'SIGTERM: draining');
    assert.equal(drain?.inFlight, 1, 'SIGTERM arrived while the document was being processed');
    const it = item(svc.dataDir, 'inflight-1');
    assert.equal(it.status, 'SUCCEEDED');
    assert.equal(it.page_count, 4);
    assert.equal(it.owner, undefined);
    const result = JSON.parse(readFileSync(join(svc.dataDir, it.result_key), 'utf8'));
    assert.deepEqual(validateResult(result), []);
    assert.match(result.text, /quick brown dog/);
    const stopped = svc.lines.find((l) => l.msg === 'stopped');
    assert.deepEqual([stopped?.finished, stopped?.handedBack], [1, 0]);
  } finally {
    svc.proc.kill('SIGKILL');
    await svc.exit; // a service still alive could write into the folder after it is removed
    rmSync(svc.dataDir, { recursive: true, force: true });
  }
});

test('GIVEN a document that cannot finish within the grace period WHEN SIGTERM arrives THEN health and new work get 503, reads work, the document is handed back, exit 0', async () => {
  const svc = await startService({ OCR_SHUTDOWN_GRACE_SECONDS: '3', OCR_DOC_TIMEOUT_SECONDS: '300' });
  try {
    const r = await upload(svc.url, endlessPdf(), 'endless.pdf', { document_id: 'endless-1' });
    assert.equal(r.status, 202);
    assert.equal((await getJson(`${svc.url}/health`)).status, 200);
    svc.proc.kill('SIGTERM');
    // wait until the process has seen the signal (its log line), then probe during the grace period
    for (let i = 0; i < 200 && !svc.lines.some((l) => l.msg === 'SIGTERM: draining'); i++) await new Promise((res) => setTimeout(res, 10));
    const health = await getJson(`${svc.url}/health`);
    assert.equal(health.status, 503);
    assert.equal(health.body.status, 'shutting-down');
    const refused = await upload(svc.url, Buffer.from('%PDF-1.4\n'), 'late.pdf');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.error, 'SHUTTING_DOWN');
    assert.ok(refused.headers.get('retry-after'));
    const read = await getJson(`${svc.url}/check-status/endless-1`);
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'PROCESSING');
    assert.equal(await svc.exit, 0);
    const it = item(svc.dataDir, 'endless-1');
    assert.equal(it.status, 'PENDING', 'handed back for another task');
    assert.equal(it.attempts, 0, 'the attempt is given back: not the document\'s fault');
    assert.equal(it.owner, undefined);
    assert.equal(it.lease_expires_at, undefined);
    assert.ok(existsSync(join(svc.dataDir, it.key)), 'the upload stays where the item says, for the next task');
    assert.equal(svc.lines.find((l) => l.msg === 'stopped')?.handedBack, 1);
  } finally {
    svc.proc.kill('SIGKILL');
    await svc.exit; // a service still alive could write into the folder after it is removed
    rmSync(svc.dataDir, { recursive: true, force: true });
  }
});

test('GIVEN a handed-back document WHEN a new process starts on the same data directory THEN it resumes and finishes it', async () => {
  const first = await startService({ OCR_SHUTDOWN_GRACE_SECONDS: '0' });
  const dataDir = first.dataDir;
  try {
    const pdf = await scannedPdf(2);
    assert.equal((await upload(first.url, pdf, 'scan2.pdf', { document_id: 'again-1' })).status, 202);
    first.proc.kill('SIGTERM');
    assert.equal(await first.exit, 0);
    assert.equal(item(dataDir, 'again-1').status, 'PENDING');
  } finally {
    first.proc.kill('SIGKILL');
  }
  const second = await startService({ OCR_DATA_DIR: dataDir });
  try {
    let s: any;
    for (let i = 0; i < 1200; i++) {
      s = (await getJson(`${second.url}/check-status/again-1`)).body;
      if (s.status === 'SUCCEEDED' || s.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.attempts, 1, 'the handed-back attempt did not count');
    assert.equal(s.page_count, 2);
    const again = await fetch(`${second.url}/process`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ record: { document_id: 'again-1', status: 'PENDING' } }) });
    assert.equal(again.status, 200, 'a late hand-off of a finished document does no work');
    second.proc.kill('SIGTERM');
    assert.equal(await second.exit, 0);
  } finally {
    second.proc.kill('SIGKILL');
    await second.exit;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('GIVEN a process killed with SIGKILL mid-document WHEN a new process starts on the same data directory THEN the orphaned claim is released and the document finished', async () => {
  const scratchBefore = new Set(childScratchFolders());
  const first = await startService({});
  const dataDir = first.dataDir;
  try {
    assert.equal((await upload(first.url, await scannedPdf(3), 'scan3.pdf', { document_id: 'orphan-1' })).status, 202);
    const scratch = childScratchFolders().filter((f) => !scratchBefore.has(f));
    assert.equal(scratch.length, 1, 'the OCR child has a scratch folder');
    first.proc.kill('SIGKILL');
    await first.exit;
    assert.equal(item(dataDir, 'orphan-1').status, 'PROCESSING', 'the claim of the dead process is still there');
    // its parent gone, the OCR child exits and removes its scratch folder itself
    for (let i = 0; i < 100 && existsSync(scratch[0]); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(existsSync(scratch[0]), false, 'the orphaned child removed its scratch folder');
  } finally {
    first.proc.kill('SIGKILL');
  }
  const second = await startService({ OCR_DATA_DIR: dataDir });
  try {
    let s: any;
    for (let i = 0; i < 1200; i++) {
      s = (await getJson(`${second.url}/check-status/orphan-1`)).body;
      if (s.status === 'SUCCEEDED' || s.status === 'FAILED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.page_count, 3);
    second.proc.kill('SIGTERM');
    assert.equal(await second.exit, 0);
  } finally {
    second.proc.kill('SIGKILL');
    await second.exit;
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('GIVEN an invalid configuration WHEN the service starts THEN it exits 1 naming the variable', async () => {
  const proc = spawn(join(PKG, 'node_modules', '.bin', 'node'), ['--disable-warning=ExperimentalWarning', join(PKG, 'src', 'service', 'main.ts')], {
    cwd: PKG, env: { ...process.env, PORT: 'http' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (b) => { out += b; });
  const code = await new Promise((resolve) => proc.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(out, /PORT must be an integer/);
});
