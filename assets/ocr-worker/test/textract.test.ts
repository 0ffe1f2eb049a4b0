/**
 * Amazon Textract's text detection on the local service, driven by the real `@aws-sdk/client-textract`
 * and read back with AWS's own response parser (`amazon-textract-response-parser`): every operation,
 * pagination, the errors Textract documents, a retried Start with the same token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { copyFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DetectDocumentTextCommand, GetDocumentTextDetectionCommand, StartDocumentTextDetectionCommand, TextractClient,
  type Block, type DetectDocumentTextCommandOutput, type GetDocumentTextDetectionCommandOutput,
} from '@aws-sdk/client-textract';
import { TextractDocument } from 'amazon-textract-response-parser';
import { fixture } from './helpers/common.ts';
import type { App } from '../src/service/app.ts';
import type { OcrResult } from '../src/result.ts';
import { countingEngine, getJson, startTestApp, upload, waitFinished, type CountingEngine } from './service/helpers.ts';

const execFileAsync = promisify(execFile);
let engine: CountingEngine;
let app: App;
let client: TextractClient;
let dataDir: string;

const FILES = {
  scan: 'ocr/phototest.tif',
  textLayer: 'pdf/two_paragraphs.pdf',
  threePages: 'pdf/basicapi.pdf',
  broken: 'pdf/REDHAT-1531897-0.pdf',
  onePageFails: 'pdf/Pages-tree-refs.pdf',
  encrypted: 'pdf/saslprep-r6.pdf',
};

function textractClient(endpoint: string, maxAttempts = 1): TextractClient {
  return new TextractClient({ endpoint, region: 'us-east-1', maxAttempts, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
}

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'textract-'));
  for (const rel of Object.values(FILES)) copyFileSync(join(import.meta.dirname, 'fixtures', rel), join(dataDir, rel.split('/')[1]));
  engine = countingEngine();
  app = await startTestApp({ OCR_WORKERS: '2', OCR_DATA_DIR: dataDir, OCR_REQUEST_TIMEOUT_SECONDS: '60' }, { engine });
  client = textractClient(app.url);
});
after(async () => {
  client.destroy();
  await app.stop(0);
  await engine.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The engine's own result for the same document, through the service's /extract. */
async function engineResult(file: string): Promise<OcrResult> {
  const u = await upload(app.url, fixture(file), file.split('/')[1]);
  assert.equal(u.status, 202, JSON.stringify(u.body));
  await waitFinished(app.url, u.body.document_id);
  const { status, body } = await getJson(`${app.url}/result/${u.body.document_id}`);
  assert.equal(status, 200);
  return body as OcrResult;
}

/** Lines and words of the engine's result, page by page. */
function linesAndWords(result: OcrResult): Array<{ lines: string[]; words: string[] }> {
  return result.pages.map((p) => {
    const g = p as unknown as { lines?: Array<{ text: string }>; words?: Array<{ text: string }> };
    return { lines: (g.lines ?? []).map((l) => l.text), words: (g.words ?? []).map((w) => w.text) };
  });
}

/** The same, read from Textract blocks by AWS's response parser. */
function parsed(response: { Blocks?: Block[]; DocumentMetadata?: { Pages?: number } }): Array<{ lines: string[]; words: string[] }> {
  const doc = new TextractDocument(response as never);
  const out: Array<{ lines: string[]; words: string[] }> = [];
  for (let n = 1; n <= doc.nPages; n++) {
    const page = doc.pageNumber(n);
    const lines = page.listLines();
    out.push({ lines: lines.map((l) => l.text), words: lines.flatMap((l) => l.listWords().map((w) => w.text)) });
  }
  return out;
}

async function textractError(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('the call succeeded');
}

