/**
 * The service's outputs besides the JSON result: option `outputs` on /extract, and
 * GET /result/{id}?format=pdf|hocr|json (local mode, real engine).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture } from '../helpers/common.ts';
import type { App } from '../../src/service/app.ts';
import { cacheKey } from '../../src/service/service.ts';
import { assertErrorBody, countingEngine, getJson, resultOf, startTestApp, upload, waitFinished, type CountingEngine } from './helpers.ts';

let engine: CountingEngine;
let app: App;
let base: string;

before(async () => {
  engine = countingEngine({ workers: 1, concurrency: 1, timeoutSeconds: 60 });
  app = await startTestApp({ OCR_WORKERS: '1' }, { engine });
  base = app.url;
});
after(async () => {
  await app.stop(0);
  await engine.shutdown();
});

test('GIVEN outputs pdf and hocr WHEN the document is done THEN /result?format=pdf and ?format=hocr give them, the JSON and the status list them', async () => {
  const r = await upload(base, fixture('ocr/phototest.tif'), 'scan.tif', { document_id: 'scan-1', options: JSON.stringify({ outputs: ['json', 'pdf', 'hocr'], geometry: false }) });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  assert.equal((await waitFinished(base, 'scan-1')).status, 'SUCCEEDED');
  const json = await resultOf(base, 'scan-1');
  assert.equal(json.pages[0].words, undefined, 'geometry: false');
  const pdf = await fetch(`${base}/result/scan-1?format=pdf`);
  assert.equal(pdf.status, 200);
  assert.equal(pdf.headers.get('content-type'), 'application/pdf');
  const pdfBytes = Buffer.from(await pdf.arrayBuffer());
  assert.equal(pdfBytes.subarray(0, 5).toString(), '%PDF-');
  const hocr = await fetch(`${base}/result/scan-1?format=hocr`);
  assert.match(hocr.headers.get('content-type')!, /^application\/xhtml\+xml/);
  const hocrText = await hocr.text();
  assert.match(hocrText, /class="ocrx_word"[^>]*>This</);
  assert.deepEqual(json.outputs, [{ format: 'pdf', bytes: pdfBytes.length, error: null }, { format: 'hocr', bytes: Buffer.byteLength(hocrText), error: null }]);
  assert.deepEqual((await getJson(`${base}/result/scan-1?format=json`)).body, json);
  // the status lists every output asked for, with where to get it
  assert.deepEqual((await getJson(`${base}/check-status/scan-1`)).body.outputs, [
    { format: 'pdf', bytes: pdfBytes.length, error_code: null, url: '/result/scan-1?format=pdf' },
    { format: 'hocr', bytes: Buffer.byteLength(hocrText), error_code: null, url: '/result/scan-1?format=hocr' },
  ]);
});

test('GIVEN no outputs asked for, an encrypted PDF, or an unknown format THEN 404, 409 and 400 with the reason; the status lists none, and the refused one with its error code', async () => {
  await upload(base, fixture('pdf/two_paragraphs.pdf'), 'plain.pdf', { document_id: 'plain-1' });
  await upload(base, fixture('pdf/empty_protected.pdf'), 'locked.pdf', { document_id: 'locked-1', outputs: 'json,pdf' });
  assert.equal((await waitFinished(base, 'plain-1')).status, 'SUCCEEDED');
  assert.equal((await waitFinished(base, 'locked-1')).status, 'SUCCEEDED');
  const none = await getJson(`${base}/result/plain-1?format=pdf`);
  assert.equal(none.status, 404);
  assertErrorBody(none.body, 'NO_SUCH_OUTPUT');
  assert.deepEqual((await getJson(`${base}/check-status/plain-1`)).body.outputs, []);
  assert.deepEqual((await getJson(`${base}/check-status/locked-1`)).body.outputs, [{ format: 'pdf', bytes: null, error_code: 'OUTPUT_REFUSED', url: null }]);
  const refused = await getJson(`${base}/result/locked-1?format=pdf`);
  assert.equal(refused.status, 409);
  assertErrorBody(refused.body, 'OUTPUT_REFUSED');
  const bad = await getJson(`${base}/result/plain-1?format=docx`);
  assert.equal(bad.status, 400);
  assertErrorBody(bad.body, 'INVALID_FORMAT');
  const badOption = await upload(base, fixture('pdf/two_paragraphs.pdf'), 'x.pdf', { options: JSON.stringify({ outputs: ['docx'] }) });
  assert.equal(badOption.status, 400);
  assertErrorBody(badOption.body, 'INVALID_OPTIONS');
});

test('the cache key tells apart results with and without geometry, and with other outputs', () => {
  const sha = 'a'.repeat(64);
  const keys = new Set([cacheKey(sha, 'eng', {}), cacheKey(sha, 'eng', { geometry: false }), cacheKey(sha, 'eng', { outputs: ['json', 'pdf'] })]);
  assert.equal(keys.size, 3);
});
