/**
 * The hand-off contract with OcrServiceCluster's stream trigger, driven with its recorded stream
 * events: each record becomes the `POST /process` body the trigger sends (document_id from the new
 * image or the keys, bucket, key, status PENDING, file_type) against the running service, whose
 * status store holds the item as the stream saw it. At-least-once delivery is answered idempotently.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { App } from '../../src/service/app.ts';
import { DocumentNotFoundError, DocumentUnreadableError, LocalResultStore, LocalStatusStore, type DocumentStore } from '../../src/service/stores.ts';
import { textPdf } from '../../tools/pdfwriter.ts';
import { TEST_DIR } from '../helpers/common.ts';
import { countingEngine, getJson, postJson, resultOf, startTestApp, waitFinished, waitStatus, type CountingEngine } from './helpers.ts';

const events = JSON.parse(readFileSync(join(TEST_DIR, 'service', 'fixtures', 'stream-events.json'), 'utf8'));

/** DynamoDB JSON → plain values (the attribute types stream images of the status table use). */
function unmarshall(image: Record<string, any>): Record<string, any> {
  const value = (a: any): any => ('S' in a ? a.S : 'N' in a ? Number(a.N) : 'BOOL' in a ? a.BOOL : 'NULL' in a ? null
    : 'L' in a ? a.L.map(value) : 'M' in a ? unmarshall(a.M) : 'SS' in a ? a.SS : undefined);
  return Object.fromEntries(Object.entries(image).map(([k, a]) => [k, value(a)]));
}

/** Any bucket/key, as the task role may read any object of the documents bucket. */
class MapDocumentStore implements DocumentStore {
  readonly uploadBucket = 'documents-bucket';
  readonly objects = new Map<string, Uint8Array>();
  uploadLocation(id: string, name: string) { return { bucket: this.uploadBucket, key: `uploads/${id}/${name}` }; }
  async putUpload(id: string, name: string, bytes: Uint8Array) { const w = this.uploadLocation(id, name); this.objects.set(`${w.bucket}/${w.key}`, bytes); return w; }
  async get(bucket: string, key: string) {
    if (key.startsWith('unavailable/')) throw Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' });
    if (key.startsWith('denied/')) throw new DocumentUnreadableError(`Access to s3://${bucket}/${key} was denied (AccessDenied).`);
    const b = this.objects.get(`${bucket}/${key}`);
    if (!b) throw new DocumentNotFoundError(`No object s3://${bucket}/${key}.`);
    return b;
  }
  async size(bucket: string, key: string) { return (await this.get(bucket, key)).length; }
  locationProblem() { return null; }
}

/** The body the stream trigger builds for a record (stream-trigger.lambda.ts, processRequestOf). */
function processBody(record: any): any {
  const image = record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : {};
  const keys = unmarshall(record.dynamodb.Keys);
  return { record: { document_id: image.document_id ?? keys.document_id, bucket: image.bucket, key: image.key, status: 'PENDING', file_type: image.file_type } };
}

/** What the event source mapping's filter passes: INSERT PENDING (any spelling), MODIFY PROCESSING → PENDING. */
function passesFilter(record: any): boolean {
  const n = record.dynamodb.NewImage?.status?.S;
  const o = record.dynamodb.OldImage?.status?.S;
  const pending = ['PENDING', 'pending', 'Pending'];
  return (record.eventName === 'INSERT' && pending.includes(n)) || (record.eventName === 'MODIFY' && o === 'PROCESSING' && pending.includes(n));
}

let engine: CountingEngine;
let app: App;
const status = new LocalStatusStore();
const documents = new MapDocumentStore();

before(async () => {
  engine = countingEngine();
  app = await startTestApp({ OCR_WORKERS: '2' }, { engine, status, documents, results: new LocalResultStore() });
});
after(async () => {
  await app.stop(0);
  await engine.shutdown();
});