describe('DetectDocumentText', () => {
  test('GIVEN a one-page scan as Bytes WHEN DetectDocumentText THEN the lines and words of the engine, in blocks AWS\'s parser reads', async () => {
    const out = await client.send(new DetectDocumentTextCommand({ Document: { Bytes: fixture(FILES.scan) } }));
    const expected = linesAndWords(await engineResult(FILES.scan));
    assert.ok(expected[0].words.length > 20, 'the engine reads the scan\'s words');
    assert.deepEqual(parsed(out), expected);
    assert.equal(out.DocumentMetadata?.Pages, 1);
    const page = out.Blocks!.filter((b) => b.BlockType === 'PAGE');
    assert.equal(page.length, 1);
    for (const b of out.Blocks!.filter((x) => x.BlockType === 'WORD')) {
      const box = b.Geometry!.BoundingBox!;
      assert.ok(box.Left! >= 0 && box.Top! >= 0 && box.Left! + box.Width! <= 1.0001 && box.Top! + box.Height! <= 1.0001, JSON.stringify(box));
      assert.equal(b.Geometry!.Polygon!.length, 4);
      assert.equal(b.TextType, 'PRINTED');
      assert.ok(b.Confidence! >= 0 && b.Confidence! <= 100);
    }
    assert.ok(out.DetectDocumentTextModelVersion);
  });

  test('GIVEN a born-digital page named as an S3Object WHEN DetectDocumentText THEN its text-layer words', async () => {
    const out = await client.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'local', Name: 'two_paragraphs.pdf' } } }));
    assert.deepEqual(parsed(out)[0].lines, ['The first paragraph.', 'The second paragraph.']);
  });

  test('GIVEN a three-page PDF WHEN DetectDocumentText THEN UnsupportedDocumentException, as Textract\'s synchronous API', async () => {
    const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { Bytes: fixture(FILES.threePages) } })));
    assert.equal(err.name, 'UnsupportedDocumentException');
    assert.equal(err.status, 400);
    assert.match(err.message, /3 pages/);
  });

  test('GIVEN bytes of no document type WHEN DetectDocumentText THEN UnsupportedDocumentException', async () => {
    const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { Bytes: Buffer.from('just some text, not a document') } })));
    assert.equal(err.name, 'UnsupportedDocumentException');
  });

  test('GIVEN a broken PDF or one that needs a password WHEN DetectDocumentText THEN BadDocumentException', async () => {
    for (const file of [FILES.broken, FILES.encrypted]) {
      const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { Bytes: fixture(file) } })));
      assert.equal(err.name, 'BadDocumentException', file);
    }
  });

  test('GIVEN more than 10 MB of Bytes WHEN DetectDocumentText THEN DocumentTooLargeException', async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x20);
    const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { Bytes: big } })));
    assert.equal(err.name, 'DocumentTooLargeException');
  });

  test('GIVEN an S3Object of more than 10 MB WHEN DetectDocumentText THEN DocumentTooLargeException, and the same object still reads through StartDocumentTextDetection', async () => {
    const name = 'over-ten-megabytes.pdf';
    writeFileSync(join(dataDir, name), Buffer.alloc(10 * 1024 * 1024 + 1, 0x20));
    const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: 'local', Name: name } } })));
    assert.equal(err.name, 'DocumentTooLargeException');
    assert.match(err.message, /10485760/);
    // the limit is DetectDocumentText's alone: the asynchronous operation reads the object (and finds it is no PDF)
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: name } } }));
    const { first } = await getAll(JobId!);
    assert.equal(first.JobStatus, 'FAILED');
    assert.doesNotMatch(first.StatusMessage ?? '', /TOO_LARGE/);
  });

  test('GIVEN a Document with both or neither of Bytes and S3Object, or empty Bytes WHEN DetectDocumentText THEN InvalidParameterException', async () => {
    for (const Document of [{}, { Bytes: fixture(FILES.scan), S3Object: { Bucket: 'local', Name: 'phototest.tif' } }, { Bytes: new Uint8Array(0) }]) {
      const err = await textractError(client.send(new DetectDocumentTextCommand({ Document })));
      assert.equal(err.name, 'InvalidParameterException', JSON.stringify(Object.keys(Document)));
    }
  });

  test('GIVEN an S3Object that does not exist or a bucket the service does not read WHEN DetectDocumentText THEN InvalidS3ObjectException', async () => {
    for (const S3Object of [{ Bucket: 'local', Name: 'missing.pdf' }, { Bucket: 'someone-elses-bucket', Name: 'a.pdf' }]) {
      const err = await textractError(client.send(new DetectDocumentTextCommand({ Document: { S3Object } })));
      assert.equal(err.name, 'InvalidS3ObjectException', JSON.stringify(S3Object));
    }
  });
});

