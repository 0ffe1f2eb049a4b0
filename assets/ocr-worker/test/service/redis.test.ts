/**
 * The Redis cache against a real redis-server (Debian package), and two service tasks sharing one
 * DynamoDB status table (dynalite) and one cache: the same document twice is answered from the
 * cache whichever task gets it, and one PENDING item handed to both tasks is processed once.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createClient } from 'redis';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { sha256 } from '../../src/index.ts';
import type { App } from '../../src/service/app.ts';
import { DynamoStatusStore } from '../../src/service/aws-stores.ts';
import { RedisCache } from '../../src/service/redis-cache.ts';
import { LocalDocumentStore, LocalResultStore } from '../../src/service/stores.ts';
import { textPdf } from '../../tools/pdfwriter.ts';
import { countingEngine, freePort, getJson, postJson, resultOf, startRedis, startTestApp, upload, waitFinished, type CountingEngine } from './helpers.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite');

let redis: Awaited<ReturnType<typeof startRedis>>;
before(async () => { redis = await startRedis(); });
after(async () => { await redis.stop(); });

describe('RedisCache on a real redis-server', () => {
  test('GIVEN a result WHEN set with a TTL THEN it is read back and expires in Redis', async () => {
    const cache = new RedisCache({ url: redis.url });
    cache.connect();
    const raw = createClient({ url: redis.url });
    await raw.connect();
    try {
      const result = { schemaVersion: '1.0', text: 'cached text', qrCodes: [] } as any;
      // the first command may race the connection: the cache answers "miss" rather than wait
      for (let i = 0; i < 50 && !(await raw.ping()); i++) await new Promise((r) => setTimeout(r, 20));
      let stored = false;
      for (let i = 0; i < 50 && !stored; i++) {
        await cache.set('ocr:test:1', result, 120);
        stored = (await raw.exists('ocr:test:1')) === 1;
        if (!stored) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(stored, 'the entry reached Redis');
      assert.deepEqual(await cache.get('ocr:test:1'), result);
      const ttl = await raw.ttl('ocr:test:1');
      assert.ok(ttl > 100 && ttl <= 120, `ttl ${ttl}`);
      assert.equal(await cache.get('ocr:test:absent'), undefined);
    } finally {
      await raw.quit();
      await cache.close();
    }
  });

  test('GIVEN no Redis at the address WHEN get/set THEN misses and no error escapes', async () => {
    const errors: string[] = [];
    const cache = new RedisCache({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 300, onError: (m) => errors.push(m) });
    cache.connect();
    try {
      assert.equal(await cache.get('k'), undefined);
      await cache.set('k', { text: '' } as any, 10);
      assert.equal(await cache.get('k'), undefined);
      assert.ok(errors.length >= 1, 'the failure is logged');
    } finally {
      await cache.close();
    }
  });
});

describe('two tasks sharing DynamoDB (dynalite) and Redis', () => {
  let dyn: any;
  let ddb: DynamoDBClient;
  let engine: CountingEngine;
  let taskA: App;
  let taskB: App;
  const documents = new LocalDocumentStore();
  const results = new LocalResultStore();

  before(async () => {
    dyn = dynalite({ createTableMs: 0 });
    await new Promise<void>((r) => dyn.listen(0, '127.0.0.1', r));
    ddb = new DynamoDBClient({ endpoint: `http://127.0.0.1:${dyn.address().port}`, region: 'us-east-1', credentials: { accessKeyId: 't', secretAccessKey: 't' } });
    await ddb.send(new CreateTableCommand({
      TableName: 'ocr-status', BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'document_id', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'document_id', AttributeType: 'S' }],
    }));
    engine = countingEngine();
    const task = async (owner: string): Promise<App> => {
      const cache = new RedisCache({ url: redis.url });
      cache.connect();
      return startTestApp({ OCR_WORKERS: '2' }, { engine, owner, cache, documents, results, status: new DynamoStatusStore(ddb, 'ocr-status') });
    };
    taskA = await task('task-a');
    taskB = await task('task-b');
  });
  after(async () => {
    await taskA.stop(0);
    await taskB.stop(0);
    await engine.shutdown();
    ddb.destroy();
    await new Promise((r) => dyn.close(r));
  });

  test('GIVEN a document processed by task A WHEN the same content reaches task B THEN B answers from the Redis cache', async () => {
    const pdf = textPdf([['Shared cache across tasks']]);
    const first = await upload(taskA.url, pdf, 'a.pdf');
    assert.equal(first.status, 202);
    assert.equal((await waitFinished(taskA.url, first.body.document_id)).cache_hit, false);
    // the result is visible from either task (one table)
    assert.equal((await getJson(`${taskB.url}/check-status/${first.body.document_id}`)).body.status, 'SUCCEEDED');
    const second = await upload(taskB.url, pdf, 'b.pdf');
    const s = await waitFinished(taskB.url, second.body.document_id);
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.cache_hit, true);
    assert.equal(engine.calls.get(sha256(pdf)), 1);
    const r = await resultOf(taskB.url, second.body.document_id);
    assert.equal(r.text, 'Shared cache across tasks');
    assert.equal(r.source, 'b.pdf');
  });

  test('GIVEN one PENDING item in DynamoDB WHEN both tasks receive POST /process at once THEN exactly one processes it', async () => {
    const pdf = textPdf([['Exactly one task']]);
    await documents.put('incoming/one.pdf', pdf);
    const status = new DynamoStatusStore(ddb, 'ocr-status');
    await status.create({ document_id: 'shared-1', status: 'pending', bucket: 'local', key: 'incoming/one.pdf', file_type: 'pdf' });
    const record = { record: { document_id: 'shared-1', bucket: 'local', key: 'incoming/one.pdf', status: 'pending', file_type: 'pdf' } };
    const answers = await Promise.all([taskA, taskB, taskA, taskB].map((t) => postJson(`${t.url}/process`, record)));
    const codes = answers.map((a) => a.status);
    assert.equal(codes.filter((c) => c === 202).length, 1, `codes ${codes}`);
    assert.ok(codes.every((c) => c === 202 || c === 409 || c === 200), `codes ${codes}`);
    const s = await waitFinished(taskA.url, 'shared-1');
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.attempts, 1);
    assert.equal(engine.calls.get(sha256(pdf)), 1);
    const item = await status.get('shared-1');
    assert.equal(item?.owner, undefined, 'the claim was released on completion');
    assert.equal(item?.result_key, 'results/shared-1/result.json');
  });

  test('GIVEN Redis goes away WHEN a document arrives THEN it is still processed (cache miss)', async () => {
    await redis.stop();
    const pdf = textPdf([['Cache down, service up']]);
    const r = await upload(taskA.url, pdf, 'c.pdf');
    assert.equal(r.status, 202);
    const s = await waitFinished(taskA.url, r.body.document_id);
    assert.equal(s.status, 'SUCCEEDED');
    assert.equal(s.cache_hit, false);
    redis = await startRedis();
  });
});
