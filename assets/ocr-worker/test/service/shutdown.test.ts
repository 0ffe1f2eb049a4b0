/**
 * Graceful shutdown of the real service process (`src/service/main.ts`, local mode with a data
 * directory): SIGTERM while a document is being processed. Within the grace period the document
 * finishes; beyond it the document is handed back (PENDING, claim released). Exit 0 either way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { validateResult } from '../../src/index.ts';
import { endlessPdf } from '../hostile.ts';
import { getJson, upload } from './helpers.ts';
import { childScratchFolders, scannedPdf, spawnService, startService, storedItem as item } from './process.ts';

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
  const { exit, lines } = spawnService({ PORT: 'http' });
  const code = await exit;
  assert.equal(code, 1);
  assert.match(JSON.stringify(lines), /PORT must be an integer/);
});
