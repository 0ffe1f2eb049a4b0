/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Handler tests: every route, every bad input, array submission for large lists, idempotent retries.
 * AWS clients are aws-sdk-client-mock instances; idempotency runs Powertools' real DynamoDB
 * persistence layer against an in-memory table.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import Ajv04 from 'ajv-draft-04';
import {
  createS3IngestHandler, createStateChangeHandler, createStatusHandler, createSubmitHandler, createUploadHandler,
  deterministicJobId, HandlerDeps, objectsOf,
} from './api';
import { configFromEnv, type ProcessorConfig } from './jobs';
import { submitRequestSchema, uploadRequestSchema, validateSubmitRequest } from './request';
import {
  ALICE, apiEvent, body, INPUT_BUCKET, inMemoryIdempotencyClient, MockedClients, mockedClients, OUTPUT_BUCKET, testConfig,
} from '../../test/helpers/batch-ocr-api';


// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

/** The part of a GetObject body stream the handlers use. */
function s3Body(text: string) {
  return { transformToString: async () => text };
}

/** Every key exists (HEAD) and is 1 KiB; long lists are listed. */
function allKeysExist(m: MockedClients, keys: string[]): void {
  m.s3.on(HeadObjectCommand).resolves({ ContentLength: 1024 });
  m.s3.on(ListObjectsV2Command).callsFake((input: { Prefix?: string; ContinuationToken?: string }) => {
    const matching = keys.filter((k) => k.startsWith(input.Prefix ?? ''));
    const start = input.ContinuationToken ? Number(input.ContinuationToken) : 0;
    const page = matching.slice(start, start + 1000);
    const more = start + 1000 < matching.length;
    return { Contents: page.map((Key) => ({ Key, Size: 1024 })), IsTruncated: more, NextContinuationToken: more ? String(start + 1000) : undefined };
  });
}

/** The Lambda context Powertools reads the remaining time from (the in-progress expiry of a record). */
const lambdaContext = { getRemainingTimeInMillis: () => 29_000, functionName: 'submit', awsRequestId: 'req-1' } as any;

function submitDeps(m: MockedClients, overrides: Partial<ProcessorConfig> = {}, persistence = true): HandlerDeps {
  const store = inMemoryIdempotencyClient();
  return {
    clients: m.clients,
    config: testConfig(overrides),
    persistence: persistence ? new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: store.client }) : undefined,
  };
}

function keysOf(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `scans/batch-1/doc-${String(i).padStart(5, '0')}.pdf`);
}