async function getAll(jobId: string, maxResults?: number): Promise<{ first: GetDocumentTextDetectionCommandOutput; blocks: Block[]; calls: number }> {
  const until = Date.now() + 120_000;
  let first: GetDocumentTextDetectionCommandOutput;
  for (;;) {
    first = await client.send(new GetDocumentTextDetectionCommand({ JobId: jobId, MaxResults: maxResults }));
    if (first.JobStatus !== 'IN_PROGRESS') break;
    assert.ok(Date.now() < until, 'the job finishes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const blocks = [...first.Blocks ?? []];
  let token = first.NextToken;
  let calls = 1;
  while (token) {
    const next = await client.send(new GetDocumentTextDetectionCommand({ JobId: jobId, MaxResults: maxResults, NextToken: token }));
    blocks.push(...next.Blocks ?? []);
    token = next.NextToken;
    calls++;
  }
  return { first, blocks, calls };
}

describe('StartDocumentTextDetection and GetDocumentTextDetection', () => {
  test('GIVEN a three-page PDF WHEN Start then Get THEN SUCCEEDED with every page\'s lines and words, the same when paged 7 blocks at a time', async () => {
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'basicapi.pdf' } }, JobTag: 'invoices' }));
    assert.ok(JobId);
    const whole = await getAll(JobId);
    assert.equal(whole.first.JobStatus, 'SUCCEEDED');
    assert.equal(whole.first.DocumentMetadata?.Pages, 3);
    const expected = linesAndWords(await engineResult(FILES.threePages));
    assert.ok(expected.every((p) => p.lines.length > 0));
    assert.deepEqual(parsed({ Blocks: whole.blocks, DocumentMetadata: whole.first.DocumentMetadata }), expected);
    const paged = await getAll(JobId, 7);
    assert.equal(paged.calls, Math.ceil(whole.blocks.length / 7));
    assert.deepEqual(paged.blocks, whole.blocks);
    assert.deepEqual([...new Set(whole.blocks.map((b) => b.Page))], [1, 2, 3]);
  });

  test('GIVEN a retried Start with the same ClientRequestToken THEN the same JobId and one document; another document with that token → IdempotentParameterMismatchException', async () => {
    const before = app.service.counters.accepted;
    const start = (Name: string): Promise<{ JobId?: string }> => client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name } }, ClientRequestToken: 'retry-token-1' }));
    const a = await start('phototest.tif');
    const b = await start('phototest.tif');
    assert.equal(a.JobId, b.JobId);
    assert.equal((await getAll(a.JobId!)).first.JobStatus, 'SUCCEEDED');
    assert.equal(app.service.counters.accepted - before, 1);
    const err = await textractError(start('two_paragraphs.pdf'));
    assert.equal(err.name, 'IdempotentParameterMismatchException');
  });

  test('GIVEN a Start that was taken WHEN retried with its token after the object is gone THEN the same JobId, as Textract answers a repeated token', async () => {
    const name = 'deleted-after-start.tif';
    copyFileSync(join(dataDir, 'phototest.tif'), join(dataDir, name));
    const start = (): Promise<{ JobId?: string }> => client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: name } }, ClientRequestToken: 'retry-after-delete' }));
    const first = await start();
    assert.equal((await getAll(first.JobId!)).first.JobStatus, 'SUCCEEDED');
    rmSync(join(dataDir, name));
    assert.equal((await start()).JobId, first.JobId);
    // without a token, the object is checked: it is gone
    const err = await textractError(client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: name } } })));
    assert.equal(err.name, 'InvalidS3ObjectException');
  });

  test('GIVEN a PDF with one unreadable page WHEN Get THEN PARTIAL_SUCCESS with a warning naming the page', async () => {
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'Pages-tree-refs.pdf' } } }));
    const { first } = await getAll(JobId!);
    assert.equal(first.JobStatus, 'PARTIAL_SUCCESS');
    assert.deepEqual(first.Warnings, [{ ErrorCode: 'PAGE_FAILED', Pages: [2] }]);
  });

  test('GIVEN a broken PDF WHEN Get THEN FAILED with a StatusMessage', async () => {
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'REDHAT-1531897-0.pdf' } } }));
    const { first } = await getAll(JobId!);
    assert.equal(first.JobStatus, 'FAILED');
    assert.match(first.StatusMessage ?? '', /INVALID_PDF/);
    assert.equal(first.Blocks, undefined);
  });

  test('GIVEN an unknown JobId, a foreign NextToken or MaxResults 0 WHEN Get THEN InvalidJobIdException / InvalidParameterException', async () => {
    assert.equal((await textractError(client.send(new GetDocumentTextDetectionCommand({ JobId: 'no-such-job' })))).name, 'InvalidJobIdException');
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'two_paragraphs.pdf' } } }));
    await getAll(JobId!);
    const foreign = Buffer.from(JSON.stringify({ j: 'another-job', o: 1 })).toString('base64url');
    assert.equal((await textractError(client.send(new GetDocumentTextDetectionCommand({ JobId, NextToken: foreign })))).name, 'InvalidParameterException');
    assert.equal((await textractError(client.send(new GetDocumentTextDetectionCommand({ JobId, MaxResults: 0 })))).name, 'InvalidParameterException');
  });

  test('GIVEN a NotificationChannel (no topic allowed), an OutputConfig bucket not allowed, a bad token, no DocumentLocation, a missing object or one above the service\'s size limit WHEN Start THEN Textract\'s refusal and no job', async () => {
    const before = app.service.counters.accepted;
    const S3Object = { Bucket: 'local', Name: 'two_paragraphs.pdf' };
    // a sparse file: its size is known without writing its bytes
    const oversized = 'over-the-service-limit.pdf';
    writeFileSync(join(dataDir, oversized), '');
    truncateSync(join(dataDir, oversized), app.service.config.maxDocumentBytes + 1);
    const bad: Array<[unknown, string]> = [
      [{ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'no-such-object.pdf' } } }, 'InvalidS3ObjectException'],
      [{ DocumentLocation: { S3Object: { Bucket: 'local', Name: oversized } } }, 'DocumentTooLargeException'],
      [{ DocumentLocation: { S3Object }, NotificationChannel: { SNSTopicArn: 'arn:aws:sns:us-east-1:111111111111:t', RoleArn: 'arn:aws:iam::111111111111:role/r' } }, 'InvalidParameterException'],
      [{ DocumentLocation: { S3Object }, OutputConfig: { S3Bucket: 'out' } }, 'AccessDeniedException'],
      [{ DocumentLocation: { S3Object }, ClientRequestToken: 'spaces are not allowed' }, 'InvalidParameterException'],
      [{ DocumentLocation: undefined }, 'InvalidParameterException'],
    ];
    for (const [input, expected] of bad) {
      assert.equal((await textractError(client.send(new StartDocumentTextDetectionCommand(input as never)))).name, expected, JSON.stringify(input));
    }
    assert.equal(app.service.counters.accepted, before);
  });
});

