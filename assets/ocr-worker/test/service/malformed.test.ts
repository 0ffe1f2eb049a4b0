/**
 * Bad requests against the service running as its own process (an error that escapes a request
 * ends that process, which an in-process server would hide): each gets a 4xx with a reason, the
 * documents the service holds still finish, and it goes on answering.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { textPdf } from '../../tools/pdfwriter.ts';
import { abandonedPost, assertErrorBody, getJson, postJson, postRaw, upload, waitFinished } from './helpers.ts';
import { removeService, scannedPdf, startService, type ServiceProcess } from './process.ts';

const MAX_DOCUMENT_BYTES = 256 * 1024;
const BOUNDARY = 'XBOUNDARY';
const MULTIPART = `multipart/form-data; boundary=${BOUNDARY}`;
const FILE_PART_HEAD = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
/** A multipart body that ends inside its file part: no closing boundary (about 150 bytes). */
const TRUNCATED_MULTIPART = `${FILE_PART_HEAD}%PDF-1.4\n%cut off here, no closing boundary`;

let svc: ServiceProcess;

before(async () => {
  svc = await startService({ OCR_MAX_DOCUMENT_BYTES: String(MAX_DOCUMENT_BYTES) });
});
after(async () => {
  await removeService(svc);
});

async function assertStillServing(): Promise<void> {
  assert.equal(svc.proc.exitCode, null, `the service process is still running: ${JSON.stringify(svc.lines.slice(-3))}`);
  const health = await getJson(`${svc.url}/health`);
  assert.equal(health.status, 200);
}

test('GIVEN a multipart body cut off inside the file part WHEN posted THEN 400 MALFORMED_MULTIPART and the document in flight still finishes', async () => {
  const held = await upload(svc.url, await scannedPdf(2), 'scan2.pdf', { document_id: 'held-1' });
  assert.equal(held.status, 202);
  const r = await postRaw(`${svc.url}/extract`, { 'content-type': MULTIPART, 'content-length': Buffer.byteLength(TRUNCATED_MULTIPART) }, TRUNCATED_MULTIPART);
  assert.equal(r.status, 400);
  assertErrorBody(r.body, 'MALFORMED_MULTIPART');
  assert.match(r.body.message, /Unexpected end of form/);
  await assertStillServing();
  const done = await waitFinished(svc.url, 'held-1');
  assert.equal(done.status, 'SUCCEEDED');
  assert.equal(done.page_count, 2);
});

test('GIVEN a Content-Length above the limit WHEN Node\'s fetch uploads THEN it reads 413 PAYLOAD_TOO_LARGE (no connection reset), nothing stored', async () => {
  for (const mib of [4, 4, 4, 32, 32, 32]) {
    const form = new FormData();
    form.append('document_id', 'oversize-1');
    form.append('file', new Blob([new Uint8Array(mib * 1024 * 1024)]), 'big.pdf');
    const res = await fetch(`${svc.url}/extract`, { method: 'POST', body: form });
    assert.equal(res.status, 413, `${mib} MiB`);
    assertErrorBody(await res.json(), 'PAYLOAD_TOO_LARGE');
    assert.equal(res.headers.get('connection'), 'close');
  }
  const json = await postJson(`${svc.url}/extract`, JSON.stringify({ key: 'x'.repeat(8 * 1024 * 1024) }));
  assert.equal(json.status, 413);
  assertErrorBody(json.body, 'PAYLOAD_TOO_LARGE');
  assert.equal((await getJson(`${svc.url}/check-status/oversize-1`)).status, 404, 'nothing was recorded');
  await assertStillServing();
});

test('GIVEN a stream of malformed requests between good uploads WHEN sent THEN each gets its 4xx, every accepted document finishes, the service answers', async () => {
  const refusals: Array<{ name: string; send: () => Promise<{ status: number; body: any }>; status: number; error: string }> = [
    { name: 'truncated multipart', status: 400, error: 'MALFORMED_MULTIPART',
      send: () => postRaw(`${svc.url}/extract`, { 'content-type': MULTIPART, 'content-length': Buffer.byteLength(TRUNCATED_MULTIPART) }, TRUNCATED_MULTIPART) },
    { name: 'multipart without a boundary', status: 400, error: 'MALFORMED_MULTIPART',
      send: () => postRaw(`${svc.url}/extract`, { 'content-type': 'multipart/form-data' }, TRUNCATED_MULTIPART) },
    { name: 'multipart without a file', status: 400, error: 'MISSING_FILE',
      send: () => postRaw(`${svc.url}/extract`, { 'content-type': MULTIPART }, `--${BOUNDARY}\r\nContent-Disposition: form-data; name="document_id"\r\n\r\nx\r\n--${BOUNDARY}--\r\n`) },
    { name: 'bad JSON', status: 400, error: 'MALFORMED_JSON', send: () => postJson(`${svc.url}/extract`, '{"key": "in/a.pdf",') },
    { name: 'bad JSON hand-off', status: 400, error: 'MALFORMED_JSON', send: () => postJson(`${svc.url}/process`, '{"record": [') },
    { name: 'oversize by Content-Length', status: 413, error: 'PAYLOAD_TOO_LARGE',
      send: async () => {
        const res = await fetch(`${svc.url}/extract`, { method: 'POST', headers: { 'content-type': MULTIPART }, body: new Uint8Array(3 * 1024 * 1024) });
        return { status: res.status, body: await res.json() };
      } },
  ];
  const accepted: string[] = [];
  for (let round = 0; round < 4; round++) {
    const good = await upload(svc.url, textPdf([[`round ${round} of malformed requests`]]), `good-${round}.pdf`, { document_id: `good-${round}` });
    assert.equal(good.status, 202, JSON.stringify(good.body));
    accepted.push(good.body.document_id);
    for (const refusal of refusals) {
      const r = await refusal.send();
      assert.equal(r.status, refusal.status, `${refusal.name}: ${JSON.stringify(r.body)}`);
      assertErrorBody(r.body, refusal.error);
    }
    // a client that goes away in the middle of its upload
    await abandonedPost(`${svc.url}/extract`, { 'content-type': MULTIPART }, FILE_PART_HEAD + '%PDF-1.4\n', 100_000);
  }
  await assertStillServing();
  for (const id of accepted) {
    const s = await waitFinished(svc.url, id);
    assert.equal(s.status, 'SUCCEEDED', `${id}: ${JSON.stringify(s.error)}`);
  }
  assert.equal(svc.lines.filter((l) => l.msg === 'request failed').length, 0, 'no request ended in a 500');
});
