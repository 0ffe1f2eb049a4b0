/**
 * Restarts of the service as its own process on the same data directory (local mode), as a container
 * is restarted on its volume: whatever the earlier process left claimed or PENDING is finished by the
 * next one, however many documents that is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processTag } from '../../src/scratch.ts';
import { LocalDocumentStore, LocalStatusStore } from '../../src/service/stores.ts';
import { ocrChildPids } from '../../tools/processes.ts';
import { textPdf } from '../../tools/pdfwriter.ts';
import { getJson, upload, waitFinished, waitStatus } from './helpers.ts';
import { childScratchFolders, removeService, scannedPdf, startService, storedItem, type ServiceProcess } from './process.ts';

const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/ocr-cluster/0123456789abcdef';

/**
 * The ECS task metadata endpoint on loopback, always naming the same task: the identity a container
 * restarted in its task finds again (host name and pid are often the same too).
 */
async function taskMetadataEndpoint(): Promise<{ uri: string; server: Server }> {
  const server = createServer((req, res) => {
    const body = JSON.stringify(req.url === '/task' ? { TaskARN: TASK_ARN } : {});
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { uri: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

test('GIVEN a process killed mid-document WHEN it restarts with the same task identity THEN the new start releases the dead claim and finishes the document', async () => {
  const metadata = await taskMetadataEndpoint();
  const identity = { ECS_CONTAINER_METADATA_URI_V4: metadata.uri };
  const first = await startService(identity);
  const dataDir = first.dataDir;
  let second: ServiceProcess | undefined;
  try {
    assert.equal((await upload(first.url, await scannedPdf(3), 'scan3.pdf', { document_id: 'restarted-1' })).status, 202);
    await first.kill();
    const left = storedItem(dataDir, 'restarted-1');
    assert.equal(left.status, 'PROCESSING', 'the dead process still holds the claim');
    const firstOwner = first.lines.find((l) => l.msg === 'listening').owner;
    assert.equal(left.owner, firstOwner);

    second = await startService({ ...identity, OCR_DATA_DIR: dataDir });
    const done = await waitFinished(second.url, 'restarted-1', 60_000);
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(done.page_count, 3);
    assert.equal(done.attempts, 1, 'the attempt the dead process made does not count');
    const secondOwner = second.lines.find((l) => l.msg === 'listening').owner;
    assert.ok(firstOwner.startsWith(TASK_ARN) && secondOwner.startsWith(TASK_ARN), 'both name the task');
    assert.notEqual(secondOwner, firstOwner, 'each start has its own identity');
    assert.equal((await getJson(`${second.url}/health`)).status, 200);
  } finally {
    await first.kill();
    if (second) await removeService(second);
    rmSync(dataDir, { recursive: true, force: true });
    metadata.server.close();
  }
});

test('GIVEN more PENDING documents than OCR_MAX_QUEUED_DOCUMENTS WHEN the service starts on them THEN it finishes every one, and still takes requests', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ocr-svc-'));
  // what an earlier process (or a producer writing status items) left: PENDING items with their documents
  const status = new LocalStatusStore(dataDir);
  const documents = new LocalDocumentStore(dataDir);
  const backlog = Array.from({ length: 7 }, (_, i) => `backlog-${i}`);
  for (const [i, id] of backlog.entries()) {
    await documents.put(`in/${id}.pdf`, textPdf([[`document ${i} of the backlog`]]));
    assert.ok(await status.create({ document_id: id, status: 'PENDING', bucket: 'local', key: `in/${id}.pdf`, file_name: `${id}.pdf` }));
  }
  const svc = await startService({ OCR_DATA_DIR: dataDir, OCR_MAX_QUEUED_DOCUMENTS: '2' });
  try {
    for (const [i, id] of backlog.entries()) {
      const s = await waitFinished(svc.url, id, 60_000);
      assert.equal(s.status, 'SUCCEEDED', `${id}: ${JSON.stringify(s.error)}`);
      assert.match(s.text_preview, new RegExp(`document ${i} of the backlog`));
    }
    const late = await upload(svc.url, textPdf([['after the backlog']]), 'late.pdf', { document_id: 'late-1' });
    assert.equal(late.status, 202, JSON.stringify(late.body));
    assert.equal((await waitStatus(svc.url, 'late-1', ['SUCCEEDED', 'FAILED'], 60_000)).status, 'SUCCEEDED');
  } finally {
    await removeService(svc);
  }
});

test('GIVEN the service and its OCR child both killed mid-document WHEN the service starts again THEN the child\'s scratch folder is removed and the document finished', async () => {
  const first = await startService();
  const dataDir = first.dataDir;
  let second: ServiceProcess | undefined;
  try {
    assert.equal((await upload(first.url, await scannedPdf(3), 'scan3.pdf', { document_id: 'both-killed-1' })).status, 202);
    const [child] = ocrChildPids(first.proc.pid);
    assert.ok(child, 'the OCR child is running');
    const scratch = childScratchFolders().filter((f) => f.includes(`ocr-child-${first.proc.pid}-`));
    assert.equal(scratch.length, 1, 'the OCR child has a scratch folder named after the service process');
    // stopped first, so that it cannot clean up when its parent goes: both die at once, as in a crash
    process.kill(child, 'SIGSTOP');
    await first.kill();
    process.kill(child, 'SIGKILL');
    for (let i = 0; i < 100 && processTag(child); i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(processTag(child), undefined, 'the OCR child is gone');
    assert.ok(existsSync(scratch[0]), 'nobody removed the scratch folder');

    second = await startService({ OCR_DATA_DIR: dataDir });
    assert.equal(existsSync(scratch[0]), false, 'the new start removed the folder no live process owns');
    assert.ok(childScratchFolders().some((f) => f.includes(`ocr-child-${second!.proc.pid}-`)), 'the new OCR child has its own folder');
    const done = await waitFinished(second.url, 'both-killed-1', 60_000);
    assert.equal(done.status, 'SUCCEEDED');
  } finally {
    await first.kill();
    if (second) await removeService(second);
    rmSync(dataDir, { recursive: true, force: true });
  }
});