describe('the example client (examples/ocr-service/textract-client.ts)', () => {
  test('GIVEN the service URL and a file, or an object of its documents bucket THEN it prints the lines the engine reads', async () => {
    const example = join(import.meta.dirname, '..', '..', '..', 'examples', 'ocr-service', 'textract-client.ts');
    // asynchronous: the service answering the example runs in this process
    const run = async (document: string): Promise<string> => (await execFileAsync(process.execPath, ['--disable-warning=ExperimentalWarning', example, app.url, document], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'example', AWS_REGION: 'us-east-1' },
    })).stdout;
    const expected = (r: OcrResult): string => r.pages.flatMap((p) => (p.lines ?? []).map((l) => l.text)).join('\n') + '\n';
    assert.equal(await run(join(import.meta.dirname, 'fixtures', FILES.scan)), expected(await engineResult(FILES.scan)));
    assert.equal(await run('s3://local/basicapi.pdf'), expected(await engineResult(FILES.threePages)));
  });
});

describe('the protocol', () => {
  test('GIVEN DetectDocumentText and Get answers THEN every field on the wire is a member of the SDK\'s model (the client drops fields its model does not have)', async () => {
    // The SDK deserializes by its model's schema: a field the model does not have would not come through.
    const raw = async (operation: string, input: object): Promise<Record<string, unknown>> => {
      const res = await fetch(`${app.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Textract.${operation}` }, body: JSON.stringify(input) });
      assert.equal(res.status, 200);
      return await res.json() as Record<string, unknown>;
    };
    const placeIds = (response: Record<string, unknown>): Record<string, unknown> => {
      const place = new Map((response.Blocks as Block[]).map((b, i) => [b.Id!, `block-${i}`]));
      return JSON.parse(JSON.stringify(response), (key, value: unknown) => (key === 'Id' ? place.get(value as string) : key === 'Ids' ? (value as string[]).map((id) => place.get(id)) : value)) as Record<string, unknown>;
    };
    const withoutMetadata = ({ $metadata: _m, ...rest }: { $metadata: unknown }): Record<string, unknown> => rest;
    const Document = { S3Object: { Bucket: 'local', Name: 'phototest.tif' } };
    const detected = await client.send(new DetectDocumentTextCommand({ Document }));
    // each DetectDocumentText is a document of its own, with its own block ids: they are compared by their place
    assert.deepEqual(placeIds(withoutMetadata(detected as DetectDocumentTextCommandOutput)), placeIds(await raw('DetectDocumentText', { Document })));
    const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: 'Pages-tree-refs.pdf' } } }));
    await getAll(JobId!);
    const got = await client.send(new GetDocumentTextDetectionCommand({ JobId, MaxResults: 5 }));
    assert.ok(got.NextToken && got.Warnings);
    assert.deepEqual(withoutMetadata(got as GetDocumentTextDetectionCommandOutput), await raw('GetDocumentTextDetection', { JobId, MaxResults: 5 }));
  });

  test('GIVEN an operation Textract has but this service does not answer WHEN called THEN a 400 UnknownOperationException in AWS JSON 1.1', async () => {
    const res = await fetch(`${app.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Textract.AnalyzeDocument' }, body: '{}' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    const body = await res.json() as { __type: string; message: string };
    assert.equal(body.__type, 'UnknownOperationException');
    assert.match(body.message, /DetectDocumentText/);
  });

  test('GIVEN a body that is not JSON WHEN called THEN InvalidParameterException', async () => {
    const res = await fetch(`${app.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'Textract.DetectDocumentText' }, body: '{not json' });
    assert.equal(res.status, 400);
    assert.equal((await res.json() as { __type: string }).__type, 'InvalidParameterException');
  });

  /** A service whose OCR workers stay warming until `warmUp()` is called. */
  async function coldApp() {
    let warm = false;
    let warmUp!: () => void;
    const warming = new Promise<void>((r) => { warmUp = r; });
    const slow = { workers: 1, warm: async () => { await warming; warm = true; }, isReady: () => warm, close: async () => undefined, process: engine.process };
    const { startApp } = await import('../src/service/app.ts');
    const { parseServiceConfig } = await import('../src/service/config.ts');
    const cold = await startApp(parseServiceConfig({ PORT: '0' }), { engine: slow, log: () => undefined, metrics: () => undefined });
    return { cold, warmUp };
  }

  test('GIVEN OCR workers still warming WHEN DetectDocumentText THEN ThrottlingException (500), which the SDK retries', async () => {
    const { cold, warmUp } = await coldApp();
    const coldClient = textractClient(cold.url);
    try {
      const err = await textractError(coldClient.send(new DetectDocumentTextCommand({ Document: { Bytes: fixture(FILES.scan) } })));
      assert.equal(err.name, 'ThrottlingException');
      assert.equal(err.status, 500);
    } finally {
      warmUp();
      await cold.ready;
      coldClient.destroy();
      await cold.stop(0);
    }
  });

  test('GIVEN the SDK\'s default retries WHEN the first attempt is throttled THEN the client retries it and the call succeeds, as with Textract', async () => {
    const { cold, warmUp } = await coldApp();
    const retrying = textractClient(cold.url, 5);
    const statuses: number[] = [];
    // after each attempt (the retry middleware runs the deserialize step once per attempt): the first one warms the workers
    retrying.middlewareStack.add((next) => async (args) => {
      try {
        const out = await next(args);
        statuses.push((out.response as { statusCode: number }).statusCode);
        return out;
      } catch (err) {
        statuses.push((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);
        throw err;
      } finally {
        warmUp();
      }
    }, { step: 'deserialize', name: 'warmAfterFirstAttempt' });
    try {
      const out = await retrying.send(new DetectDocumentTextCommand({ Document: { Bytes: fixture(FILES.scan) } }));
      assert.ok(out.$metadata.attempts! >= 2, `attempts: ${out.$metadata.attempts}`);
      assert.equal(statuses[0], 500, 'the first attempt was throttled');
      assert.equal(statuses.at(-1), 200);
      assert.ok(out.Blocks!.some((b) => b.BlockType === 'WORD'));
    } finally {
      warmUp();
      await cold.ready;
      retrying.destroy();
      await cold.stop(0);
    }
  });
});
