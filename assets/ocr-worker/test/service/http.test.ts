/**
 * The HTTP API over real HTTP against the running service (local mode, real engine): every route,
 * every error case, concurrent uploads, cache hits, slow clients and hostile documents.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { request } from 'node:http';
import { fixture } from '../helpers/common.ts';
import { textPdf } from '../../tools/pdfwriter.ts';
import { pgm, qrPage } from '../../tools/generate.ts';
import { endlessPdf } from '../hostile.ts';
import { sha256 } from '../../src/index.ts';
import type { App } from '../../src/service/app.ts';
import { LocalDocumentStore, LocalStatusStore } from '../../src/service/stores.ts';
import { assertErrorBody, countingEngine, getJson, postJson, resultOf, startTestApp, upload, waitFinished, type CountingEngine } from './helpers.ts';

let engine: CountingEngine;
let app: App;
let base: string;
let status: LocalStatusStore;
let documents: LocalDocumentStore;
const MAX_BYTES = 16 * 1024 * 1024;

before(async () => {
  // documents are bounded to 8 s here so that the hostile-document test ends quickly
  engine = countingEngine({ timeoutSeconds: 8 });
  status = new LocalStatusStore();
  documents = new LocalDocumentStore();
  app = await startTestApp({ OCR_WORKERS: '2', OCR_REQUEST_TIMEOUT_SECONDS: '2', OCR_MAX_DOCUMENT_BYTES: String(MAX_BYTES) }, { engine, status, documents });
  base = app.url;
});
after(async () => {
  await app.stop(0);
  await engine.shutdown();
});

describe('GET /health', () => {
  test('GIVEN warm OCR workers WHEN GET /health THEN 200 with the worker count', async () => {
    const { status: code, body } = await getJson(`${base}/health`);
    assert.equal(code, 200);
    assert.deepEqual({ status: body.status, workers: body.workers }, { status: 'ok', workers: 2 });
  });

  test('GIVEN workers still warming WHEN GET /health or POST THEN 503, and 200 once warm', async () => {
    let warmUp!: () => void;
    const warming = new Promise<void>((r) => { warmUp = r; });
    let warm = false;
    const slowEngine = { workers: 1, warm: async () => { await warming; warm = true; }, isReady: () => warm, close: async () => undefined, process: engine.process };
    const { startApp } = await import('../../src/service/app.ts');
    const { parseServiceConfig } = await import('../../src/service/config.ts');
    const cold = await startApp(parseServiceConfig({ PORT: '0' }), { engine: slowEngine, log: () => undefined, metrics: () => undefined });
    try {
      const h = await getJson(`${cold.url}/health`);
      assert.equal(h.status, 503);
      assert.equal(h.body.status, 'starting');
      const u = await upload(cold.url, textPdf([['x']]), 'x.pdf');
      assert.equal(u.status, 503);
      assertErrorBody(u.body, 'NOT_READY');
      assert.ok(u.headers.get('retry-after'));
      warmUp();
      await cold.ready;
      assert.equal((await getJson(`${cold.url}/health`)).status, 200);
    } finally {
      await cold.stop(0);
    }
  });
});

describe('POST /extract (multipart), GET /check-status, /status, /result', () => {
  test('GIVEN a born-digital PDF with a document_id WHEN uploaded THEN 202 at once, then SUCCEEDED with a schema-valid result', async () => {
    const pdf = textPdf([['Invoice 4711', 'Total due: 99.50 EUR']]);
    const r = await upload(base, pdf, 'invoice.pdf', { document_id: 'invoice-4711' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.document_id, 'invoice-4711');
    assert.equal(r.headers.get('location'), '/check-status/invoice-4711');
    const s = await waitFinished(base, 'invoice-4711');
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.page_count, 1);
    assert.equal(s.file_name, 'invoice.pdf');
    assert.equal(s.content_sha256, sha256(pdf));
    assert.match(s.text_preview, /Invoice 4711/);
    assert.equal(s.result_url, '/result/invoice-4711');
    const seed003 = await getJson(`${base}/status/invoice-4711`);
    assert.deepEqual(seed003.body, s, 'GET /status/{id} (seed 003) answers the same');
    const result = await resultOf(base, 'invoice-4711');
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(result.source, 'invoice.pdf');
    assert.equal(result.text, 'Invoice 4711\nTotal due: 99.50 EUR');
    assert.equal(s.text_length, result.text.length);
  });

  test('GIVEN no document_id WHEN uploaded THEN an id is generated', async () => {
    const r = await upload(base, textPdf([['generated id']]), 'g.pdf');
    assert.equal(r.status, 202);
    assert.match(r.body.document_id, /^[0-9a-f-]{36}$/);
    assert.equal((await waitFinished(base, r.body.document_id)).status, 'SUCCEEDED');
  });

  test('GIVEN a QR code image WHEN uploaded THEN the status summary and the result carry the decoded payload', async () => {
    const img = pgm(qrPage(600, 600, [{ text: 'https://example.com/ticket/42', x: 150, y: 150, module: 8 }]));
    const r = await upload(base, img, 'ticket.pgm', { document_id: 'qr-1' });
    assert.equal(r.status, 202);
    const s = await waitFinished(base, 'qr-1');
    assert.equal(s.status, 'SUCCEEDED');
    assert.deepEqual(s.qr_codes, ['https://example.com/ticket/42']);
    assert.equal(s.qr_count, 1);
    const result = await resultOf(base, 'qr-1');
    assert.deepEqual(result.qrCodes.map((q: any) => q.text), ['https://example.com/ticket/42']);
  });

  test('GIVEN a scanned page still being OCRed WHEN GET /result THEN 202 "not ready" with the status, later 200', async () => {
    const r = await upload(base, fixture('ocr/phototest.tif'), 'scan.tif', { document_id: 'scan-1', options: JSON.stringify({ dpi: 300 }) });
    assert.equal(r.status, 202);
    const early = await getJson(`${base}/result/scan-1`);
    assert.equal(early.status, 202);
    assert.equal(early.body.status, 'PROCESSING');
    assert.ok(early.headers.get('retry-after'));
    await waitFinished(base, 'scan-1');
    const result = await resultOf(base, 'scan-1');
    assert.equal(result.pages[0].method, 'ocr');
    assert.match(result.text, /quick brown dog/);
  });

  test('GIVEN options in multipart fields WHEN uploaded THEN they are applied (pages)', async () => {
    const pdf = textPdf([['page one'], ['page two'], ['page three']]);
    const r = await upload(base, pdf, 'three.pdf', { document_id: 'pages-1', pages: '2' });
    assert.equal(r.status, 202);
    await waitFinished(base, 'pages-1');
    const result = await resultOf(base, 'pages-1');
    assert.equal(result.pageCount, 3);
    assert.deepEqual(result.pages.map((p: any) => p.pageNumber), [2]);
    assert.equal(result.text, 'page two');
  });
});

describe('POST /extract (JSON naming a stored object)', () => {
  test('GIVEN an object in the document store WHEN POST /extract { bucket, key } THEN it is processed', async () => {
    await documents.put('inbox/report.pdf', textPdf([['Quarterly report']]));
    const r = await postJson(`${base}/extract`, { bucket: 'local', key: 'inbox/report.pdf', document_id: 'report-q1' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const s = await waitFinished(base, 'report-q1');
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal((await resultOf(base, 'report-q1')).text, 'Quarterly report');
  });

  test('GIVEN a key that does not exist WHEN POST /extract THEN FAILED with INPUT_NOT_FOUND and a schema-valid result', async () => {
    const r = await postJson(`${base}/extract`, { key: 'inbox/missing.pdf', document_id: 'missing-1' });
    assert.equal(r.status, 202);
    const s = await waitFinished(base, 'missing-1');
    assert.equal(s.status, 'FAILED');
    assert.equal(s.error.code, 'INPUT_NOT_FOUND');
    const result = await resultOf(base, 'missing-1');
    assert.equal(result.error.code, 'INPUT_NOT_FOUND');
  });

  test('GIVEN a bucket or key nothing can be read from WHEN POST /extract THEN 400 INVALID_LOCATION and nothing is submitted', async () => {
    for (const [body, reason] of [
      [{ key: '../../etc/passwd', document_id: 'escape-1' }, /'\.\.' segment would leave the data directory/],
      [{ key: 'inbox/a.pdf', bucket: 'someone-elses-bucket', document_id: 'escape-2' }, /Bucket 'someone-elses-bucket' is not available in local mode \(use 'local'\)/],
    ] as const) {
      const r = await postJson(`${base}/extract`, body);
      assert.equal(r.status, 400);
      assert.equal(r.body.error, 'INVALID_LOCATION');
      assert.match(r.body.message, reason);
      assert.equal((await getJson(`${base}/check-status/${body.document_id}`)).status, 404, 'no document was created');
    }
  });

  test('GIVEN a stored object above the size limit WHEN POST /extract THEN FAILED with TOO_LARGE', async () => {
    await documents.put('inbox/big.pdf', Buffer.alloc(MAX_BYTES + 1, 0x20));
    const r = await postJson(`${base}/extract`, { key: 'inbox/big.pdf', document_id: 'big-1' });
    assert.equal(r.status, 202);
    const s = await waitFinished(base, 'big-1');
    assert.equal(s.error.code, 'TOO_LARGE');
    await resultOf(base, 'big-1');
  });
});

describe('POST /process (seed 003, stream hand-off)', () => {
  test('GIVEN a seed-003 item with lower-case "pending" WHEN POST /process THEN 202, SUCCEEDED, and a second call answers 200', async () => {
    await documents.put('incoming/p1.pdf', textPdf([['Handed off by the stream']]));
    assert.ok(await status.create({ document_id: 'p1', status: 'pending', bucket: 'local', key: 'incoming/p1.pdf', file_type: 'pdf' }));
    const r = await postJson(`${base}/process`, { record: { document_id: 'p1', bucket: 'local', key: 'incoming/p1.pdf', status: 'pending', file_type: 'pdf' } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.status, 'PROCESSING');
    const s = await waitFinished(base, 'p1');
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.attempts, 1);
    assert.equal((await resultOf(base, 'p1')).text, 'Handed off by the stream');
    const again = await postJson(`${base}/process`, { record: { document_id: 'p1' } });
    assert.equal(again.status, 200);
    assert.equal(again.body.status, 'SUCCEEDED');
  });

  test('GIVEN one PENDING item WHEN five hand-offs arrive at once THEN exactly one claims it and the engine runs once', async () => {
    const pdf = textPdf([['claimed exactly once']]);
    await documents.put('incoming/once.pdf', pdf);
    await status.create({ document_id: 'once', status: 'PENDING', bucket: 'local', key: 'incoming/once.pdf' });
    const answers = await Promise.all(Array.from({ length: 5 }, () => postJson(`${base}/process`, { record: { document_id: 'once', bucket: 'local', key: 'incoming/once.pdf', status: 'PENDING' } })));
    const codes = answers.map((a) => a.status);
    assert.equal(codes.filter((c) => c === 202).length, 1, `codes ${codes}`);
    assert.ok(codes.every((c) => c === 202 || c === 409 || c === 200), `codes ${codes}`);
    for (const a of answers.filter((x) => x.status === 409)) assertErrorBody(a.body, 'ALREADY_CLAIMED');
    await waitFinished(base, 'once');
    assert.equal(engine.calls.get(sha256(pdf)), 1);
  });

  test('GIVEN an unknown id WHEN POST /process THEN 404 with a reason', async () => {
    const r = await postJson(`${base}/process`, { record: { document_id: 'no-such-item', bucket: 'local', key: 'x.pdf', status: 'pending' } });
    assert.equal(r.status, 404);
    assertErrorBody(r.body, 'NOT_FOUND');
  });

  test('GIVEN an item without bucket and key WHEN POST /process without them THEN 422 and the item is FAILED (INVALID_RECORD)', async () => {
    await status.create({ document_id: 'nowhere', status: 'PENDING' });
    const r = await postJson(`${base}/process`, { record: { document_id: 'nowhere' } });
    assert.equal(r.status, 422);
    assertErrorBody(r.body, 'INVALID_RECORD');
    const s = await getJson(`${base}/check-status/nowhere`);
    assert.equal(s.body.status, 'FAILED');
    assert.equal(s.body.error.code, 'INVALID_RECORD');
    const res = await getJson(`${base}/result/nowhere`);
    assert.equal(res.status, 409);
    assertErrorBody(res.body, 'NO_RESULT');
  });

  test('GIVEN an item claimed too often WHEN POST /process THEN 422 TOO_MANY_ATTEMPTS and the item is FAILED', async () => {
    await status.create({ document_id: 'poison', status: 'PENDING', bucket: 'local', key: 'incoming/poison.pdf', attempts: 3 });
    const r = await postJson(`${base}/process`, { record: { document_id: 'poison' } });
    assert.equal(r.status, 422);
    assertErrorBody(r.body, 'TOO_MANY_ATTEMPTS');
    assert.equal((await getJson(`${base}/status/poison`)).body.error.code, 'TOO_MANY_ATTEMPTS');
  });

  test('GIVEN malformed records WHEN POST /process THEN 400 (415 for a non-JSON body)', async () => {
    for (const body of ['{"record":', '[]', { record: 'doc-1' }, { record: {} }, { record: { document_id: 7 } }, { record: { document_id: 'a', bucket: 3 } }, { record: { document_id: '../etc' } }]) {
      const r = await postJson(`${base}/process`, body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(typeof r.body.message, 'string');
    }
    const res = await fetch(`${base}/process`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'document_id=1' });
    assert.equal(res.status, 415);
    assertErrorBody(await res.json(), 'UNSUPPORTED_CONTENT_TYPE');
  });
});

describe('bad input: 4xx with a JSON reason, nothing stored', () => {
  test('GIVEN a document above OCR_MAX_DOCUMENT_BYTES WHEN uploaded THEN 413', async () => {
    const r = await upload(base, Buffer.alloc(MAX_BYTES + 10, 0x25), 'huge.pdf', { document_id: 'huge-1' });
    assert.equal(r.status, 413);
    assertErrorBody(r.body, 'PAYLOAD_TOO_LARGE');
    assert.equal((await getJson(`${base}/check-status/huge-1`)).status, 404, 'nothing was recorded');
  });

  test('GIVEN a chunked upload (no Content-Length) above the limit WHEN streamed THEN 413 from the streaming limit', async () => {
    const boundary = 'XBOUNDARY';
    const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
      const req = request(`${base}/extract`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'transfer-encoding': 'chunked' } }, (res) => {
        let data = '';
        res.on('data', (c) => { data += c; });
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(data) }));
      });
      req.on('error', reject);
      req.write(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = (): void => {
        while (sent <= MAX_BYTES * 2) {
          sent += chunk.length;
          if (!req.write(chunk)) { req.once('drain', pump); return; }
        }
        req.end(`\r\n--${boundary}--\r\n`);
      };
      req.on('response', () => undefined);
      pump();
    });
    assert.equal(answer.status, 413);
    assertErrorBody(answer.body, 'PAYLOAD_TOO_LARGE');
  });

  test('GIVEN a JSON body above 64 KiB WHEN POST THEN 413', async () => {
    const r = await postJson(`${base}/extract`, { key: 'x'.repeat(70 * 1024) });
    assert.equal(r.status, 413);
    assertErrorBody(r.body, 'PAYLOAD_TOO_LARGE');
  });

  test('GIVEN content that is neither a PDF nor an image WHEN uploaded THEN 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const r = await upload(base, Buffer.from('name,amount\nA,1\n'), 'data.pdf', { document_id: 'csv-1' });
    assert.equal(r.status, 415);
    assertErrorBody(r.body, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await getJson(`${base}/check-status/csv-1`)).status, 404);
  });

  test('GIVEN a body type other than multipart or JSON WHEN POST /extract THEN 415', async () => {
    const res = await fetch(`${base}/extract`, { method: 'POST', headers: { 'content-type': 'application/pdf' }, body: new Uint8Array(textPdf([["x"]])) });
    assert.equal(res.status, 415);
    assertErrorBody(await res.json(), 'UNSUPPORTED_CONTENT_TYPE');
  });

  test('GIVEN malformed requests WHEN POST /extract THEN 400 with the reason', async () => {
    const cases: Array<[string, () => Promise<{ status: number; body: any }>]> = [
      ['MALFORMED_JSON', () => postJson(`${base}/extract`, '{"key": ')],
      ['MALFORMED_REQUEST', () => postJson(`${base}/extract`, { bucket: 'local' })],
      ['INVALID_DOCUMENT_ID', () => upload(base, textPdf([['x']]), 'x.pdf', { document_id: '../../etc/passwd' })],
      ['INVALID_DOCUMENT_ID', () => postJson(`${base}/extract`, { key: 'a.pdf', document_id: 42 })],
      ['INVALID_OPTIONS', () => upload(base, textPdf([['x']]), 'x.pdf', { dpi: '5' })],
      ['INVALID_OPTIONS', () => upload(base, textPdf([['x']]), 'x.pdf', { pages: '3-1' })],
      ['INVALID_OPTIONS', () => postJson(`${base}/extract`, { key: 'a.pdf', options: { password: 'secret' } })],
      ['INVALID_OPTIONS', () => postJson(`${base}/extract`, { key: 'a.pdf', options: { languages: 'klingon' } })],
      ['EMPTY_INPUT', () => upload(base, new Uint8Array(0), 'empty.pdf')],
      ['MISSING_FILE', async () => {
        const form = new FormData();
        form.append('document_id', 'no-file');
        const res = await fetch(`${base}/extract`, { method: 'POST', body: form });
        return { status: res.status, body: await res.json() };
      }],
      ['MALFORMED_MULTIPART', async () => {
        const res = await fetch(`${base}/extract`, { method: 'POST', headers: { 'content-type': 'multipart/form-data' }, body: 'garbage' });
        return { status: res.status, body: await res.json() };
      }],
    ];
    for (const [error, call] of cases) {
      const r = await call();
      assert.equal(r.status, 400, `${error}: ${JSON.stringify(r.body)}`);
      assertErrorBody(r.body, error);
    }
  });

  test('GIVEN an id in use WHEN uploaded again with it THEN 409', async () => {
    assert.equal((await upload(base, textPdf([['first']]), 'a.pdf', { document_id: 'dup-1' })).status, 202);
    const r = await upload(base, textPdf([['second']]), 'b.pdf', { document_id: 'dup-1' });
    assert.equal(r.status, 409);
    assertErrorBody(r.body, 'DUPLICATE_DOCUMENT_ID');
    await waitFinished(base, 'dup-1');
    assert.equal((await resultOf(base, 'dup-1')).text, 'first', 'the first document is untouched');
  });

  test('GIVEN unknown ids, routes and methods WHEN requested THEN 404 / 405 with a reason', async () => {
    for (const path of ['/check-status/unknown-id', '/status/unknown-id', '/result/unknown-id']) {
      const r = await getJson(`${base}${path}`);
      assert.equal(r.status, 404, path);
      assertErrorBody(r.body, 'NOT_FOUND');
    }
    const route = await getJson(`${base}/v2/extract`);
    assert.equal(route.status, 404);
    assertErrorBody(route.body, 'NO_SUCH_ROUTE');
    const method = await getJson(`${base}/extract`);
    assert.equal(method.status, 405);
    assertErrorBody(method.body, 'METHOD_NOT_ALLOWED');
    const del = await fetch(`${base}/result/invoice-4711`, { method: 'DELETE' });
    assert.equal(del.status, 405);
  });
});

describe('concurrency and the cache', () => {
  test('GIVEN 12 different documents uploaded at once THEN none is lost and each is processed exactly once', async () => {
    const docs = Array.from({ length: 12 }, (_, i) => textPdf([[`Concurrent document number ${i}`]]));
    const answers = await Promise.all(docs.map((d, i) => upload(base, d, `c${i}.pdf`)));
    assert.deepEqual(answers.map((a) => a.status), Array(12).fill(202));
    const ids = answers.map((a) => a.body.document_id);
    assert.equal(new Set(ids).size, 12);
    for (let i = 0; i < 12; i++) {
      const s = await waitFinished(base, ids[i]);
      assert.equal(s.status, 'SUCCEEDED');
      assert.equal((await resultOf(base, ids[i])).text, `Concurrent document number ${i}`);
      assert.equal(engine.calls.get(sha256(docs[i])), 1, `document ${i} processed once`);
    }
  });

  test('GIVEN a document processed once WHEN the same content is uploaded again THEN it is answered from the cache', async () => {
    const pdf = textPdf([['Cached content, same bytes']]);
    const first = await upload(base, pdf, 'first.pdf');
    assert.equal((await waitFinished(base, first.body.document_id)).cache_hit, false);
    const second = await upload(base, pdf, 'second.pdf');
    const s = await waitFinished(base, second.body.document_id);
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.cache_hit, true);
    assert.equal(engine.calls.get(sha256(pdf)), 1, 'the engine ran once');
    const result = await resultOf(base, second.body.document_id);
    assert.equal(result.source, 'second.pdf');
    assert.equal(result.text, 'Cached content, same bytes');
    assert.deepEqual([result.durationMs, result.queuedMs], [0, 0], 'a cache hit neither took nor waited for OCR time');
  });

  test('GIVEN the same new document uploaded six times at once THEN the engine runs once and all six succeed (single flight)', async () => {
    const pdf = textPdf([['Six identical uploads at once']]);
    const answers = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(base, pdf, `same${i}.pdf`)));
    assert.deepEqual(answers.map((a) => a.status), Array(6).fill(202));
    const summaries: any[] = [];
    for (const a of answers) summaries.push(await waitFinished(base, a.body.document_id));
    assert.ok(summaries.every((s) => s.status === 'SUCCEEDED'));
    assert.equal(summaries.filter((s) => s.cache_hit === false).length, 1);
    assert.equal(engine.calls.get(sha256(pdf)), 1);
    for (const a of answers) assert.equal((await resultOf(base, a.body.document_id)).text, 'Six identical uploads at once');
  });

  test('GIVEN the same content with other options WHEN uploaded THEN it is not a cache hit (options are part of the key)', async () => {
    const pdf = textPdf([['options matter'], ['second page']]);
    await waitFinished(base, (await upload(base, pdf, 'a.pdf')).body.document_id);
    const other = await upload(base, pdf, 'b.pdf', { pages: '1' });
    const s = await waitFinished(base, other.body.document_id);
    assert.equal(s.cache_hit, false);
    assert.equal(engine.calls.get(sha256(pdf)), 2);
  });

  test('GIVEN a result cached without geometry WHEN the same content is asked for with it THEN it is read again with its words; without it again, the cache answers without them', async () => {
    const pdf = textPdf([['geometry is part of the key']]);
    const plain = await upload(base, pdf, 'plain.pdf', { geometry: 'false' });
    assert.equal((await waitFinished(base, plain.body.document_id)).cache_hit, false);
    assert.equal((await resultOf(base, plain.body.document_id)).pages[0].words, undefined);
    const full = await upload(base, pdf, 'full.pdf');
    assert.equal((await waitFinished(base, full.body.document_id)).cache_hit, false);
    assert.deepEqual((await resultOf(base, full.body.document_id)).pages[0].words.map((w: any) => w.text), ['geometry', 'is', 'part', 'of', 'the', 'key']);
    const again = await upload(base, pdf, 'again.pdf', { geometry: 'false' });
    assert.equal((await waitFinished(base, again.body.document_id)).cache_hit, true);
    assert.equal((await resultOf(base, again.body.document_id)).pages[0].words, undefined);
    assert.equal(engine.calls.get(sha256(pdf)), 2);
  });

  test('GIVEN a document that never finishes WHEN another document arrives THEN the other is processed meanwhile and the hostile one ends with TIMEOUT', async () => {
    const hostile = await upload(base, endlessPdf(), 'endless.pdf', { document_id: 'endless-1' });
    assert.equal(hostile.status, 202);
    const normal = await upload(base, textPdf([['not stalled']]), 'ok.pdf');
    const s = await waitFinished(base, normal.body.document_id);
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal((await getJson(`${base}/check-status/endless-1`)).body.status, 'PROCESSING', 'the hostile document still holds only its own slot');
    assert.equal((await getJson(`${base}/health`)).status, 200);
    const h = await waitFinished(base, 'endless-1');
    assert.equal(h.status, 'FAILED');
    assert.equal(h.error.code, 'TIMEOUT');
    await resultOf(base, 'endless-1');
  });

  test('GIVEN a client that sends its body slowly WHEN others call meanwhile THEN they are served, and the slow one gets 408', async () => {
    const url = new URL(base);
    const socket = connect(Number(url.port), url.hostname);
    const reply = new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (c) => { data += c; });
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
    socket.write('POST /extract HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 5000\r\n\r\n--B\r\n');
    assert.equal((await getJson(`${base}/health`)).status, 200);
    const other = await upload(base, textPdf([['served while a client dawdles']]), 'fast.pdf');
    assert.equal(other.status, 202);
    assert.equal((await waitFinished(base, other.body.document_id)).status, 'SUCCEEDED');
    const raw = await reply;
    assert.match(raw, /^HTTP\/1\.1 408/);
  });
});