describe('POST /jobs (submit handler)', () => {
  let m: MockedClients;
  beforeEach(() => {
    m = mockedClients();
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-job-1', jobName: 'x' });
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.s3.on(PutObjectCommand).resolves({});
  });

  test('GIVEN one document WHEN submitted THEN a plain job by job definition NAME with OCR_INPUT_KEY, record first, 202', async () => {
    allKeysExist(m, ['in/a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'in/a.pdf', options: { languages: ['eng', 'deu'], dpi: 200 } } }));
    expect(result.statusCode).toBe(202);
    const reply = body(result);
    expect(reply).toMatchObject({ success: true, documentCount: 1, arraySize: 0, jobName: `ocr-${reply.jobId}` });
    expect(reply.statusUrl).toBe(`https://abc123.execute-api.us-east-1.amazonaws.com/v1/jobs/${reply.jobId}`);
    expect(result.headers?.Location).toBe(reply.statusUrl);
    const calls = m.batch.commandCalls(SubmitJobCommand);
    expect(calls).toHaveLength(1);
    const input = calls[0].args[0].input;
    expect(input.jobDefinition).toBe('ocr-worker');
    expect(input.jobQueue).toBe(testConfig().jobQueue);
    expect(input.arrayProperties).toBeUndefined();
    expect(input.tags).toBeUndefined(); // tagging would need batch:TagResource on job/*
    expect(input.containerOverrides?.environment).toEqual([
      { name: 'OCR_JOB_ID', value: reply.jobId },
      { name: 'OCR_INPUT_KEY', value: 'in/a.pdf' },
      { name: 'OCR_LANGUAGES', value: 'eng+deu' },
      { name: 'OCR_DPI', value: '200' },
    ]);
    // The record is written before SubmitJob and then marked SUBMITTED.
    const put = m.ddb.commandCalls(PutCommand)[0].args[0].input;
    expect(put.Item).toMatchObject({ jobId: reply.jobId, state: 'SUBMITTING', documentCount: 1, source: 'api' });
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMITTED', ':from': 'SUBMITTING', ':batchJobId': 'batch-job-1' });
    expect(m.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('GIVEN two documents WHEN submitted THEN one array job of size 2 with its list in a manifest', async () => {
    allKeysExist(m, ['a.pdf', 'b.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: ['a.pdf', 'b.pdf'] } }));
    expect(result.statusCode).toBe(202);
    const reply = body(result);
    expect(reply.arraySize).toBe(2);
    const input = m.batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(input.arrayProperties).toEqual({ size: 2 });
    expect(input.containerOverrides?.environment).toEqual([
      { name: 'OCR_JOB_ID', value: reply.jobId },
      { name: 'OCR_MANIFEST_KEY', value: `results/${reply.jobId}/manifest.json` },
    ]);
    const manifestPut = m.s3.commandCalls(PutObjectCommand)[0].args[0].input;
    expect(manifestPut.Bucket).toBe(OUTPUT_BUCKET);
    expect(JSON.parse(manifestPut.Body as string)).toEqual({
      schemaVersion: 1,
      jobId: reply.jobId,
      documents: [{ key: 'a.pdf' }, { key: 'b.pdf' }],
      children: [{ first: 0, count: 1 }, { first: 1, count: 1 }],
      options: { languages: 'eng', dpi: 300, maxPages: null, password: null },
    });
  });

  test('GIVEN options outputs and geometry WHEN one document is submitted THEN they travel in the manifest, which the worker reads them from', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'a.pdf', options: { outputs: ['json', 'pdf', 'hocr'], geometry: false } } }));
    expect(result.statusCode).toBe(202);
    const reply = body(result);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.containerOverrides?.environment).toEqual([
      { name: 'OCR_JOB_ID', value: reply.jobId },
      { name: 'OCR_MANIFEST_KEY', value: `results/${reply.jobId}/manifest.json` },
    ]);
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.options).toEqual({ languages: 'eng', dpi: 300, maxPages: null, password: null, outputs: ['json', 'pdf', 'hocr'], geometry: false });
  });

  test.each([
    ['an unknown format', { outputs: ['json', 'docx'] }, /options.outputs must be a non-empty array out of 'json', 'pdf', 'hocr'/],
    ['no format', { outputs: [] }, /options.outputs must be a non-empty array/],
    ['geometry not a boolean', { geometry: 'no' }, /options.geometry must be true or false/],
  ])('GIVEN %s in options WHEN submitted THEN 400 with the reason, nothing submitted', async (_name, options, reason) => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'a.pdf', options } }));
    expect(result.statusCode).toBe(400);
    expect(body(result).message).toMatch(reason);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  test('GIVEN 10,000 documents WHEN submitted THEN one array job of 10,000 children, checked by listing (no HEAD per key)', async () => {
    const keys = keysOf(10_000);
    allKeysExist(m, keys);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: keys } }));
    expect(result.statusCode).toBe(202);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.arrayProperties).toEqual({ size: 10_000 });
    expect(m.s3.commandCalls(HeadObjectCommand)).toHaveLength(0);
    expect(m.s3.commandCalls(ListObjectsV2Command)).toHaveLength(10);
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.documents).toHaveLength(10_000);
    expect(manifest.children).toHaveLength(10_000);
    expect(manifest.children[9999]).toEqual({ first: 9999, count: 1 });
  });

  test('GIVEN 10,001 documents and the default maxDocumentsPerJob WHEN submitted THEN 400 TOO_MANY_DOCUMENTS and nothing submitted', async () => {
    const keys = keysOf(10_001);
    allKeysExist(m, keys);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: keys } }));
    expect(result.statusCode).toBe(400);
    expect(body(result)).toMatchObject({ success: false, code: 'TOO_MANY_DOCUMENTS', message: 'documents lists 10001 keys; at most 10000 per job' });
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('GIVEN 10,001 documents and maxDocumentsPerJob 20,000 WHEN submitted THEN chunked: 5,001 children of 2 documents', async () => {
    const keys = keysOf(10_001);
    allKeysExist(m, keys);
    const submit = createSubmitHandler(submitDeps(m, { maxDocuments: 20_000 }));
    const result = await submit(apiEvent({ json: { documents: keys } }));
    expect(result.statusCode).toBe(202);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.arrayProperties).toEqual({ size: 5001 });
    const children = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string).children;
    expect(children).toHaveLength(5001);
    expect(children[0]).toEqual({ first: 0, count: 2 });
    expect(children[5000]).toEqual({ first: 10_000, count: 1 });
  });

  test('GIVEN documents of known sizes WHEN submitted with packing THEN children take their share by bytes (HEAD sizes)', async () => {
    const MiB = 1024 * 1024;
    const sizes: { [key: string]: number } = { 'a.pdf': 30 * MiB, 'b.pdf': 30 * MiB, 'c.pdf': 100 * MiB, 'd.pdf': MiB, 'e.pdf': MiB };
    m.s3.on(HeadObjectCommand).callsFake((input: { Key: string }) => ({ ContentLength: sizes[input.Key] }));
    const submit = createSubmitHandler(submitDeps(m, { targetBytesPerChild: 64 * MiB, maxDocumentsPerChild: 1000 }));
    const result = await submit(apiEvent({ json: { documents: Object.keys(sizes) } }));
    expect(result.statusCode).toBe(202);
    expect(body(result).arraySize).toBe(3);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.arrayProperties).toEqual({ size: 3 });
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    // a and b fit 64 MiB; c is larger than the target and runs alone; d and e share the last child
    expect(manifest.children).toEqual([{ first: 0, count: 2 }, { first: 2, count: 1 }, { first: 3, count: 2 }]);
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ documentCount: 5, children: 3 });
  });

  test('GIVEN 500 small documents WHEN submitted with packing THEN one plain job over the manifest, no array (sizes from the listing)', async () => {
    const keys = keysOf(500);
    allKeysExist(m, keys);
    const submit = createSubmitHandler(submitDeps(m, { maxDocumentsPerChild: 1000 }));
    const result = await submit(apiEvent({ json: { documents: keys } }));
    expect(result.statusCode).toBe(202);
    expect(body(result).arraySize).toBe(0);
    const input = m.batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(input.arrayProperties).toBeUndefined();
    expect(input.containerOverrides?.environment?.map((e) => e.name)).toEqual(['OCR_JOB_ID', 'OCR_MANIFEST_KEY']);
    expect(JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string).children).toEqual([{ first: 0, count: 500 }]);
  });

  test('GIVEN S3 events with object sizes WHEN ingested THEN the job is packed by those sizes', async () => {
    const MiB = 1024 * 1024;
    const event = (key: string, size: number, id: string) => ({
      messageId: id,
      body: JSON.stringify({ 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': { bucket: { name: INPUT_BUCKET }, object: { key, size } } }),
    });
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig({ maxDocumentsPerChild: 1000 }) });
    const result = await ingest({ Records: [event('a.pdf', 50 * MiB, 'm1'), event('b.pdf', 50 * MiB, 'm2'), event('c.pdf', MiB, 'm3')] } as any);
    expect(result.batchItemFailures).toEqual([]);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.arrayProperties).toEqual({ size: 2 });
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.children).toEqual([{ first: 0, count: 1 }, { first: 1, count: 2 }]);
  });

  test('GIVEN a password WHEN one document is submitted THEN the password travels in the manifest, never in SubmitJob', async () => {
    allKeysExist(m, ['secret.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'secret.pdf', options: { password: 'hunter2' } } }));
    expect(result.statusCode).toBe(202);
    const input = m.batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(JSON.stringify(input)).not.toContain('hunter2');
    expect(input.arrayProperties).toBeUndefined();
    expect(JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string).options.password).toBe('hunter2');
  });

  test('GIVEN Batch throttles SubmitJob WHEN submitted THEN 503 THROTTLED and the record says SUBMIT_FAILED', async () => {
    allKeysExist(m, ['a.pdf']);
    const throttled = Object.assign(new Error('Too Many Requests'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    m.batch.on(SubmitJobCommand).rejects(throttled);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'a.pdf' } }));
    expect(result.statusCode).toBe(503);
    expect(body(result).code).toBe('THROTTLED');
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMIT_FAILED', ':from': 'SUBMITTING' });
  });

  test('GIVEN an unexpected AWS error WHEN submitted THEN 500 in the same error shape, without internals', async () => {
    allKeysExist(m, ['a.pdf']);
    m.batch.on(SubmitJobCommand).rejects(new Error('ClientException: secret internals'));
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { document: 'a.pdf' } }));
    expect(result.statusCode).toBe(500);
    expect(body(result)).toMatchObject({ success: false, code: 'INTERNAL_ERROR', requestId: 'req-1' });
    expect(result.body).not.toContain('secret internals');
  });

  // ------------------------------------------------------------------ bad input
  const long = 'a'.repeat(1025);
  const badBodies: [string, unknown, number, string, RegExp][] = [
    ['no document field', { options: {} }, 400, 'INVALID_REQUEST', /Give 'document' \(one S3 key\) or 'documents'/],
    ['both document and documents', { document: 'a.pdf', documents: ['b.pdf'] }, 400, 'INVALID_REQUEST', /either 'document' or 'documents', not both/],
    ['document is a number', { document: 42 }, 400, 'INVALID_REQUEST', /^document must be a string$/],
    ['document is empty', { document: '' }, 400, 'INVALID_REQUEST', /^document must not be empty$/],
    ['document is null', { document: null }, 400, 'INVALID_REQUEST', /^document must be a string$/],
    ['documents is a string', { documents: 'a.pdf' }, 400, 'INVALID_REQUEST', /^documents must be an array of S3 keys$/],
    ['documents is empty', { documents: [] }, 400, 'INVALID_REQUEST', /^documents must list at least one key$/],
    ['documents holds a number', { documents: ['a.pdf', 7] }, 400, 'INVALID_REQUEST', /^documents\[1\] must be a string$/],
    ['documents holds an object', { documents: [{ key: 'a.pdf' }] }, 400, 'INVALID_REQUEST', /^documents\[0\] must be a string$/],
    ['duplicate keys', { documents: ['a.pdf', 'a.pdf'] }, 400, 'INVALID_REQUEST', /documents\[1\] repeats the key 'a.pdf'/],
    ['.. segment', { document: 'in/../secret.pdf' }, 400, 'INVALID_REQUEST', /must not contain '\.\.' path segments/],
    ['leading .. segment', { document: '../etc/passwd' }, 400, 'INVALID_REQUEST', /must not contain '\.\.' path segments/],
    ['trailing .. segment', { documents: ['ok.pdf', 'in/..'] }, 400, 'INVALID_REQUEST', /documents\[1\] must not contain '\.\.'/],
    ['absolute path', { document: '/etc/passwd' }, 400, 'INVALID_REQUEST', /must be a relative key, not an absolute path/],
    ['other bucket', { document: 's3://someone-elses-bucket/a.pdf' }, 400, 'INVALID_REQUEST', /is in bucket 'someone-elses-bucket'; only keys of the input bucket/],
    ['s3 URI of the input bucket', { document: `s3://${INPUT_BUCKET}/a.pdf` }, 400, 'INVALID_REQUEST', /must be a key of the input bucket, not an s3:\/\/ URI/],
    ['https URL', { document: 'https://example.com/a.pdf' }, 400, 'INVALID_REQUEST', /not a URL/],
    ['control character', { document: 'a\u0000.pdf' }, 400, 'INVALID_REQUEST', /contains control characters/],
    ['key too long', { document: long }, 400, 'INVALID_REQUEST', /longer than 1024 bytes/],
    ['unknown top-level field', { document: 'a.pdf', priority: 'high' }, 400, 'INVALID_REQUEST', /Unknown field\(s\): priority/],
    ['unknown option', { document: 'a.pdf', options: { engine: 'textract' } }, 400, 'INVALID_REQUEST', /Unknown option\(s\): engine/],
    ['options not an object', { document: 'a.pdf', options: ['eng'] }, 400, 'INVALID_REQUEST', /^options must be an object$/],
    ['languages not an array', { document: 'a.pdf', options: { languages: 'eng' } }, 400, 'INVALID_REQUEST', /options.languages must be a non-empty array/],
    ['languages empty', { document: 'a.pdf', options: { languages: [] } }, 400, 'INVALID_REQUEST', /options.languages must be a non-empty array/],
    ['language code invalid', { document: 'a.pdf', options: { languages: ['../eng'] } }, 400, 'INVALID_REQUEST', /'..\/eng' is not a language code/],
    ['too many languages', { document: 'a.pdf', options: { languages: ['eng', 'deu', 'fra', 'spa', 'ita', 'por'] } }, 400, 'INVALID_REQUEST', /has 6 entries; at most 5/],
    ['dpi a string', { document: 'a.pdf', options: { dpi: '300' } }, 400, 'INVALID_REQUEST', /^options.dpi must be an integer$/],
    ['dpi fractional', { document: 'a.pdf', options: { dpi: 150.5 } }, 400, 'INVALID_REQUEST', /^options.dpi must be an integer$/],
    ['dpi too high', { document: 'a.pdf', options: { dpi: 1200 } }, 400, 'INVALID_REQUEST', /options.dpi must be from 72 to 600, got 1200/],
    ['maxPages zero', { document: 'a.pdf', options: { maxPages: 0 } }, 400, 'INVALID_REQUEST', /options.maxPages must be from 1 to 10000, got 0/],
    ['password empty', { document: 'a.pdf', options: { password: '' } }, 400, 'INVALID_REQUEST', /options.password must be a non-empty string/],
    ['password a number', { document: 'a.pdf', options: { password: 1234 } }, 400, 'INVALID_REQUEST', /options.password must be a non-empty string/],
    ['too many documents', { documents: ['a', 'b', 'c', 'd'] }, 400, 'TOO_MANY_DOCUMENTS', /documents lists 4 keys; at most 3 per job/],
  ];

  describe('the API Gateway request model (JSON schema draft-04, checked with ajv-draft-04)', () => {
    const ajv = new Ajv04({ allErrors: true });
    const validate = ajv.compile(submitRequestSchema(3));
    test.each(badBodies)('GIVEN %s WHEN validated by the request model THEN rejected', (_name, json) => {
      expect(validate(json)).toBe(false);
    });
    test.each([
      [{ document: 'in/a.pdf' }],
      [{ documents: ['a.pdf', 'dir/b c.pdf', 'x..y.pdf'], options: { languages: ['eng', 'chi_sim'], dpi: 300, maxPages: 10, password: 'p' } }],
    ])('GIVEN the valid body %j WHEN validated by the request model and the handler THEN both accept it', (json) => {
      expect(validate(json)).toBe(true);
      expect(() => validateSubmitRequest(json as any, INPUT_BUCKET, 3, {})).not.toThrow();
    });
    test('GIVEN the upload schema WHEN validated THEN it rejects what the handler rejects', () => {
      const upload = ajv.compile(uploadRequestSchema());
      expect(upload({ key: 'a.pdf', contentType: 'application/pdf' })).toBe(true);
      for (const bad of [{ key: '../x.pdf' }, { key: '/x.pdf' }, { key: 'x.pdf', contentType: 'pdf' }, { key: 'x.pdf', acl: 'public-read' }, {}]) {
        expect(upload(bad)).toBe(false);
      }
    });
  });

  test.each(badBodies)('GIVEN %s WHEN submitted THEN a 4xx with its reason and no SubmitJob', async (_name, json, status, code, message) => {
    allKeysExist(m, ['a.pdf', 'b.pdf']);
    const submit = createSubmitHandler(submitDeps(m, { maxDocuments: 3 }));
    const result = await submit(apiEvent({ json }));
    expect(result.statusCode).toBe(status);
    expect(body(result)).toMatchObject({ success: false, code, requestId: 'req-1' });
    expect(body(result).message).toMatch(message);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  test('GIVEN the worker image\'s languages (bundled image) WHEN a request asks for another THEN 400 with the reason and nothing submitted; its own languages pass', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m, { availableLanguages: ['eng'] }));
    const refused = await submit(apiEvent({ json: { document: 'a.pdf', options: { languages: ['eng', 'deu'] } } }));
    expect(refused.statusCode).toBe(400);
    expect(body(refused)).toMatchObject({ success: false, code: 'INVALID_REQUEST' });
    expect(body(refused).message).toMatch(/options.languages: the worker image has no language data for 'deu' \(it has: eng\)/);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect((await submit(apiEvent({ json: { document: 'a.pdf', options: { languages: ['eng'] } } }))).statusCode).toBe(202);
  });

  const badRequests: [string, Partial<Parameters<typeof apiEvent>[0]>, number, string, RegExp][] = [
    ['a missing body', { body: null }, 400, 'EMPTY_BODY', /^Request body is missing$/],
    ['an empty body', { body: '' }, 400, 'EMPTY_BODY', /^Request body is missing$/],
    ['an empty JSON object', { body: '{}' }, 400, 'EMPTY_BODY', /^Request body is an empty object$/],
    ['invalid JSON', { body: '{"document": "a.pdf"' }, 400, 'INVALID_JSON', /^Request body is not valid JSON$/],
    ['a JSON array', { body: '["a.pdf"]' }, 400, 'INVALID_REQUEST', /^Request body must be a JSON object$/],
    ['a JSON string', { body: '"a.pdf"' }, 400, 'INVALID_REQUEST', /^Request body must be a JSON object$/],
    ['an oversized body', { body: JSON.stringify({ document: 'a.pdf', pad: 'x'.repeat(2 * 1024 * 1024) }) }, 413, 'BODY_TOO_LARGE', /^Request body is \d+ bytes; the limit is 2097152$/],
    ['no Content-Type', { headers: {}, body: '{"document":"a.pdf"}' }, 415, 'UNSUPPORTED_MEDIA_TYPE', /^Content-Type must be application\/json$/],
    ['a text/plain Content-Type', { headers: { 'content-type': 'text/plain' }, body: '{"document":"a.pdf"}' }, 415, 'UNSUPPORTED_MEDIA_TYPE', /got 'text\/plain'/],
    ['a form Content-Type', { headers: { 'CONTENT-TYPE': 'application/x-www-form-urlencoded' }, body: 'document=a.pdf' }, 415, 'UNSUPPORTED_MEDIA_TYPE', /got 'application\/x-www-form-urlencoded'/],
    ['a malformed Idempotency-Key', { headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'short' }, body: '{"document":"a.pdf"}' }, 400, 'INVALID_IDEMPOTENCY_KEY', /Idempotency-Key must be 8 to 128/],
  ];

  test.each(badRequests)('GIVEN %s WHEN submitted THEN a 4xx with its reason and no SubmitJob', async (_name, event, status, code, message) => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent(event));
    expect(result.statusCode).toBe(status);
    expect(body(result)).toMatchObject({ success: false, code });
    expect(body(result).message).toMatch(message);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  test('GIVEN a base64-encoded JSON body WHEN submitted THEN it is decoded and accepted', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ body: Buffer.from('{"document":"a.pdf"}').toString('base64'), isBase64Encoded: true }));
    expect(result.statusCode).toBe(202);
  });

  test('GIVEN a key that does not exist WHEN submitted THEN 400 DOCUMENT_NOT_FOUND naming it, and nothing submitted', async () => {
    m.s3.on(HeadObjectCommand, { Key: 'a.pdf' }).resolves({ ContentLength: 10 });
    m.s3.on(HeadObjectCommand, { Key: 'missing.pdf' }).rejects(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } }));
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: ['a.pdf', 'missing.pdf'] } }));
    expect(result.statusCode).toBe(400);
    expect(body(result)).toMatchObject({ code: 'DOCUMENT_NOT_FOUND', message: "1 document(s) not found in the input bucket: 'missing.pdf'" });
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('GIVEN a long list with a missing key WHEN submitted THEN the listing finds it and nothing is submitted', async () => {
    const keys = keysOf(500);
    allKeysExist(m, keys.slice(1));
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: keys } }));
    expect(result.statusCode).toBe(400);
    expect(body(result).message).toBe(`1 document(s) not found in the input bucket: '${keys[0]}'`);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  test('GIVEN an oversized or empty object WHEN submitted THEN 400 DOCUMENT_REJECTED and nothing submitted', async () => {
    m.s3.on(HeadObjectCommand, { Key: 'big.pdf' }).resolves({ ContentLength: 200 * 1024 * 1024 });
    m.s3.on(HeadObjectCommand, { Key: 'empty.pdf' }).resolves({ ContentLength: 0 });
    const submit = createSubmitHandler(submitDeps(m));
    const result = await submit(apiEvent({ json: { documents: ['big.pdf', 'empty.pdf'] } }));
    expect(result.statusCode).toBe(400);
    expect(body(result).code).toBe('DOCUMENT_REJECTED');
    expect(body(result).message).toMatch(/'big.pdf' is 209715200 bytes; the limit is 104857600/);
    expect(body(result).message).toMatch(/'empty.pdf' is empty/);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  // ------------------------------------------------------------------ idempotency
  test('GIVEN the same Idempotency-Key (any letter case) and body WHEN retried THEN the original job is returned and SubmitJob ran once', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const first = await submit(apiEvent({ headers: { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0001-abcdef' }, json: { document: 'a.pdf' } }), lambdaContext);
    const retry = await submit(apiEvent({ headers: { 'content-type': 'application/json', 'IDEMPOTENCY-KEY': 'key-0001-abcdef' }, json: { document: 'a.pdf' } }), lambdaContext);
    expect(first.statusCode).toBe(202);
    expect(retry.statusCode).toBe(202);
    expect(body(retry).jobId).toBe(body(first).jobId);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN a SubmitJob that timed out but was accepted WHEN the client retries with its Idempotency-Key THEN the same job id is looked up and no second job starts', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0003-abcdef' };
    m.batch.on(SubmitJobCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    const first = await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    expect(first.statusCode).toBeGreaterThanOrEqual(500);
    const firstRecord = m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item).find((i) => i?.state === 'SUBMITTING');
    // Batch did create the job: the retry finds it by name.
    m.ddb.on(PutCommand).resolves({ Attributes: { ...firstRecord, state: 'SUBMIT_FAILED' } });
    m.batch.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: 'batch-1', jobName: firstRecord!.jobName, status: 'RUNNABLE' }] });
    const retry = await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    expect(retry.statusCode).toBe(202);
    expect(body(retry).jobId).toBe(firstRecord!.jobId);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN the same Idempotency-Key from another caller WHEN submitted THEN it is a different request (keys are scoped per caller)', async () => {
    allKeysExist(m, ['a.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0001-abcdef' };
    const alice = await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    const bobEvent = apiEvent({ headers, json: { document: 'a.pdf' } });
    bobEvent.requestContext.identity = { ...bobEvent.requestContext.identity, userArn: 'arn:aws:iam::111111111111:user/bob', caller: 'AIDABOB0000000000001' };
    const bob = await submit(bobEvent, lambdaContext);
    expect(body(bob).jobId).not.toBe(body(alice).jobId);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(2);
  });

  test('GIVEN the same Idempotency-Key with a different body WHEN submitted THEN 422 and nothing submitted again', async () => {
    allKeysExist(m, ['a.pdf', 'b.pdf']);
    const submit = createSubmitHandler(submitDeps(m));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0002-abcdef' };
    await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    const second = await submit(apiEvent({ headers, json: { document: 'b.pdf' } }), lambdaContext);
    expect(second.statusCode).toBe(422);
    expect(body(second)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', message: 'This Idempotency-Key was used with a different request body' });
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN a request still in flight WHEN the same Idempotency-Key arrives THEN 409, and the first completes with 202', async () => {
    allKeysExist(m, ['a.pdf']);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let submitted!: () => void;
    const submittedSignal = new Promise<void>((resolve) => { submitted = resolve; });
    m.batch.on(SubmitJobCommand).callsFake(async () => {
      submitted();
      await gate;
      return { jobId: 'batch-job-1', jobName: 'x' };
    });
    const submit = createSubmitHandler(submitDeps(m));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0003-abcdef' };
    const first = submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    await submittedSignal;
    const second = await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), lambdaContext);
    expect(second.statusCode).toBe(409);
    expect(body(second).code).toBe('REQUEST_IN_PROGRESS');
    release();
    expect((await first).statusCode).toBe(202);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN a request that failed validation WHEN retried with the same key after fixing the data THEN it is processed (errors are not cached)', async () => {
    m.s3.on(HeadObjectCommand).rejectsOnce(Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } })).resolves({ ContentLength: 5 });
    const submit = createSubmitHandler(submitDeps(m));
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'key-0004-abcdef' };
    expect((await submit(apiEvent({ headers, json: { document: 'late.pdf' } }), lambdaContext)).statusCode).toBe(400);
    expect((await submit(apiEvent({ headers, json: { document: 'late.pdf' } }), lambdaContext)).statusCode).toBe(202);
  });
});

