/**
 * The storage interfaces, one conformance suite for every StatusStore (memory, local files, DynamoDB
 * through dynalite, an offline DynamoDB stand-in from npm), plus the S3 stores against
 * aws-sdk-client-mock and the DynamoDB store's exact condition expressions.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { CreateTableCommand, DynamoDBClient, ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, UpdateCommand, PutCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoStatusStore, S3DocumentStore, S3ResultStore } from '../../src/service/aws-stores.ts';
import {
  DocumentNotFoundError, DocumentTooLargeError, DocumentUnreadableError, LocalStatusStore, MemoryCache, normalizeStatus, safeFileName, type StatusStore,
} from '../../src/service/stores.ts';
import { parseServiceConfig, ServiceConfigError } from '../../src/service/config.ts';
import { cacheKey, checkDocumentId, parseRequestOptions, ServiceError } from '../../src/service/service.ts';
import { WORKER_VERSION, validateResult } from '../../src/index.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

const claimReq = { owner: 'task-a', leaseSeconds: 300, maxAttempts: 3 };

function conformance(name: string, make: () => Promise<StatusStore>): void {
  describe(`StatusStore conformance: ${name}`, () => {
    let store: StatusStore;
    let n = 0;
    const id = (): string => `${name.replace(/\W/g, '')}-${++n}`;
    before(async () => { store = await make(); });

    test('create is create-if-absent', async () => {
      const d = id();
      assert.equal(await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k1' }), true);
      assert.equal(await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k2' }), false);
      const item = await store.get(d);
      assert.equal(item?.key, 'k1', 'the first writer wins, nothing overwritten');
      assert.equal(item?.attempts, 0);
      assert.ok(item?.created_at && item.updated_at);
      assert.equal(await store.get(id()), undefined);
    });

    test('ten concurrent claims of one PENDING item: exactly one wins', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'pending', bucket: 'b', key: 'k' });
      const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claim(d, { ...claimReq, owner: `task-${i}` })));
      const winners = outcomes.filter((o) => o.kind === 'claimed');
      assert.equal(winners.length, 1);
      assert.ok(outcomes.every((o) => o.kind === 'claimed' || o.kind === 'busy'));
      const item = await store.get(d);
      assert.equal(item?.status, 'PROCESSING');
      assert.equal(item?.attempts, 1);
      assert.equal(item?.owner, winners[0].kind === 'claimed' ? winners[0].item.owner : '');
      assert.ok((item?.lease_expires_at ?? 0) > Date.now() / 1000 + 200);
    });

    test('a claim fills bucket/key only where the item has none', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', key: 'own-key' });
      const o = await store.claim(d, { ...claimReq, fill: { bucket: 'from-record', key: 'record-key', file_type: 'pdf' } });
      assert.equal(o.kind, 'claimed');
      const item = await store.get(d);
      assert.deepEqual([item?.bucket, item?.key, item?.file_type], ['from-record', 'own-key', 'pdf']);
    });

    test('only the lease holder completes; the completion removes the claim and keeps the summary', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k' });
      await store.claim(d, claimReq);
      assert.equal(await store.complete(d, 'task-b', 'SUCCEEDED', { page_count: 9 }), false, 'another task cannot complete it');
      assert.equal(await store.renew(d, 'task-b', 300), false);
      assert.equal(await store.renew(d, 'task-a', 300), true);
      assert.equal(await store.complete(d, 'task-a', 'SUCCEEDED', { page_count: 2, text_length: 40, qr_count: 1, qr_codes: ['x'], text_preview: 'hello', result_key: 'results/r.json', cache_hit: false,
        outputs: [{ format: 'pdf', bytes: 1234 }, { format: 'hocr', error_code: 'OUTPUT_FAILED' }] }), true);
      const item = await store.get(d);
      assert.deepEqual(item?.outputs, [{ format: 'pdf', bytes: 1234 }, { format: 'hocr', error_code: 'OUTPUT_FAILED' }]);
      assert.equal(item?.status, 'SUCCEEDED');
      assert.equal(item?.owner, undefined);
      assert.equal(item?.lease_expires_at, undefined);
      assert.deepEqual([item?.page_count, item?.text_length, item?.qr_count, item?.qr_codes, item?.text_preview, item?.result_key, item?.cache_hit],
        [2, 40, 1, ['x'], 'hello', 'results/r.json', false]);
      assert.equal(await store.complete(d, 'task-a', 'FAILED', { error_code: 'X' }), false, 'a finished item is never rewritten');
      const again = await store.claim(d, claimReq);
      assert.equal(again.kind, 'finished');
    });

    test('hand-back returns the item to PENDING with the attempt given back; another task then claims it', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k' });
      await store.claim(d, claimReq);
      assert.equal(await store.handBack(d, 'task-b'), false);
      assert.equal(await store.handBack(d, 'task-a'), true);
      const item = await store.get(d);
      assert.equal(item?.status, 'PENDING');
      assert.equal(item?.attempts, 0);
      assert.equal(item?.owner, undefined);
      const o = await store.claim(d, { ...claimReq, owner: 'task-b' });
      assert.equal(o.kind, 'claimed');
      assert.equal((await store.get(d))?.owner, 'task-b');
    });

    test('a hand-back after a failure keeps the attempt and the reason; the claims run out and FAILED quotes the last error', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k' });
      for (let attempt = 1; attempt <= claimReq.maxAttempts; attempt++) {
        assert.equal((await store.claim(d, claimReq)).kind, 'claimed');
        assert.equal(await store.handBack(d, 'task-a', `PutObject results/${d}: AccessDenied (${attempt})`), true);
        const item = await store.get(d);
        assert.deepEqual([item?.status, item?.attempts, item?.last_error, item?.owner], ['PENDING', attempt, `PutObject results/${d}: AccessDenied (${attempt})`, undefined]);
      }
      assert.equal((await store.claim(d, claimReq)).kind, 'exhausted');
      const item = await store.get(d);
      assert.deepEqual([item?.status, item?.error_code, item?.error_message],
        ['FAILED', 'TOO_MANY_ATTEMPTS', `Claimed 3 times without finishing; last error: PutObject results/${d}: AccessDenied (3).`]);
    });

    test('the claim that would exceed the attempt budget sets FAILED TOO_MANY_ATTEMPTS', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k', attempts: 3 });
      const o = await store.claim(d, claimReq);
      assert.equal(o.kind, 'exhausted');
      const item = await store.get(d);
      assert.equal(item?.status, 'FAILED');
      assert.equal(item?.error_code, 'TOO_MANY_ATTEMPTS');
    });

    test('claims of missing and PROCESSING items are told apart', async () => {
      assert.equal((await store.claim(id(), claimReq)).kind, 'not-found');
      const d = id();
      await store.create({ document_id: d, status: 'PROCESSING', owner: 'someone', bucket: 'b', key: 'k', attempts: 1 });
      assert.equal((await store.claim(d, claimReq)).kind, 'busy');
    });

    test('every write bumps version and updated_at', async () => {
      const d = id();
      await store.create({ document_id: d, status: 'PENDING', bucket: 'b', key: 'k' });
      const v1 = (await store.get(d))!.version!;
      await store.claim(d, claimReq);
      const v2 = (await store.get(d))!.version!;
      await store.renew(d, 'task-a', 300);
      const v3 = (await store.get(d))!.version!;
      assert.ok(v1 < v2 && v2 < v3, `${v1} ${v2} ${v3}`);
    });
  });
}

conformance('memory', async () => new LocalStatusStore());

const dataDir = mkdtempSync(join(tmpdir(), 'ocr-store-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));
conformance('local files', async () => new LocalStatusStore(dataDir));

test('GIVEN the local file store WHEN reopened THEN items survive (the data directory is the database)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-store-reopen-'));
  try {
    const a = new LocalStatusStore(dir);
    await a.create({ document_id: 'persist-1', status: 'PENDING', bucket: 'local', key: 'k' });
    await a.claim('persist-1', claimReq);
    const b = new LocalStatusStore(dir);
    assert.equal((await b.get('persist-1'))?.status, 'PROCESSING');
    assert.equal(JSON.parse(readFileSync(join(dir, 'status', 'persist-1.json'), 'utf8')).owner, 'task-a');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

let dynaliteServer: any;
let ddb: DynamoDBClient;
conformance('DynamoDB (dynalite)', async () => {
  dynaliteServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((r) => dynaliteServer.listen(0, '127.0.0.1', r));
  ddb = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${dynaliteServer.address().port}`, region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  await ddb.send(new CreateTableCommand({
    TableName: 'ocr-status', BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [{ AttributeName: 'document_id', KeyType: 'HASH' }],
    AttributeDefinitions: [{ AttributeName: 'document_id', AttributeType: 'S' }],
  }));
  return new DynamoStatusStore(ddb, 'ocr-status');
});
after(async () => {
  ddb?.destroy();
  if (dynaliteServer) await new Promise((r) => dynaliteServer.close(r));
});

describe('DynamoStatusStore: the exact conditional writes', () => {
  // mocked only while this suite runs (a class mock intercepts every instance, dynalite's too)
  let mock: any;
  before(() => { mock = mockClient(DynamoDBDocumentClient); });
  after(() => mock.restore());

  test('create is conditional on attribute_not_exists(document_id)', async () => {
    mock.reset();
    mock.on(PutCommand).resolves({});
    const store = new DynamoStatusStore(new DynamoDBClient({ region: 'us-east-1' }), 'tbl');
    assert.equal(await store.create({ document_id: 'd', status: 'PENDING' }), true);
    const input = mock.commandCalls(PutCommand)[0].args[0].input;
    assert.equal(input.ConditionExpression, 'attribute_not_exists(document_id)');
    assert.equal(input.TableName, 'tbl');
  });

  test('claim, completion and hand-back carry the ownership conditions', async () => {
    mock.reset();
    mock.on(UpdateCommand).resolves({ Attributes: { document_id: 'd', status: 'PROCESSING' } });
    const store = new DynamoStatusStore(new DynamoDBClient({ region: 'us-east-1' }), 'tbl');
    await store.claim('d', claimReq);
    await store.complete('d', 'task-a', 'SUCCEEDED', { page_count: 1 });
    await store.handBack('d', 'task-a');
    await store.renew('d', 'task-a', 60);
    const [claim, complete, handBack, renew] = mock.commandCalls(UpdateCommand).map((c: any) => c.args[0].input);
    assert.equal(claim.ConditionExpression, 'attribute_exists(document_id) AND #status IN (:p0, :p1, :p2) AND (attribute_not_exists(#attempts) OR #attempts < :max)');
    assert.deepEqual([claim.ExpressionAttributeValues![':p0'], claim.ExpressionAttributeValues![':p1'], claim.ExpressionAttributeValues![':p2']], ['PENDING', 'pending', 'Pending']);
    for (const u of [complete, handBack, renew]) {
      assert.equal(u.ConditionExpression, '#status = :processing AND #owner = :me');
      assert.equal(u.ExpressionAttributeValues![':me'], 'task-a');
    }
    assert.match(complete.UpdateExpression!, /REMOVE #owner, #lease$/);
    assert.match(handBack.UpdateExpression!, /#status = :pending, #attempts = #attempts - :one/);
  });

  test('a lost claim (condition failed) is reported, not thrown', async () => {
    mock.reset();
    mock.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));
    mock.on(GetCommand).resolves({ Item: { document_id: 'd', status: 'PROCESSING', owner: 'task-z' } });
    const store = new DynamoStatusStore(new DynamoDBClient({ region: 'us-east-1' }), 'tbl');
    assert.equal(await store.complete('d', 'task-a', 'SUCCEEDED', {}), false);
    assert.equal((await store.claim('d', claimReq)).kind, 'busy');
  });
});

describe('S3 stores (aws-sdk-client-mock)', () => {
  let s3mock: any;
  before(() => { s3mock = mockClient(S3Client); });
  after(() => s3mock.restore());
  // the two methods of the SDK's stream mixin the stores use
  const body = (data: string | Uint8Array) => {
    const buf = Buffer.from(data);
    return { transformToString: async () => buf.toString('utf8'), transformToByteArray: async () => new Uint8Array(buf), destroy: () => undefined };
  };

  test('results: text first, then the JSON, under ${prefix}${id}/; read back', async () => {
    s3mock.reset();
    s3mock.on(PutObjectCommand).resolves({});
    const store = new S3ResultStore(new S3Client({ region: 'us-east-1' }), 'docs', 'results/');
    const result = { schemaVersion: '1.0', text: 'hello' } as any;
    const keys = await store.put('doc-1', result);
    assert.deepEqual(keys, { resultKey: 'results/doc-1/result.json', textKey: 'results/doc-1/result.txt' });
    const puts = s3mock.commandCalls(PutObjectCommand).map((c: any) => c.args[0].input);
    assert.deepEqual(puts.map((p: any) => [p.Bucket, p.Key, p.ContentType]), [
      ['docs', 'results/doc-1/result.txt', 'text/plain; charset=utf-8'], ['docs', 'results/doc-1/result.json', 'application/json']]);
    s3mock.on(GetObjectCommand, { Key: 'results/doc-1/result.json' }).resolves({ Body: body(JSON.stringify(result)) as any });
    assert.deepEqual(await store.get('results/doc-1/result.json'), result);
    s3mock.on(GetObjectCommand, { Key: 'results/none/result.json' }).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
    assert.equal(await store.get('results/none/result.json'), undefined);
  });

  test('documents: uploads under the uploads prefix; reads refuse too-large objects before reading; missing → not found', async () => {
    s3mock.reset();
    s3mock.on(PutObjectCommand).resolves({});
    const store = new S3DocumentStore(new S3Client({ region: 'us-east-1' }), 'docs', 'uploads/');
    assert.deepEqual(await store.putUpload('doc-2', '../../My Scan (1).pdf', new Uint8Array([1, 2])), { bucket: 'docs', key: 'uploads/doc-2/My_Scan__1_.pdf' });
    s3mock.on(GetObjectCommand, { Key: 'in/small.pdf' }).resolves({ ContentLength: 3, Body: body('%PD') as any });
    assert.deepEqual([...await store.get('docs', 'in/small.pdf', 10)], [...Buffer.from('%PD')]);
    s3mock.on(GetObjectCommand, { Key: 'in/big.pdf' }).resolves({ ContentLength: 11, Body: body('x'.repeat(11)) as any });
    await assert.rejects(store.get('docs', 'in/big.pdf', 10), DocumentTooLargeError);
    s3mock.on(GetObjectCommand, { Key: 'in/none.pdf' }).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    await assert.rejects(store.get('docs', 'in/none.pdf', 10), DocumentNotFoundError);
    // denied (another account's object, a KMS key the role may not use): no retry helps either
    s3mock.on(GetObjectCommand, { Key: 'in/kms.pdf' }).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await assert.rejects(store.get('docs', 'in/kms.pdf', 10), (err: Error) => err instanceof DocumentUnreadableError && /Access to s3:\/\/docs\/in\/kms\.pdf was denied \(AccessDenied\)/.test(err.message));
    // a throttle or a network failure is neither: the caller hands the document back for a retry
    s3mock.on(GetObjectCommand, { Key: 'in/slow.pdf' }).rejects(Object.assign(new Error('Slow Down'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } }));
    await assert.rejects(store.get('docs', 'in/slow.pdf', 10), (err: Error) => err.name === 'SlowDown');
  });

  test('documents: a size from HeadObject without reading the object; HEAD\'s bodiless 404 and 403 are not found and denied', async () => {
    s3mock.reset();
    const store = new S3DocumentStore(new S3Client({ region: 'us-east-1' }), 'docs', 'uploads/');
    s3mock.on(HeadObjectCommand, { Key: 'in/a.pdf' }).resolves({ ContentLength: 1234 });
    assert.equal(await store.size('docs', 'in/a.pdf'), 1234);
    s3mock.on(HeadObjectCommand, { Key: 'in/none.pdf' }).rejects(Object.assign(new Error('UnknownError'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    await assert.rejects(store.size('docs', 'in/none.pdf'), DocumentNotFoundError);
    s3mock.on(HeadObjectCommand, { Key: 'in/other.pdf' }).rejects(Object.assign(new Error('UnknownError'), { name: 'Forbidden', $metadata: { httpStatusCode: 403 } }));
    await assert.rejects(store.size('docs', 'in/other.pdf'), DocumentUnreadableError);
    assert.equal(s3mock.commandCalls(GetObjectCommand).length, 0);
  });

  test('documents: bucket names and keys S3 would refuse are named as such before anything is submitted', () => {
    const store = new S3DocumentStore(new S3Client({ region: 'us-east-1' }), 'docs', 'uploads/');
    assert.equal(store.locationProblem('my-documents.2026', 'in/a.pdf'), null);
    assert.equal(store.locationProblem('docs', 'k'.repeat(1024)), null);
    for (const bucket of ['My_Bucket', 'ab', 'a'.repeat(64), '-docs', 'docs..x', 'arn:aws:s3:::docs']) {
      assert.match(store.locationProblem(bucket, 'in/a.pdf') ?? '', /is not an S3 bucket name/, bucket);
    }
    assert.match(store.locationProblem('docs', 'é'.repeat(513)) ?? '', /at most 1,024 bytes of UTF-8; this one has 1026/);
  });
});

describe('configuration, ids, options, cache keys', () => {
  test('defaults follow the container contract; local mode needs no AWS', () => {
    const c = parseServiceConfig({});
    assert.equal(c.storage, 'local');
    assert.equal(c.port, 8000);
    assert.equal(c.host, '127.0.0.1');
    assert.equal(c.resultsPrefix, 'results/');
    assert.equal(c.uploadsPrefix, 'uploads/');
    assert.equal(c.requestTimeoutSeconds, 30);
    assert.equal(c.shutdownGraceSeconds, 100);
    assert.equal(c.leaseSeconds, 360);
    assert.equal(c.maxAttempts, 3);
    assert.equal(c.maxDocumentBytes, 50 * 1024 * 1024);
    const aws = parseServiceConfig({ OCR_MODE: 'service', OCR_TABLE_NAME: 't', OCR_DOCUMENTS_BUCKET: 'b', OCR_RESULTS_PREFIX: 'out', OCR_REDIS_HOST: 'cache', OCR_REDIS_PORT: '6380' });
    assert.equal(aws.storage, 'aws');
    assert.equal(aws.host, '0.0.0.0');
    assert.equal(aws.resultsPrefix, 'out/');
    assert.equal(aws.redisUrl, 'rediss://cache:6380');
  });

  test('timings that do not fit the Spot notice are reported', () => {
    assert.deepEqual(parseServiceConfig({}).warnings, []);
    const w = parseServiceConfig({ OCR_SHUTDOWN_GRACE_SECONDS: '150', OCR_REQUEST_TIMEOUT_SECONDS: '200' }).warnings;
    assert.equal(w.length, 2);
    assert.match(w[0], /OCR_SHUTDOWN_GRACE_SECONDS \(150\)/);
    assert.match(w[1], /OCR_REQUEST_TIMEOUT_SECONDS \(200\)/);
  });

  test('bad configuration is refused with the variable named', () => {
    for (const [env, re] of [
      [{ OCR_TABLE_NAME: 't' }, /OCR_DOCUMENTS_BUCKET/], [{ PORT: 'eighty' }, /PORT/], [{ OCR_WORKERS: '0' }, /OCR_WORKERS/],
      [{ OCR_LANGUAGES: 'eng deu' }, /OCR_LANGUAGES/], [{ OCR_REDIS_URL: 'http://x' }, /OCR_REDIS_URL/],
      [{ OCR_ENGINE: 'native' }, /OCR_ENGINE must be one of/],
      [{ OCR_LANGUAGES: 'eng+fra' }, /OCR_LANGUAGES: No language data for 'fra' in this worker: install the npm package @tesseract\.js-data\/fra/],
    ] as const) {
      assert.throws(() => parseServiceConfig(env as any), (e: Error) => e instanceof ServiceConfigError && re.test(e.message));
    }
  });

  test('document ids are checked; statuses normalized; file names made safe', () => {
    assert.equal(checkDocumentId('doc-1:a@b.c_d'), 'doc-1:a@b.c_d');
    for (const bad of ['', '../x', '.hidden', 'a/b', 'x'.repeat(201), 5]) assert.throws(() => checkDocumentId(bad), ServiceError);
    assert.deepEqual(['pending', 'Pending', ' PENDING ', 'succeeded', 'nope', 3].map(normalizeStatus), ['PENDING', 'PENDING', 'PENDING', 'SUCCEEDED', undefined, undefined]);
    assert.equal(safeFileName('C:\\Users\\me\\scan 1.pdf'), 'scan_1.pdf');
    assert.equal(safeFileName('...'), 'document');
  });

  test('request options are validated; the cache key covers hash, engine version, backend, renderer, languages and options', () => {
    assert.deepEqual(parseRequestOptions({ dpi: '200', pages: '1-2', forceOcr: 'true' }, 'eng'), { dpi: 200, pages: '1-2', forceOcr: true });
    assert.throws(() => parseRequestOptions({ languages: 'deu' }, 'eng'), /languages/);
    const h = 'a'.repeat(64);
    const k = cacheKey(h, 'eng', { dpi: 300 });
    assert.ok(k.startsWith(`ocr:1:${h}:${WORKER_VERSION}:tesseract.js:pdf.js:eng:`));
    assert.equal(cacheKey(h, 'eng', { dpi: 300, pages: undefined }), k, 'undefined options do not change the key');
    assert.notEqual(cacheKey(h, 'eng', { dpi: 200 }), k);
    assert.notEqual(cacheKey(h, 'eng+deu', { dpi: 300 }), k);
    assert.equal(cacheKey(h, 'eng', { dpi: 300 }, 'tesseract.js'), k, 'tesseract.js is the default backend');
    assert.notEqual(cacheKey(h, 'eng', { dpi: 300 }, 'tesseract'), k, 'the OCR backend is part of the key');
    assert.equal(cacheKey(h, 'eng', { dpi: 300 }, 'tesseract.js', 'pdf.js'), k, 'pdf.js is the renderer that goes with tesseract.js');
    assert.notEqual(cacheKey(h, 'eng', { dpi: 300 }, 'tesseract.js', 'poppler'), k, 'the PDF renderer is part of the key');
    assert.equal(cacheKey(h, 'eng', { dpi: 300 }, 'tesseract'), cacheKey(h, 'eng', { dpi: 300 }, 'tesseract', 'poppler'), 'poppler goes with tesseract');
    assert.notEqual(cacheKey('b'.repeat(64), 'eng', { dpi: 300 }), k);
  });

  test('the memory cache keeps at most its bound and honours the TTL', async () => {
    const c = new MemoryCache(2);
    const r = { text: 'x' } as any;
    await c.set('a', r, 60);
    await c.set('b', r, 60);
    await c.set('c', r, 60);
    assert.equal(await c.get('a'), undefined);
    assert.deepEqual(await c.get('c'), r);
    await c.set('gone', r, -1);
    assert.equal(await c.get('gone'), undefined);
    assert.deepEqual(validateResult({}).length > 0, true);
  });
});
