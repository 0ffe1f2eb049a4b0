import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { EXIT, isTransient, runBatch, shareOf, keysFor, summaryKey } from '../src/batch.ts';
import type { Engine } from '../src/engine.ts';
import type { OcrResult } from '../src/result.ts';
import { validateResult } from '../src/index.ts';
import { fixture, PKG } from './helpers/common.ts';
import { TextractDocument } from 'amazon-textract-response-parser';

/** An in-memory S3 behind aws-sdk-client-mock. */
function fakeS3(objects: Record<string, Buffer | string>, opts: { failGet?: boolean; onPut?: (key: string) => void } = {}) {
  const store = new Map<string, Buffer>(Object.entries(objects).map(([k, v]) => [k, Buffer.from(v)]));
  const puts: string[] = [];
  const mock = mockClient(S3Client);
  const notFound = () => Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
  mock.on(GetObjectCommand).callsFake(async (input) => {
    if (opts.failGet) throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
    if (input.Key?.startsWith('denied')) throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    const b = store.get(`${input.Bucket}/${input.Key}`);
    if (!b) throw notFound();
    return { ContentLength: b.length, Body: { transformToByteArray: async () => new Uint8Array(b) } } as any;
  });
  mock.on(HeadObjectCommand).callsFake(async (input) => {
    const b = store.get(`${input.Bucket}/${input.Key}`);
    if (!b) throw Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
    return { ContentLength: b.length } as any;
  });
  mock.on(PutObjectCommand).callsFake(async (input) => {
    const key = `${input.Bucket}/${input.Key}`;
    assert.ok(!store.has(key) || !key.includes('/results/'), `result rewritten: ${key}`);
    store.set(key, Buffer.from(input.Body as string));
    puts.push(input.Key!);
    opts.onPut?.(input.Key!);
    return {} as any;
  });
  return { client: new S3Client({ region: 'us-east-1' }), store, puts, mock };
}