describe('GET /jobs/{jobId} (status handler)', () => {
  const jobId = '0b0e7c1e-1111-4222-8333-444455556666';
  let m: MockedClients;
  const record = {
    jobId,
    jobName: `ocr-${jobId}`,
    state: 'SUCCEEDED',
    documentCount: 3,
    children: 2,
    source: 'api',
    owner: ALICE,
    createdAt: '2026-11-23T00:00:00.000Z',
    updatedAt: '2026-11-23T00:05:00.000Z',
    stoppedAt: '2026-11-23T00:05:00.000Z',
  };
  const summary0 = {
    schemaVersion: 1,
    jobId,
    arrayIndex: 0,
    documents: [
      {
        index: 0,
        key: 'a.pdf',
        status: 'SUCCEEDED',
        errorCode: null,
        resultKey: `results/${jobId}/results/00000.json`,
        textKey: `results/${jobId}/results/00000.txt`,
        pageCount: 2,
        outputKeys: { pdf: `results/${jobId}/results/00000.pdf`, textract: `results/${jobId}/results/00000.textract.json` },
      },
      { index: 1, key: 'bad.pdf', status: 'FAILED', errorCode: 'INVALID_PDF', resultKey: `results/${jobId}/results/00001.json`, pageCount: 0, outputKeys: {}, outputErrors: { pdf: 'OUTPUT_FAILED' } },
    ],
    counts: { succeeded: 1, failed: 1, byErrorCode: { INVALID_PDF: 1 } },
  };
  const summary1 = {
    schemaVersion: 1,
    jobId,
    arrayIndex: 1,
    documents: [{ index: 2, key: 'locked.pdf', status: 'FAILED', errorCode: 'PASSWORD_REQUIRED', resultKey: `results/${jobId}/results/00002.json`, pageCount: 0 }],
    counts: { succeeded: 0, failed: 1, byErrorCode: { PASSWORD_REQUIRED: 1 } },
  };
  beforeEach(() => {
    m = mockedClients();
  });

  test('GIVEN a SUCCEEDED Batch job with a bad document WHEN read THEN state SUCCEEDED with that document FAILED by error code, from our record and results only', async () => {
    m.ddb.on(GetCommand).resolves({ Item: record });
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `results/${jobId}/summaries/00001.json` }, { Key: `results/${jobId}/summaries/00000.json` }] });
    m.s3.on(GetObjectCommand, { Key: `results/${jobId}/summaries/00000.json` }).resolves({ Body: s3Body(JSON.stringify(summary0)) as any });
    m.s3.on(GetObjectCommand, { Key: `results/${jobId}/summaries/00001.json` }).resolves({ Body: s3Body(JSON.stringify(summary1)) as any });
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const result = await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null }));
    expect(result.statusCode).toBe(200);
    const reply = body(result);
    expect(reply).toMatchObject({
      success: true,
      jobId,
      state: 'SUCCEEDED',
      documentCount: 3,
      resultsAvailable: true,
      summariesRead: 2,
      counts: { succeeded: 1, failed: 2, pending: 0, byErrorCode: { INVALID_PDF: 1, PASSWORD_REQUIRED: 1 } },
    });
    expect(reply.documents.map((d: any) => [d.key, d.status, d.errorCode])).toEqual([
      ['a.pdf', 'SUCCEEDED', null], ['bad.pdf', 'FAILED', 'INVALID_PDF'], ['locked.pdf', 'FAILED', 'PASSWORD_REQUIRED'],
    ]);
    expect(reply.documents[0].resultUrl).toMatch(new RegExp(`^https://${OUTPUT_BUCKET}\\.s3\\.us-east-1\\.amazonaws\\.com/results/${jobId}/results/00000\\.json\\?.*X-Amz-Expires=900`));
    expect(reply.documents[0].textUrl).toContain('00000.txt');
    // every output the worker wrote for the document (options.outputs), pre-signed like its result
    expect(reply.documents[0].outputUrls.pdf).toMatch(new RegExp(`^https://${OUTPUT_BUCKET}\\.s3\\.us-east-1\\.amazonaws\\.com/results/${jobId}/results/00000\\.pdf\\?.*X-Amz-Expires=900`));
    expect(reply.documents[0].outputUrls.textract).toMatch(new RegExp(`/results/${jobId}/results/00000\\.textract\\.json\\?.*X-Amz-Expires=900`));
    expect(reply.documents[1].outputUrls).toEqual({});
    // and every output asked for and not written, with its error code
    expect(reply.documents[0].outputErrors).toBeUndefined();
    expect(reply.documents[1].outputErrors).toEqual({ pdf: 'OUTPUT_FAILED' });
    // Never Batch's job status or history: no Batch call at all, and nothing written.
    expect(m.batch.calls()).toHaveLength(0);
    expect(m.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(m.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('GIVEN a finished 10,000-child job with stored counts WHEN read THEN counts come from the record and only the first summaries are read', async () => {
    const counts = { succeeded: 9_990, failed: 10, byErrorCode: { INVALID_PDF: 10 } };
    m.ddb.on(GetCommand).resolves({ Item: { ...record, documentCount: 10_000, children: 10_000, counts } });
    const keys = Array.from({ length: 10_000 }, (_, i) => `results/${jobId}/summaries/${String(i).padStart(5, '0')}.json`);
    m.s3.on(ListObjectsV2Command).callsFake((input: { ContinuationToken?: string }) => {
      const start = Number(input.ContinuationToken ?? 0);
      const more = start + 1000 < keys.length;
      const Contents = keys.slice(start, start + 1000).map((Key) => ({ Key }));
      return { Contents, IsTruncated: more, NextContinuationToken: more ? String(start + 1000) : undefined };
    });
    m.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const index = Number(input.Key.slice(-10, -5));
      return { Body: s3Body(JSON.stringify({ documents: [{ index, key: `d${index}.pdf`, status: 'SUCCEEDED', resultKey: `r${index}.json` }], counts: { succeeded: 1, failed: 0 } })) };
    });
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const reply = body(await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null })));
    expect(reply.counts).toEqual({ ...counts, pending: 0 });
    expect(reply.countsComplete).toBe(true);
    expect(reply.documents).toHaveLength(100);
    expect(reply.documentsTruncated).toBe(true);
    expect(m.s3.commandCalls(GetObjectCommand)).toHaveLength(100);
  });

  test('GIVEN a running job with more summaries than one request reads WHEN read THEN partial counts say so', async () => {
    m.ddb.on(GetCommand).resolves({ Item: { ...record, state: 'RUNNING', documentCount: 600 } });
    const keys = Array.from({ length: 600 }, (_, i) => `results/${jobId}/summaries/${String(i).padStart(5, '0')}.json`);
    m.s3.on(ListObjectsV2Command).resolves({ Contents: keys.map((Key) => ({ Key })) });
    m.s3.on(GetObjectCommand).resolves({ Body: s3Body(JSON.stringify({ documents: [], counts: { succeeded: 1, failed: 0 } })) as any });
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const reply = body(await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null })));
    expect(reply).toMatchObject({ state: 'RUNNING', countsComplete: false, summariesRead: 500, counts: { succeeded: 500, pending: 100 } });
  });

  test('GIVEN a running job with no summaries yet WHEN read THEN all documents are pending', async () => {
    m.ddb.on(GetCommand).resolves({ Item: { ...record, state: 'RUNNING' } });
    m.s3.on(ListObjectsV2Command).resolves({});
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const reply = body(await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null })));
    expect(reply).toMatchObject({ state: 'RUNNING', counts: { succeeded: 0, failed: 0, pending: 3 }, resultsAvailable: false, documents: [] });
  });

  test('GIVEN an unknown job WHEN read THEN 404', async () => {
    m.ddb.on(GetCommand).resolves({});
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const result = await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null }));
    expect(result.statusCode).toBe(404);
    expect(body(result)).toMatchObject({ code: 'JOB_NOT_FOUND' });
  });

  test.each([['not-a-uuid'], ['../../etc'], ['']])('GIVEN jobId %p WHEN read THEN 400 INVALID_JOB_ID and no lookup', async (bad) => {
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const result = await status(apiEvent({ httpMethod: 'GET', pathParameters: { jobId: bad }, body: null }));
    expect(result.statusCode).toBe(400);
    expect(body(result)).toMatchObject({ code: 'INVALID_JOB_ID', message: 'jobId must be the UUID returned by POST /jobs' });
    expect(m.ddb.calls()).toHaveLength(0);
  });
});