test('GIVEN every recorded stream event WHEN replayed as the trigger would THEN filtered records are processed once and redeliveries are idempotent', async () => {
  const seen = new Map<string, { event: string; code: number }>();
  for (const [name, event] of Object.entries<any>(events)) {
    for (const record of event.Records ?? []) {
      const image = record.dynamodb.NewImage ? unmarshall(record.dynamodb.NewImage) : undefined;
      const body = processBody(record);
      const id = body.record.document_id;
      // the table holds the item as the stream saw it (its new image), with a document at its key
      if (image && !(await status.get(id))) {
        await status.create(image as any);
        documents.objects.set(`${image.bucket}/${image.key}`, textPdf([[`Stream document ${id}`]]));
      }
      if (!image) {
        // REMOVE: the trigger's filter never passes it, and the trigger sends nothing without a new image
        assert.equal(passesFilter(record), false, name);
        continue;
      }
      const r = await postJson(`${app.url}/process`, body);
      const current = image.status.toUpperCase();
      // the service decides by the item, not by the event: a PENDING item is claimed, whatever delivered it
      if (!seen.has(id) && current === 'PENDING') {
        assert.equal(r.status, 202, `${name}: ${JSON.stringify(r.body)}`);
        const s = await waitFinished(app.url, id);
        assert.equal(s.status, 'SUCCEEDED', name);
        assert.equal((await resultOf(app.url, id)).text, `Stream document ${id}`);
      } else if (!seen.has(id) && current === 'PROCESSING') {
        assert.equal(r.status, 409, `${name}: a document claimed elsewhere is not taken over`);
      } else {
        assert.equal(r.status, seen.has(id) ? r.status : 200, name);
        assert.ok([200, 409].includes(r.status), `${name}: ${r.status}`);
      }
      seen.set(id, { event: name, code: r.status });
      // the stream delivers at least once: the same record again is answered without new work
      const again = await postJson(`${app.url}/process`, body);
      assert.ok([200, 409].includes(again.status), `${name} redelivered: ${again.status}`);
    }
  }
  const processed = [...seen.values()].filter((v) => v.code === 202).length;
  assert.ok(processed >= 5, `processed ${processed}`);
  assert.equal(engine.total(), processed, 'one engine run per handed-off document, none twice');
});

test('GIVEN an object the task may not read WHEN named by POST /extract THEN it ends FAILED with INPUT_UNREADABLE at once, without a retry or an engine run', async () => {
  const before = engine.total();
  const r = await postJson(`${app.url}/extract`, { bucket: 'documents-bucket', key: 'denied/contract.pdf', document_id: 'denied-1' });
  assert.equal(r.status, 202);
  const s = await waitFinished(app.url, 'denied-1');
  assert.deepEqual([s.status, s.error.code, s.attempts], ['FAILED', 'INPUT_UNREADABLE', 1]);
  assert.match((await resultOf(app.url, 'denied-1')).error.message, /Access to s3:\/\/documents-bucket\/denied\/contract\.pdf was denied/);
  assert.equal(engine.total(), before, 'the engine never saw it');
});

test('GIVEN a storage failure that persists WHEN the stream hands the document back again and again THEN the attempts run out: FAILED TOO_MANY_ATTEMPTS with the last error', async () => {
  const before = engine.total();
  const pending = (id: string): Promise<any> => waitStatus(app.url, id, ['PENDING'], 10_000);
  const r = await postJson(`${app.url}/extract`, { bucket: 'documents-bucket', key: 'unavailable/scan.pdf', document_id: 'unavailable-1' });
  assert.equal(r.status, 202);
  // what the stream trigger does on each MODIFY to PENDING: hand the record to a task again
  const record = { document_id: 'unavailable-1', bucket: 'documents-bucket', key: 'unavailable/scan.pdf', status: 'PENDING' };
  assert.equal((await pending('unavailable-1')).attempts, 1, 'the failed attempt counts');
  for (const attempt of [2, 3]) {
    assert.equal((await postJson(`${app.url}/process`, { record })).status, 202);
    assert.equal((await pending('unavailable-1')).attempts, attempt);
  }
  const last = await postJson(`${app.url}/process`, { record });
  assert.equal(last.status, 422);
  assert.equal(last.body.error, 'TOO_MANY_ATTEMPTS');
  const s = (await getJson(`${app.url}/check-status/unavailable-1`)).body;
  assert.equal(s.status, 'FAILED');
  assert.deepEqual(s.error, { code: 'TOO_MANY_ATTEMPTS', message: 'Claimed 3 times without finishing; last error: Service Unavailable.' });
  assert.equal(engine.total(), before, 'the engine never saw it');
});