const baseEnv = { OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', OCR_JOB_ID: 'job-1', OCR_WORKERS: '1', OCR_DOC_TIMEOUT_SECONDS: '60' };
const quiet = () => undefined;

const fiveDocuments = Array.from({ length: 5 }, (_, i) => ({ key: `d${i}.pdf` }));

test('manifest share by array index: the child\'s entry of children, uneven shares', () => {
  const manifest = { documents: fiveDocuments, children: [{ first: 0, count: 3 }, { first: 3, count: 1 }, { first: 4, count: 1 }] };
  assert.deepEqual(shareOf(manifest, 0), [0, 1, 2]);
  assert.deepEqual(shareOf(manifest, 1), [3]);
  assert.deepEqual(shareOf(manifest, 2), [4]);
  assert.deepEqual(shareOf(manifest, null), [0, 1, 2, 3, 4], 'a plain job over a manifest reads every document');
  assert.throws(() => shareOf(manifest, 3), /Array index 3 has no share in the manifest \(3 children\)/);
  assert.deepEqual(keysFor({ outputPrefix: 'results/', jobId: 'j' }, 7), { json: 'results/j/results/00007.json', txt: 'results/j/results/00007.txt' });
  assert.equal(summaryKey({ outputPrefix: 'p/', jobId: 'j' }, 3), 'p/j/summaries/00003.json');
});

test('manifests written with chunkSize are still read: child i takes [i*chunkSize, (i+1)*chunkSize)', () => {
  assert.deepEqual(shareOf({ documents: fiveDocuments, chunkSize: 2 }, 1), [2, 3]);
  assert.deepEqual(shareOf({ documents: fiveDocuments, chunkSize: 2 }, 2), [4]);
  assert.deepEqual(shareOf({ documents: fiveDocuments }, 4), [4], 'no chunkSize: one document per child');
  assert.deepEqual(shareOf({ documents: fiveDocuments, chunkSize: 2 }, null), [0, 1, 2, 3, 4]);
});

test('a manifest whose children do not fit its documents is a configuration error: exit 1, nothing written', async () => {
  for (const children of [[{ first: 0, count: 3 }], [{ first: 0, count: 0 }], [{ first: -1, count: 1 }], 'all'] as unknown[]) {
    const manifest = { schemaVersion: 1, jobId: 'job-c', documents: [{ key: 'a.pdf' }, { key: 'b.pdf' }], children };
    const s3 = fakeS3({ 'out/m/job-c.json': JSON.stringify(manifest) });
    const logged: string[] = [];
    try {
      const code = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-c', OCR_MANIFEST_KEY: 'm/job-c.json', AWS_BATCH_JOB_ARRAY_INDEX: '0' },
        { s3: s3.client, log: (_l, m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`), metrics: quiet });
      assert.equal(code, 1, JSON.stringify(children));
      assert.deepEqual(s3.puts, []);
      assert.match(logged.join('\n'), /Manifest children/);
    } finally { s3.mock.restore(); }
  }
});

test('a job asking for languages the image has no data for is a configuration error: exit 1 (no retry), nothing written', async () => {
  const manifest = { schemaVersion: 1, jobId: 'job-fra', documents: [{ key: 'a.pdf' }], options: { languages: 'eng+fra' } };
  const s3 = fakeS3({ 'out/m/job-fra.json': JSON.stringify(manifest), 'in/a.pdf': fixture('pdf/two_paragraphs.pdf') });
  const logged: Array<Record<string, unknown>> = [];
  try {
    const code = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-fra', OCR_MANIFEST_KEY: 'm/job-fra.json' },
      { s3: s3.client, log: (level, msg, fields) => logged.push({ level, msg, ...fields }), metrics: () => undefined });
    assert.equal(code, 1);
    assert.deepEqual(s3.puts, []);
    assert.ok(logged.some((l) => l.msg === 'configuration error' && /No language data for 'fra'/.test(String(l.error))), JSON.stringify(logged));
  } finally { s3.mock.restore(); }
  assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf', OCR_LANGUAGES: 'deu' }, { s3: fakeS3({}).client, log: quiet, metrics: () => undefined }), 1);
});

test('single document: result JSON + text, then the summary last; exit 0', async () => {
  const s3 = fakeS3({ 'in/docs/a.pdf': fixture('pdf/two_paragraphs.pdf') });
  const metrics: string[] = [];
  try {
    const code = await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'docs/a.pdf' }, { s3: s3.client, log: quiet, metrics: (l) => metrics.push(l) });
    assert.equal(code, 0);
    assert.deepEqual(s3.puts, ['results/job-1/results/00000.txt', 'results/job-1/results/00000.json', 'results/job-1/summaries/00000.json']);
    const r = JSON.parse(s3.store.get('out/results/job-1/results/00000.json')!.toString());
    assert.deepEqual(validateResult(r), []);
    assert.equal(r.source, 'docs/a.pdf');
    assert.equal(s3.store.get('out/results/job-1/results/00000.txt')!.toString(), 'The first paragraph.\nThe second paragraph.');
    const sum = JSON.parse(s3.store.get('out/results/job-1/summaries/00000.json')!.toString());
    assert.deepEqual(sum.counts, { succeeded: 1, failed: 0, byErrorCode: {} });
    assert.equal(sum.documents[0].resultKey, 'results/job-1/results/00000.json');
    const emf = JSON.parse(metrics[0]);
    assert.equal(emf._aws.CloudWatchMetrics[0].Namespace, 'CdkOcrConstructs');
    assert.equal(emf.DocumentsSucceeded, 1);
    assert.equal(emf.Service, 'ocr-worker');
  } finally { s3.mock.restore(); }
});

test('job option outputs: the searchable PDF and hOCR beside each JSON, written before it, listed in the summary; a refused PDF is in the result and its error code in the summary', async () => {
  const manifest = { schemaVersion: 1, jobId: 'job-out', documents: [{ key: 'scan.tif' }, { key: 'locked.pdf' }], options: { outputs: ['json', 'pdf', 'hocr'], geometry: false } };
  const s3 = fakeS3({ 'out/m/job-out.json': JSON.stringify(manifest), 'in/scan.tif': fixture('ocr/phototest.tif'), 'in/locked.pdf': fixture('pdf/empty_protected.pdf') });
  try {
    const code = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-out', OCR_MANIFEST_KEY: 'm/job-out.json' }, { s3: s3.client, log: quiet, metrics: () => undefined });
    assert.equal(code, 0);
    const base = 'results/job-out/results/';
    assert.deepEqual(s3.puts, [`${base}00000.txt`, `${base}00000.pdf`, `${base}00000.hocr`, `${base}00000.json`, `${base}00001.txt`, `${base}00001.hocr`, `${base}00001.json`,
      'results/job-out/summaries/00000.json']);
    const scan = JSON.parse(s3.store.get(`out/${base}00000.json`)!.toString());
    assert.deepEqual(validateResult(scan), []);
    assert.equal(scan.pages[0].words, undefined, 'geometry: false keeps the words out of the JSON');
    assert.deepEqual(scan.outputs.map((o: any) => [o.format, o.error, o.bytes]), [['pdf', null, s3.store.get(`out/${base}00000.pdf`)!.length], ['hocr', null, s3.store.get(`out/${base}00000.hocr`)!.length]]);
    assert.equal(s3.store.get(`out/${base}00000.pdf`)!.subarray(0, 5).toString(), '%PDF-');
    assert.match(s3.store.get(`out/${base}00000.hocr`)!.toString(), /class="ocrx_word"[^>]*>This</);
    const locked = JSON.parse(s3.store.get(`out/${base}00001.json`)!.toString());
    assert.equal(locked.status, 'SUCCEEDED');
    assert.equal(locked.outputs.find((o: any) => o.format === 'pdf').error.code, 'OUTPUT_REFUSED');
    const sum = JSON.parse(s3.store.get('out/results/job-out/summaries/00000.json')!.toString());
    assert.deepEqual(sum.documents.map((d: any) => d.outputKeys), [{ pdf: `${base}00000.pdf`, hocr: `${base}00000.hocr` }, { hocr: `${base}00001.hocr` }]);
    assert.deepEqual(sum.documents.map((d: any) => d.outputErrors), [undefined, { pdf: 'OUTPUT_REFUSED' }]);
  } finally { s3.mock.restore(); }
});

test('job option outputs textract: Textract\'s GetDocumentTextDetection response beside each JSON, read by AWS\'s parser as the engine\'s lines and words; a FAILED document\'s response says why', async () => {
  const manifest = { schemaVersion: 1, jobId: 'job-tx', documents: [{ key: 'scan.tif' }, { key: 'missing.pdf' }], options: { outputs: ['json', 'textract'], geometry: true } };
  const s3 = fakeS3({ 'out/m/job-tx.json': JSON.stringify(manifest), 'in/scan.tif': fixture('ocr/phototest.tif') });
  try {
    const code = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-tx', OCR_MANIFEST_KEY: 'm/job-tx.json' }, { s3: s3.client, log: quiet, metrics: () => undefined });
    assert.equal(code, 0);
    const base = 'results/job-tx/results/';
    assert.deepEqual(s3.puts, [`${base}00000.txt`, `${base}00000.textract.json`, `${base}00000.textract/1`, `${base}00000.json`,
      `${base}00001.txt`, `${base}00001.textract.json`, `${base}00001.textract/1`, `${base}00001.json`,
      'results/job-tx/summaries/00000.json'], 'the .textract.json and its pages before the .json, which marks the document complete');
    const result = JSON.parse(s3.store.get(`out/${base}00000.json`)!.toString());
    const response = JSON.parse(s3.store.get(`out/${base}00000.textract.json`)!.toString());
    assert.equal(response.JobStatus, 'SUCCEEDED');
    assert.deepEqual(response.DocumentMetadata, { Pages: 1 });
    assert.equal(response.DetectDocumentTextModelVersion, result.engine.version);
    assert.equal(response.NextToken, undefined, 'the whole response: every block');
    const doc = new TextractDocument(response);
    const lines = doc.pageNumber(1).listLines();
    const engineLines = result.pages[0].lines.map((l: { text: string }) => l.text);
    assert.ok(engineLines.length > 5, 'the engine reads the scan\'s lines');
    assert.deepEqual(lines.map((l) => l.text), engineLines);
    assert.deepEqual(lines.flatMap((l) => l.listWords().map((w) => w.text)), result.pages[0].words.map((w: { text: string }) => w.text));
    const failed = JSON.parse(s3.store.get(`out/${base}00001.textract.json`)!.toString());
    assert.equal(failed.JobStatus, 'FAILED');
    assert.match(failed.StatusMessage, /^INPUT_NOT_FOUND: /);
    assert.deepEqual(failed.Blocks, []);
    const sum = JSON.parse(s3.store.get('out/results/job-tx/summaries/00000.json')!.toString());
    assert.deepEqual(sum.documents.map((d: any) => d.outputKeys), [{ textract: `${base}00000.textract.json` }, { textract: `${base}00001.textract.json` }]);
    // fewer than 1,000 blocks: one page, the whole response; a FAILED document's one page has no blocks
    assert.deepEqual(JSON.parse(s3.store.get(`out/${base}00000.textract/1`)!.toString()), response);
    assert.deepEqual(JSON.parse(s3.store.get(`out/${base}00001.textract/1`)!.toString()), failed);
    assert.deepEqual(sum.documents.map((d: any) => d.textractPages), [{ count: 1, blocks: response.Blocks.length }, { count: 1, blocks: 0 }]);
  } finally { s3.mock.restore(); }
});

test('job option outputs textract: a response of more than 1,000 blocks is also written in pages of 1,000, each repeating the other fields, their count in the summary', async () => {
  // the scan's result, its page repeated: enough blocks for three page objects
  const first = fakeS3({ 'in/scan.tif': fixture('ocr/phototest.tif') });
  let scan: OcrResult;
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-scan', OCR_INPUT_KEY: 'scan.tif' }, { s3: first.client, log: quiet, metrics: () => undefined }), 0);
    scan = JSON.parse(first.store.get('out/results/job-scan/results/00000.json')!.toString());
  } finally { first.mock.restore(); }
  const pageCount = 40;
  const long: OcrResult = { ...scan, pageCount, pages: Array.from({ length: pageCount }, (_, i) => ({ ...scan.pages[0], pageNumber: i + 1 })) };
  const engine = { warm: async () => undefined, process: async () => long, close: async () => undefined } as unknown as Engine;
  const manifest = { schemaVersion: 1, jobId: 'job-long', documents: [{ key: 'long.pdf' }], options: { outputs: ['json', 'textract'], geometry: true } };
  const s3 = fakeS3({ 'out/m/job-long.json': JSON.stringify(manifest), 'in/long.pdf': 'bytes' });
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-long', OCR_MANIFEST_KEY: 'm/job-long.json' }, { s3: s3.client, createEngine: () => engine, log: quiet, metrics: () => undefined }), 0);
    const base = 'results/job-long/results/';
    const whole = JSON.parse(s3.store.get(`out/${base}00000.textract.json`)!.toString());
    const expectedPages = Math.ceil(whole.Blocks.length / 1000);
    assert.ok(expectedPages >= 3, `${whole.Blocks.length} blocks make several pages`);
    assert.deepEqual(s3.puts.filter((k) => k.includes('.textract/')), Array.from({ length: expectedPages }, (_, i) => `${base}00000.textract/${i + 1}`));
    assert.ok(s3.puts.indexOf(`${base}00000.json`) > s3.puts.indexOf(`${base}00000.textract/${expectedPages}`), 'every page before the .json');
    const pages = Array.from({ length: expectedPages }, (_, i) => JSON.parse(s3.store.get(`out/${base}00000.textract/${i + 1}`)!.toString()));
    assert.deepEqual(pages.map((p) => p.Blocks.length), [...Array(expectedPages - 1).fill(1000), whole.Blocks.length - (expectedPages - 1) * 1000]);
    assert.deepEqual(pages.flatMap((p) => p.Blocks), whole.Blocks, 'the pages are the whole response\'s blocks, in order');
    const { Blocks: _all, ...fields } = whole;
    for (const page of pages) {
      const { Blocks: _some, ...pageFields } = page;
      assert.deepEqual(pageFields, fields, 'every page repeats JobStatus, DocumentMetadata and the model version');
    }
    const sum = JSON.parse(s3.store.get('out/results/job-long/summaries/00000.json')!.toString());
    assert.deepEqual(sum.documents[0].textractPages, { count: expectedPages, blocks: whole.Blocks.length });
    // a retried job keeps the pages written and gives its summary the same figures
    s3.store.delete('out/results/job-long/summaries/00000.json');
    s3.puts.length = 0;
    assert.equal(await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-long', OCR_MANIFEST_KEY: 'm/job-long.json' }, { s3: s3.client, createEngine: () => engine, log: quiet, metrics: () => undefined }), 0);
    assert.deepEqual(s3.puts, ['results/job-long/summaries/00000.json']);
    assert.deepEqual(JSON.parse(s3.store.get('out/results/job-long/summaries/00000.json')!.toString()).documents[0].textractPages, sum.documents[0].textractPages);
  } finally { s3.mock.restore(); }
});

test('job option outputs with an unknown format is a configuration error: exit 1, nothing written', async () => {
  const manifest = { schemaVersion: 1, jobId: 'job-bad', documents: [{ key: 'a.pdf' }], options: { outputs: ['json', 'docx'] } };
  const s3 = fakeS3({ 'out/m/job-bad.json': JSON.stringify(manifest), 'in/a.pdf': fixture('pdf/two_paragraphs.pdf') });
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-bad', OCR_MANIFEST_KEY: 'm/job-bad.json' }, { s3: s3.client, log: quiet, metrics: () => undefined }), 1);
    assert.deepEqual(s3.puts, []);
  } finally { s3.mock.restore(); }
});

test('manifest child: its share only, bad documents are FAILED results, exit 0', async () => {
  const manifest = {
    schemaVersion: 1, jobId: 'job-2',
    children: [{ first: 0, count: 2 }, { first: 2, count: 2 }, { first: 4, count: 2 }],
    documents: [{ key: 'a.pdf' }, { key: 'b.pdf' }, { key: 'bad.pdf' }, { key: 'missing.pdf' }, { key: 'denied.pdf' }, { key: 'f.pdf' }],
    options: { languages: 'eng', dpi: 200, maxPages: 5, password: null },
  };
  const s3 = fakeS3({ 'out/m/job-2.json': JSON.stringify(manifest), 'in/bad.pdf': fixture('pdf/bug1020226.pdf') });
  const metrics: string[] = [];
  try {
    const code = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-2', OCR_OUTPUT_PREFIX: 'pre', OCR_MANIFEST_KEY: 'm/job-2.json', AWS_BATCH_JOB_ARRAY_INDEX: '1' },
      { s3: s3.client, log: quiet, metrics: (l) => metrics.push(l) });
    assert.equal(code, 0);
    assert.deepEqual(s3.puts, ['pre/job-2/results/00002.txt', 'pre/job-2/results/00002.json', 'pre/job-2/results/00003.txt', 'pre/job-2/results/00003.json', 'pre/job-2/summaries/00001.json']);
    const sum = JSON.parse(s3.store.get('out/pre/job-2/summaries/00001.json')!.toString());
    assert.deepEqual(sum.counts, { succeeded: 0, failed: 2, byErrorCode: { INVALID_PDF: 1, INPUT_NOT_FOUND: 1 } });
    assert.equal(sum.arrayIndex, 1);
    assert.deepEqual(sum.documents.map((d: any) => [d.index, d.key, d.errorCode]), [[2, 'bad.pdf', 'INVALID_PDF'], [3, 'missing.pdf', 'INPUT_NOT_FOUND']]);
    for (const i of ['00002', '00003']) assert.deepEqual(validateResult(JSON.parse(s3.store.get(`out/pre/job-2/results/${i}.json`)!.toString())), []);
    // the next share: a document S3 denies access to is a FAILED result, and the share goes on (exit 0, no retry)
    const next = await runBatch({ ...baseEnv, OCR_JOB_ID: 'job-2', OCR_OUTPUT_PREFIX: 'pre', OCR_MANIFEST_KEY: 'm/job-2.json', AWS_BATCH_JOB_ARRAY_INDEX: '2' },
      { s3: s3.client, log: quiet, metrics: () => undefined });
    assert.equal(next, 0);
    const denied = JSON.parse(s3.store.get('out/pre/job-2/results/00004.json')!.toString());
    assert.deepEqual(validateResult(denied), []);
    assert.equal(denied.error.code, 'INPUT_UNREADABLE');
    assert.match(denied.error.message, /Access to s3:\/\/in\/denied\.pdf was denied \(AccessDenied\)/);
    assert.equal(JSON.parse(s3.store.get('out/pre/job-2/results/00005.json')!.toString()).error.code, 'INPUT_NOT_FOUND', 'the document after it was read too');
    const emf = JSON.parse(metrics[0]);
    assert.deepEqual(emf._aws.CloudWatchMetrics[0].Dimensions, [['Service'], ['Service', 'ErrorCode']]);
    assert.equal(emf.ErrorCode, 'INVALID_PDF');
  } finally { s3.mock.restore(); }
});

test('a retried job keeps results already written and does not rewrite them', async () => {
  const s3 = fakeS3({ 'in/a.pdf': fixture('pdf/two_paragraphs.pdf') });
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf' }, { s3: s3.client, log: quiet, metrics: quiet }), 0);
    s3.store.delete('out/results/job-1/summaries/00000.json');
    s3.puts.length = 0;
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf' }, { s3: s3.client, log: quiet, metrics: quiet }), 0);
    assert.deepEqual(s3.puts, ['results/job-1/summaries/00000.json']);
  } finally { s3.mock.restore(); }
});

test('configuration errors exit 1', async () => {
  const s3 = fakeS3({});
  try {
    assert.equal(await runBatch({ ...baseEnv }, { s3: s3.client, log: quiet }), 1);
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a', OCR_MANIFEST_KEY: 'b' }, { s3: s3.client, log: quiet }), 1);
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a', OCR_DPI: 'lots' }, { s3: s3.client, log: quiet }), 1);
    const logged: string[] = [];
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a', OCR_ENGINE: 'tesseract-native' }, { s3: s3.client, log: (_l, m, f) => logged.push(`${m} ${JSON.stringify(f ?? {})}`) }), 1);
    assert.match(logged.join('\n'), /OCR_ENGINE must be one of 'tesseract.js', 'tesseract'/);
    assert.equal(await runBatch({ ...baseEnv, OCR_MANIFEST_KEY: 'nope.json' }, { s3: s3.client, log: quiet }), 1);
    assert.deepEqual(s3.puts, []);
  } finally { s3.mock.restore(); }
});

test('S3 unreachable exits 75 without a summary', async () => {
  const s3 = fakeS3({ 'in/a.pdf': 'x' }, { failGet: true });
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf' }, { s3: s3.client, log: quiet }), 75);
    assert.deepEqual(s3.puts, []);
  } finally { s3.mock.restore(); }
});

/** An S3 error as the SDK throws it once its own retries are spent. */
const s3Error = (name: string, httpStatusCode: number) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode } });

test('transient failures are throttling, timeouts, the network and 5xx; a 4xx, a TypeError or bad JSON is not', () => {
  for (const err of [s3Error('InternalError', 500), s3Error('SlowDown', 503), s3Error('ThrottlingException', 400), s3Error('TooManyRequestsException', 429),
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), Object.assign(new Error('t'), { name: 'TimeoutError' })]) {
    assert.equal(isTransient(err), true, `${err.name} ${err.message}`);
  }
  for (const err of [s3Error('InvalidRequest', 400), s3Error('KMS.DisabledException', 400), new TypeError('x is undefined'), new SyntaxError('Unexpected token'), 'a string', undefined]) {
    assert.equal(isTransient(err), false, String(err));
  }
});

test('a bug (an unexpected error) exits 70, which the job definition does not retry, and writes no summary', async () => {
  const s3 = fakeS3({ 'in/a.pdf': fixture('pdf/two_paragraphs.pdf') });
  const logged: Array<Record<string, unknown>> = [];
  const buggy = { warm: async () => undefined, process: async () => { throw new TypeError("Cannot read properties of undefined (reading 'pages')"); }, close: async () => undefined } as unknown as Engine;
  try {
    const code = await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf' }, { s3: s3.client, createEngine: () => buggy, log: (level, msg, fields) => logged.push({ level, msg, ...fields }), metrics: quiet });
    assert.equal(code, EXIT.UNEXPECTED);
    assert.equal(code, 70);
    assert.deepEqual(s3.puts, []);
    assert.ok(logged.some((l) => l.msg === 'unexpected failure, not retried' && /TypeError: Cannot read properties/.test(String(l.error))), JSON.stringify(logged));
  } finally { s3.mock.restore(); }
});

test('S3 5xx and throttling exit 75 (retried); an S3 request refused for good exits 70 (not retried)', async () => {
  const cases: Array<[Error, number]> = [[s3Error('InternalError', 500), 75], [s3Error('SlowDown', 503), 75], [s3Error('InvalidRequest', 400), 70]];
  for (const [err, expected] of cases) {
    const s3 = fakeS3({ 'in/a.pdf': fixture('pdf/two_paragraphs.pdf') });
    s3.mock.on(PutObjectCommand).rejects(err);
    try {
      assert.equal(await runBatch({ ...baseEnv, OCR_INPUT_KEY: 'a.pdf' }, { s3: s3.client, log: quiet, metrics: quiet }), expected, err.name);
    } finally { s3.mock.restore(); }
  }
});

test('SIGTERM: stops, writes no summary, exit 143', async () => {
  const stop: { stopped: boolean; onStop?: () => void } = { stopped: false };
  const s3 = fakeS3({ 'in/a.pdf': fixture('pdf/two_paragraphs.pdf'), 'in/b.pdf': fixture('ocr/phototest.tif'),
    'out/m.json': JSON.stringify({ schemaVersion: 1, documents: [{ key: 'a.pdf' }, { key: 'b.pdf' }] }) },
  { onPut: (k) => { if (k.endsWith('00000.json')) { stop.stopped = true; stop.onStop?.(); } } });
  try {
    assert.equal(await runBatch({ ...baseEnv, OCR_MANIFEST_KEY: 'm.json' }, { s3: s3.client, log: quiet, metrics: quiet, stopSignal: stop }), 143);
    assert.ok(!s3.puts.some((k) => k.includes('summaries')));
    assert.ok(!s3.puts.some((k) => k.includes('00001')));
  } finally { s3.mock.restore(); }
});

test('the real entry point: invalid env exits 1 with a JSON log; unreachable S3 exits 75', () => {
  const bad = spawnSync(join(PKG, 'node_modules/.bin/node'), ['src/batch.ts'], { cwd: PKG, encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(bad.status, 1);
  const line = JSON.parse(bad.stdout.trim().split('\n')[0]);
  assert.equal(line.level, 'error');
  const env = { PATH: process.env.PATH, ...baseEnv, OCR_INPUT_KEY: 'a.pdf', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_EC2_METADATA_DISABLED: 'true' };
  const down = spawnSync(join(PKG, 'node_modules/.bin/node'), ['src/batch.ts'], { cwd: PKG, encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(down.status, 75, down.stdout + down.stderr);
});

test('the real entry point: SIGTERM while working exits 143 and records nothing', async () => {
  const { spawn } = await import('node:child_process');
  const env = { PATH: process.env.PATH, ...baseEnv, OCR_INPUT_KEY: 'a.pdf', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y',
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9', AWS_EC2_METADATA_DISABLED: 'true' };
  const p = spawn(join(PKG, 'node_modules/.bin/node'), ['src/batch.ts'], { cwd: PKG, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  // wait until it is working (retrying S3), then stop it like a Spot reclaim
  await new Promise<void>((resolve) => { const t = setInterval(() => { if (out.includes('"starting"')) { clearInterval(t); resolve(); } }, 20); });
  p.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => p.on('exit', (c) => resolve(c)));
  assert.equal(code, 143, out);
  assert.match(out, /SIGTERM/);
  assert.doesNotMatch(out, /"finished"/);
});