describe('POST /uploads (upload handler)', () => {
  test('GIVEN a key WHEN asked THEN a pre-signed PUT URL under the upload prefix', async () => {
    const m = mockedClients();
    const upload = createUploadHandler({ clients: m.clients, config: testConfig() });
    const result = await upload(apiEvent({ path: '/uploads', json: { key: 'scan 1.pdf', contentType: 'application/pdf' } }));
    expect(result.statusCode).toBe(200);
    const reply = body(result);
    expect(reply).toMatchObject({ success: true, key: `uploads/${ALICE}/scan 1.pdf`, method: 'PUT', contentType: 'application/pdf', expiresIn: 900 });
    expect(reply.uploadUrl).toMatch(new RegExp(`^https://${INPUT_BUCKET}\\.s3\\.us-east-1\\.amazonaws\\.com/uploads/${ALICE}/scan%201\\.pdf\\?`));
  });

  test.each([
    ['a .. key', { key: '../x.pdf' }, /must not contain '\.\.'/],
    ['an absolute key', { key: '/x.pdf' }, /absolute path/],
    ['a bad content type', { key: 'x.pdf', contentType: 'pdf' }, /contentType must be a media type/],
    ['an unknown field', { key: 'x.pdf', acl: 'public-read' }, /Unknown field\(s\): acl/],
  ])('GIVEN %s WHEN asked THEN 400', async (_n, json, message) => {
    const m = mockedClients();
    const upload = createUploadHandler({ clients: m.clients, config: testConfig() });
    const result = await upload(apiEvent({ path: '/uploads', json }));
    expect(result.statusCode).toBe(400);
    expect(body(result).message).toMatch(message);
  });
});

describe('Batch Job State Change (state handler)', () => {
  const jobId = '0b0e7c1e-1111-4222-8333-444455556666';
  test('GIVEN a parent job SUCCEEDED WHEN recorded THEN the record moves to SUCCEEDED and a completion event goes to the default bus', async () => {
    const m = mockedClients();
    m.ddb.on(UpdateCommand).resolves({});
    m.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `results/${jobId}/summaries/00000.json` }, { Key: `results/${jobId}/summaries/00001.json` }] });
    m.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
      Body: s3Body(JSON.stringify({ counts: input.Key.endsWith('00000.json') ? { succeeded: 2, failed: 0, byErrorCode: {} } : { succeeded: 0, failed: 1, byErrorCode: { TIMEOUT: 1 } } })),
    }));
    const handler = createStateChangeHandler({ clients: m.clients, config: testConfig() });
    const outcome = await handler({ detail: { jobId: 'batch-1', jobName: `ocr-${jobId}`, status: 'SUCCEEDED', stoppedAt: 1_795_000_000_000, arrayProperties: { size: 2 } } });
    expect(outcome).toBe('updated');
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.Key).toEqual({ jobId });
    // The final state and the added-up counts are written together.
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':state': 'SUCCEEDED', ':batchJobId': 'batch-1', ':counts': { succeeded: 2, failed: 1, byErrorCode: { TIMEOUT: 1 } },
    });
    expect(update.ConditionExpression).toMatch(/^attribute_exists\(jobId\) AND #state IN/);
    const entry = m.events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0];
    expect(entry).toMatchObject({ Source: 'cdk-ocr-constructs', DetailType: 'OCR Job Completed', EventBusName: 'default' });
    expect(JSON.parse(entry.Detail!)).toMatchObject({
      jobId, state: 'SUCCEEDED', resultsBucket: OUTPUT_BUCKET, resultsPrefix: `results/${jobId}/`, counts: { succeeded: 2, failed: 1 },
    });
  });

  test('GIVEN a late RUNNABLE after SUCCEEDED WHEN recorded THEN the condition keeps SUCCEEDED and no event is sent', async () => {
    const m = mockedClients();
    m.ddb.on(UpdateCommand).rejects(Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' }));
    const handler = createStateChangeHandler({ clients: m.clients, config: testConfig() });
    expect(await handler({ detail: { jobId: 'batch-1', jobName: `ocr-${jobId}`, status: 'RUNNABLE' } })).toBe('ignored');
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(Object.values(update.ExpressionAttributeValues!)).not.toContain('SUCCEEDED');
    expect(m.events.calls()).toHaveLength(0);
  });

  test('GIVEN a job that is not ours WHEN recorded THEN ignored', async () => {
    const m = mockedClients();
    const handler = createStateChangeHandler({ clients: m.clients, config: testConfig() });
    expect(await handler({ detail: { jobId: 'x', jobName: 'someone-else', status: 'FAILED' } })).toBe('ignored');
    expect(m.ddb.calls()).toHaveLength(0);
  });
});

describe('S3 trigger (ingest handler)', () => {
  const eb = (key: string, size = 100, bucket = INPUT_BUCKET) => ({
    'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': { bucket: { name: bucket }, object: { key, size } },
  });
  const sqsEvent = (bodies: unknown[]) => ({
    Records: bodies.map((b, i) => ({ messageId: `m-${i}`, body: JSON.stringify(b) })),
  }) as any;
  /** Clients on which the ingest handler's writes and its one job submission succeed. */
  const ingestClients = () => {
    const m = mockedClients();
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.s3.on(PutObjectCommand).resolves({});
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'b-1', jobName: 'x' });
    return m;
  };

  test('GIVEN a batch of new objects WHEN ingested THEN one array job for the valid ones; invalid ones are skipped, not retried', async () => {
    const m = ingestClients();
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig() });
    const result = await ingest(sqsEvent([eb('in/a.pdf'), eb('in/b.pdf'), eb('in/empty.pdf', 0), eb('in/huge.pdf', 500 * 1024 * 1024), eb('x.pdf', 10, 'other-bucket'), 'not json']));
    expect(result.batchItemFailures).toEqual([]);
    const calls = m.batch.commandCalls(SubmitJobCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.arrayProperties).toEqual({ size: 2 });
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.documents).toEqual([{ key: 'in/a.pdf' }, { key: 'in/b.pdf' }]);
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ source: 's3', jobId: deterministicJobId(['m-0', 'm-1', 'm-2', 'm-3', 'm-4', 'm-5']) });
  });

  test('GIVEN s3Trigger outputs and geometry WHEN ingested THEN the job asks the worker for them, through the manifest', async () => {
    const m = ingestClients();
    // the environment the construct gives the S3 ingest handler for s3Trigger { outputs, geometry }
    const fromEnv = configFromEnv({ OCR_INPUT_BUCKET: INPUT_BUCKET, OCR_OUTPUT_BUCKET: 'out', JOB_TABLE_NAME: 'jobs', INGEST_OUTPUTS: '["json","pdf","hocr"]', INGEST_GEOMETRY: 'false' });
    expect(fromEnv.defaultOptions.outputs).toBeUndefined();
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig({ ingestOptions: fromEnv.ingestOptions }) });
    await ingest(sqsEvent([eb('in/a.pdf')]));
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.documents).toEqual([{ key: 'in/a.pdf' }]);
    expect(manifest.options).toMatchObject({ outputs: ['json', 'pdf', 'hocr'], geometry: false, languages: 'eng', dpi: 300 });
  });

  test('GIVEN Batch throttles WHEN ingested THEN the whole batch goes back to the queue', async () => {
    const m = mockedClients();
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(SubmitJobCommand).rejects(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } }));
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig() });
    const result = await ingest(sqsEvent([eb('a.pdf'), eb('b.pdf')]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }, { itemIdentifier: 'm-1' }]);
  });

  test('GIVEN a redelivered batch already submitted WHEN ingested THEN nothing is submitted again', async () => {
    const m = mockedClients();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).rejects(Object.assign(new Error('exists'), { name: 'ConditionalCheckFailedException' }));
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig() });
    const result = await ingest(sqsEvent([eb('a.pdf')]));
    expect(result.batchItemFailures).toEqual([]);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
  });

  test('GIVEN the two event formats WHEN parsed THEN EventBridge keys are kept and S3 notification keys are URL-decoded', () => {
    expect(objectsOf(eb('in/a b.pdf'))).toEqual([{ bucket: INPUT_BUCKET, key: 'in/a b.pdf', size: 100 }]);
    expect(objectsOf({ Records: [{ s3: { bucket: { name: INPUT_BUCKET }, object: { key: 'in/a+b%2B.pdf', size: 5 } } }] }))
      .toEqual([{ bucket: INPUT_BUCKET, key: 'in/a b+.pdf', size: 5 }]);
  });
});
