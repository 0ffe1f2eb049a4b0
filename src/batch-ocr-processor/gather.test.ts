/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Gathering of single-document requests: the submit handler queues them with a record each, the
 * gatherer submits a window of them as one job and links each record to its document, and the
 * status handler answers each request with its own document only. AWS clients are
 * aws-sdk-client-mock instances.
 */
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createStatusHandler, createSubmitHandler, deterministicJobId } from './api';
import { createGatherHandler, enqueueDocument, GatherMessage } from './gather';
import { JobRecord, ProcessorConfig, recordStateChange } from './jobs';
import { GATHERING_OWNER } from './request';
import { ALICE, apiEvent, body, MockedClients, mockedClients, OUTPUT_BUCKET, testConfig } from '../../test/helpers/batch-ocr-api';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111111111111/gather';
const MiB = 1024 * 1024;

function withSqs(m: MockedClients) {
  const sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
  return { clients: { ...m.clients, sqs }, sqs: mockClient(sqs) };
}

function gatherConfig(overrides: Partial<ProcessorConfig> = {}): ProcessorConfig {
  return testConfig({ gatherQueueUrl: QUEUE_URL, maxDocumentsPerChild: 1000, ...overrides });
}

const requestId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

function message(n: number, extra: Partial<GatherMessage> = {}, receiveCount = 1) {
  const m: GatherMessage = { version: 1, jobId: requestId(n), key: `uploads/${ALICE}/doc-${n}.pdf`, size: MiB, options: { languages: ['eng'], dpi: 300 }, ...extra };
  return { messageId: `msg-${String(n).padStart(3, '0')}`, body: JSON.stringify(m), attributes: { ApproximateReceiveCount: String(receiveCount) } };
}

const sqsEvent = (records: any[]): SQSEvent => ({ Records: records } as any);

describe('POST /jobs with one document: queued for gathering', () => {
  let m: MockedClients;
  beforeEach(() => {
    m = mockedClients();
    m.s3.on(HeadObjectCommand).resolves({ ContentLength: 2 * MiB });
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'x' });
    m.s3.on(PutObjectCommand).resolves({});
  });

  test('GIVEN gathering WHEN one document is submitted THEN a record of its own (GATHERING, the caller\'s) and a message, no Batch job, 202', async () => {
    const { clients, sqs } = withSqs(m);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'x' });
    const submit = createSubmitHandler({ clients, config: gatherConfig() });
    const result = await submit(apiEvent({ json: { document: 'in/a.pdf', options: { dpi: 200 } } }));
    expect(result.statusCode).toBe(202);
    const reply = body(result);
    expect(reply).toMatchObject({ success: true, documentCount: 1, arraySize: 0 });
    expect(reply.statusUrl).toMatch(new RegExp(`/jobs/${reply.jobId}$`));
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ jobId: reply.jobId, state: 'GATHERING', owner: ALICE, inputKey: 'in/a.pdf', documentCount: 1 });
    const sent = sqs.commandCalls(SendMessageCommand)[0].args[0].input;
    expect(sent.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(sent.MessageBody!)).toEqual({ version: 1, jobId: reply.jobId, key: 'in/a.pdf', size: 2 * MiB, options: { languages: ['eng'], dpi: 200 } });
  });

  test('GIVEN gathering WHEN one document with a password is submitted THEN it is a job of its own: the password never enters the queue', async () => {
    const { clients, sqs } = withSqs(m);
    const submit = createSubmitHandler({ clients, config: gatherConfig() });
    const result = await submit(apiEvent({ json: { document: 'in/a.pdf', options: { password: 'hunter2' } } }));
    expect(result.statusCode).toBe(202);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN gathering WHEN two documents are submitted THEN they are one job at once, not queued', async () => {
    const { clients, sqs } = withSqs(m);
    const submit = createSubmitHandler({ clients, config: gatherConfig() });
    expect((await submit(apiEvent({ json: { documents: ['in/a.pdf', 'in/b.pdf'] } }))).statusCode).toBe(202);
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  test('GIVEN a queue that fails WHEN one document is submitted THEN 500 and the record says SUBMIT_FAILED', async () => {
    const { clients, sqs } = withSqs(m);
    sqs.on(SendMessageCommand).rejects(new Error('queue unavailable'));
    const submit = createSubmitHandler({ clients, config: gatherConfig() });
    const result = await submit(apiEvent({ json: { document: 'in/a.pdf' } }));
    expect(result.statusCode).toBe(500);
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMIT_FAILED', ':from': 'GATHERING' });
    expect(update.ExpressionAttributeValues![':statusReason']).toMatch(/queue unavailable/);
  });

  test('enqueueDocument refuses a password and a construct without gathering', async () => {
    const { clients } = withSqs(m);
    const request = { key: 'a.pdf', options: {}, source: 'api' as const, owner: ALICE, jobId: requestId(1) };
    await expect(enqueueDocument(clients, testConfig(), request)).rejects.toThrow(/gathering is not configured/);
    await expect(enqueueDocument(clients, gatherConfig(), { ...request, options: { password: 'x' } })).rejects.toThrow(/password/);
    expect(m.ddb.commandCalls(PutCommand)).toHaveLength(0);
  });
});

describe('the gatherer: one job per window of queued requests', () => {
  let m: MockedClients;
  let states: Map<string, string>;
  const log = { info: () => undefined, warn: () => undefined };
  const counted: { [name: string]: number } = {};
  const count = (n: string, v: number) => { counted[n] = (counted[n] ?? 0) + v; };
  const deps = (config = gatherConfig()) => ({ clients: m.clients, config, jobIdOf: deterministicJobId, log, count });

  beforeEach(() => {
    m = mockedClients();
    states = new Map(Array.from({ length: 10 }, (_, i) => [requestId(i), 'GATHERING']));
    m.ddb.on(GetCommand).callsFake((input: { Key: { jobId: string } }) => {
      const jobId = input.Key.jobId;
      return { Item: states.has(jobId) ? { jobId, state: states.get(jobId) } : undefined };
    });
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.s3.on(PutObjectCommand).resolves({});
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'x' });
  });

  /** The link updates of the request records, by request id. */
  function links(): Map<string, Record<string, unknown>> {
    return new Map(m.ddb.commandCalls(UpdateCommand)
      .map((c) => c.args[0].input)
      .filter((i) => i.ExpressionAttributeValues?.[':gatheredInto'] !== undefined)
      .map((i) => [i.Key!.jobId as string, i.ExpressionAttributeValues!]));
  }

  test('GIVEN three queued requests WHEN gathered THEN one Batch job for the three, each record points at its document in it', async () => {
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(2), message(0), message(1)]));
    expect(result.batchItemFailures).toEqual([]);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    const sharedJobId = deterministicJobId(['msg-000', 'msg-001', 'msg-002']);
    const submitted = m.batch.commandCalls(SubmitJobCommand)[0].args[0].input;
    expect(submitted.jobName).toBe(`ocr-${sharedJobId}`);
    expect(submitted.arrayProperties).toBeUndefined(); // 3 MiB fit one child: a plain job over the manifest
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.documents.map((d: { key: string }) => d.key)).toEqual([0, 1, 2].map((n) => `uploads/${ALICE}/doc-${n}.pdf`));
    expect(manifest.children).toEqual([{ first: 0, count: 3 }]);
    // The shared job is nobody's: no caller reads it through the API.
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ jobId: sharedJobId, owner: GATHERING_OWNER, source: 'gathered', documentCount: 3 });
    const linked = links();
    expect([...linked.keys()].sort()).toEqual([requestId(0), requestId(1), requestId(2)]);
    for (const n of [0, 1, 2]) expect(linked.get(requestId(n))).toMatchObject({ ':gatheredInto': sharedJobId, ':documentIndex': n, ':childIndex': 0, ':to': 'SUBMITTED', ':from': 'GATHERING' });
    expect(counted.DocumentsSubmitted).toBeGreaterThanOrEqual(3);
    // The shared job lists its requests, for their completion events.
    const listed = m.ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).find((i) => i.ExpressionAttributeValues?.[':linked'] !== undefined)!;
    expect(listed.Key).toEqual({ jobId: sharedJobId });
    expect(listed.UpdateExpression).toBe('SET gatheredRequests = list_append(if_not_exists(gatheredRequests, :none), :linked)');
    expect(listed.ExpressionAttributeValues![':linked']).toEqual([0, 1, 2].map((n) => ({ jobId: requestId(n), documentIndex: n })));
  });

  test('GIVEN large documents WHEN gathered THEN they are packed into an array job and each record names its child', async () => {
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0, { size: 40 * MiB }), message(1, { size: 40 * MiB }), message(2, { size: 10 * MiB })]));
    expect(result.batchItemFailures).toEqual([]);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.arrayProperties).toEqual({ size: 2 });
    const linked = links();
    expect([0, 1, 2].map((n) => linked.get(requestId(n))![':childIndex'])).toEqual([0, 1, 1]);
  });

  test('GIVEN requests with different options WHEN gathered THEN one job per set of options (a manifest has one set)', async () => {
    const gather = createGatherHandler(deps());
    await gather(sqsEvent([message(0), message(1, { options: { languages: ['deu'], dpi: 300 } }), message(2)]));
    const jobs = m.batch.commandCalls(SubmitJobCommand);
    expect(jobs).toHaveLength(2);
    // eng: two documents over a manifest; deu: one document, a plain job given its key
    const manifests = m.s3.commandCalls(PutObjectCommand).map((c) => JSON.parse(c.args[0].input.Body as string));
    expect(manifests.map((x) => [x.documents.length, x.options.languages])).toEqual([[2, 'eng']]);
    const single = jobs.map((c) => c.args[0].input.containerOverrides?.environment ?? []).find((env) => env.some((e) => e.name === 'OCR_INPUT_KEY'))!;
    expect(single).toEqual(expect.arrayContaining([{ name: 'OCR_INPUT_KEY', value: `uploads/${ALICE}/doc-1.pdf` }, { name: 'OCR_LANGUAGES', value: 'deu' }]));
  });

  test('GIVEN a group whose submission fails WHEN gathered THEN only its messages come back, the other group goes on', async () => {
    m.batch.on(SubmitJobCommand).callsFake(async (input: { containerOverrides?: { environment?: { value?: string }[] } }) => {
      if (input.containerOverrides?.environment?.some((e) => e.value === 'deu')) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      return { jobId: 'batch-1', jobName: 'x' };
    });
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0), message(1, { options: { languages: ['deu'], dpi: 300 } }), message(2)]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-001' }]);
    expect([...links().keys()].sort()).toEqual([requestId(0), requestId(2)]);
  });

  test('GIVEN the queue\'s last attempt WHEN the submission fails THEN the request records say SUBMIT_FAILED', async () => {
    m.batch.on(SubmitJobCommand).rejects(new Error('queue disabled'));
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0, {}, 5), message(1, {}, 2)]));
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['msg-000', 'msg-001']);
    const failed = m.ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input).filter((i) => i.ExpressionAttributeValues?.[':to'] === 'SUBMIT_FAILED' && i.ExpressionAttributeValues?.[':from'] === 'GATHERING');
    expect(failed.map((i) => i.Key!.jobId)).toEqual([requestId(0)]);
  });

  test('GIVEN a message that is not a request, a repeated request and one already linked WHEN gathered THEN only the waiting ones are submitted, nothing retried', async () => {
    states.set(requestId(3), 'SUBMITTED');
    const gather = createGatherHandler(deps());
    const repeated = { ...message(1), messageId: 'msg-101' };
    const result = await gather(sqsEvent([{ messageId: 'msg-bad', body: '{"not":"a request"}' }, message(0), message(1), repeated, message(3)]));
    expect(result.batchItemFailures).toEqual([]);
    const manifest = JSON.parse(m.s3.commandCalls(PutObjectCommand)[0].args[0].input.Body as string);
    expect(manifest.documents).toHaveLength(2);
    expect([...links().keys()].sort()).toEqual([requestId(0), requestId(1)]);
  });

  test('GIVEN one record that cannot be linked WHEN gathered THEN only its message comes back; a request linked meanwhile is not retried', async () => {
    m.ddb.on(UpdateCommand).callsFake(async (input: { Key: { jobId: string } }) => {
      if (input.Key.jobId === requestId(1)) throw Object.assign(new Error('Throughput exceeded'), { name: 'ProvisionedThroughputExceededException' });
      if (input.Key.jobId === requestId(2)) throw Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
      return {};
    });
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0), message(1), message(2)]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-001' }]);
  });

  test('GIVEN a redelivered window already submitted WHEN gathered THEN its requests are linked to that job, no second job', async () => {
    m.ddb.on(PutCommand).rejects(Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' }));
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0), message(1)]));
    expect(result.batchItemFailures).toEqual([]);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect([...links().values()].map((v) => v[':gatheredInto'])).toEqual([deterministicJobId(['msg-000', 'msg-001']), deterministicJobId(['msg-000', 'msg-001'])]);
  });

  test('GIVEN a record that cannot be read WHEN gathered THEN only its message comes back', async () => {
    m.ddb.on(GetCommand).callsFake((input: { Key: { jobId: string } }) => {
      if (input.Key.jobId === requestId(1)) throw new Error('Service unavailable');
      return { Item: { jobId: input.Key.jobId, state: 'GATHERING' } };
    });
    const gather = createGatherHandler(deps());
    const result = await gather(sqsEvent([message(0), message(1)]));
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'msg-001' }]);
    expect([...links().keys()]).toEqual([requestId(0)]);
  });
});

describe('GET /jobs/{jobId} of a gathered request: its own document only', () => {
  const sharedJobId = '11111111-2222-4333-8444-555555555555';
  const mine = requestId(7);
  let m: MockedClients;
  const at = '2026-11-23T00:00:00.000Z';
  const request: JobRecord = {
    jobId: mine,
    jobName: `ocr-${mine}`,
    state: 'SUBMITTED',
    documentCount: 1,
    children: 1,
    source: 'api',
    createdAt: at,
    updatedAt: at,
    inputKey: `uploads/${ALICE}/mine.pdf`,
    owner: ALICE,
    gatheredInto: sharedJobId,
    documentIndex: 3,
    childIndex: 1,
  };
  const shared: JobRecord = {
    jobId: sharedJobId,
    jobName: `ocr-${sharedJobId}`,
    state: 'RUNNING',
    documentCount: 5,
    children: 2,
    source: 'gathered',
    createdAt: at,
    updatedAt: '2026-11-23T00:01:00.000Z',
    owner: GATHERING_OWNER,
    childStates: { RUNNING: 1, SUCCEEDED: 1 },
  };
  const summaryKey = `results/${sharedJobId}/summaries/00001.json`;
  const summary = {
    documents: [
      { index: 2, key: 'uploads/BOB/other.pdf', status: 'FAILED', errorCode: 'INVALID_PDF', resultKey: `results/${sharedJobId}/results/00002.json` },
      { index: 3, key: `uploads/${ALICE}/mine.pdf`, status: 'SUCCEEDED', pageCount: 1, resultKey: `results/${sharedJobId}/results/00003.json`, textKey: `results/${sharedJobId}/results/00003.txt` },
    ],
    counts: { succeeded: 1, failed: 1, byErrorCode: { INVALID_PDF: 1 } },
  };

  beforeEach(() => {
    m = mockedClients();
    const records: { [jobId: string]: JobRecord } = { [mine]: request, [sharedJobId]: shared };
    m.ddb.on(GetCommand).callsFake((input: { Key: { jobId: string } }) => ({ Item: records[input.Key.jobId] }));
  });

  test('GIVEN its document has a result WHEN the owner asks THEN SUCCEEDED with that document alone, none of the others', async () => {
    const summaryObject = { Body: { transformToString: async () => JSON.stringify(summary) } } as any;
    m.s3.on(GetObjectCommand, { Bucket: OUTPUT_BUCKET, Key: summaryKey }).resolves(summaryObject);
    const status = createStatusHandler({ clients: m.clients, config: gatherConfig() });
    const result = await status(apiEvent({ httpMethod: 'GET', path: `/jobs/${mine}`, pathParameters: { jobId: mine } }));
    expect(result.statusCode).toBe(200);
    const reply = body(result);
    expect(reply).toMatchObject({ jobId: mine, state: 'SUCCEEDED', documentCount: 1, counts: { succeeded: 1, failed: 0, pending: 0, byErrorCode: {} }, countsComplete: true });
    expect(reply.documents).toHaveLength(1);
    expect(reply.documents[0]).toMatchObject({ index: 0, key: `uploads/${ALICE}/mine.pdf`, status: 'SUCCEEDED', pageCount: 1 });
    expect(reply.documents[0].resultUrl).toContain('results/00003.json');
    expect(result.body).not.toContain('other.pdf');
    expect(result.body).not.toContain('BOB');
    expect(reply.childStates).toBeUndefined();
  });

  test('GIVEN its child has not finished WHEN the owner asks THEN the shared job\'s state and one document pending', async () => {
    m.s3.on(GetObjectCommand).rejects(Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
    const status = createStatusHandler({ clients: m.clients, config: gatherConfig() });
    const reply = body(await status(apiEvent({ httpMethod: 'GET', path: `/jobs/${mine}`, pathParameters: { jobId: mine } })));
    expect(reply).toMatchObject({ state: 'RUNNING', counts: { succeeded: 0, failed: 0, pending: 1 }, documents: [], resultsAvailable: false });
  });

  test('GIVEN another caller WHEN it asks for the request or the shared job THEN 404, as for a job that does not exist', async () => {
    const status = createStatusHandler({ clients: m.clients, config: gatherConfig() });
    const bob = { identity: { caller: 'AIDABOB0000000000000001' } };
    expect((await status(apiEvent({ httpMethod: 'GET', path: `/jobs/${mine}`, pathParameters: { jobId: mine }, requestContext: bob as any }))).statusCode).toBe(404);
    expect((await status(apiEvent({ httpMethod: 'GET', path: `/jobs/${sharedJobId}`, pathParameters: { jobId: sharedJobId } }))).statusCode).toBe(404);
  });
});

describe('a gathered job that finishes: an event for each request', () => {
  test('GIVEN a gathered job WHEN Batch reports it finished THEN one event for the job and one per request with its own document', async () => {
    const m = mockedClients();
    const sharedJobId = '11111111-2222-4333-8444-555555555555';
    const requests = Array.from({ length: 12 }, (_, i) => ({ jobId: requestId(i), documentIndex: i }));
    const summaries: { [key: string]: unknown } = {
      [`results/${sharedJobId}/summaries/00000.json`]: {
        documents: Array.from({ length: 11 }, (_, i) => ({ index: i, key: `d${i}.pdf`, status: i === 4 ? 'FAILED' : 'SUCCEEDED', errorCode: i === 4 ? 'INVALID_PDF' : null, resultKey: `results/${sharedJobId}/results/${String(i).padStart(5, '0')}.json` })),
        counts: { succeeded: 10, failed: 1, byErrorCode: { INVALID_PDF: 1 } },
      },
    };
    m.s3.on(ListObjectsV2Command).resolves({ Contents: Object.keys(summaries).map((Key) => ({ Key })) });
    const objectOf = (key: string) => ({ Body: { transformToString: async () => JSON.stringify(summaries[key]) } });
    m.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => objectOf(input.Key));
    m.ddb.on(UpdateCommand).resolves({ Attributes: { jobId: sharedJobId, state: 'SUCCEEDED', gatheredRequests: requests } });
    m.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const outcome = await recordStateChange(m.clients, gatherConfig(), { jobId: 'batch-9', jobName: `ocr-${sharedJobId}`, status: 'SUCCEEDED' });
    expect(outcome).toBe('updated');
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ReturnValues).toBe('ALL_NEW');
    const calls = m.events.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries!);
    // the job's own event, then 12 request events in calls of at most 10 entries
    expect(calls.map((entries) => entries.length)).toEqual([1, 10, 2]);
    const details = calls.slice(1).flat().map((e) => JSON.parse(e.Detail!));
    expect(details.map((d) => d.jobId)).toEqual(requests.map((r) => r.jobId));
    expect(details[0]).toMatchObject({ state: 'SUCCEEDED', gatheredInto: sharedJobId, counts: { succeeded: 1, failed: 0 }, resultKey: `results/${sharedJobId}/results/00000.json` });
    expect(details[4]).toMatchObject({ state: 'SUCCEEDED', counts: { succeeded: 0, failed: 1, byErrorCode: { INVALID_PDF: 1 } } });
    // no result for the last document: the request did not get one
    expect(details[11]).toMatchObject({ state: 'FAILED', counts: { succeeded: 0, failed: 0 } });
    expect(calls[1][0]).toMatchObject({ DetailType: 'OCR Job Completed', Source: 'cdk-ocr-constructs' });
  });
});

describe('a gathered request that is still waiting', () => {
  test('GIVEN a GATHERING record WHEN the owner asks THEN GATHERING, one document pending', async () => {
    const m = mockedClients();
    const at = '2026-11-23T00:00:00.000Z';
    const jobId = requestId(9);
    m.ddb.on(GetCommand).resolves({ Item: { jobId, jobName: `ocr-${jobId}`, state: 'GATHERING', documentCount: 1, children: 1, source: 'api', createdAt: at, updatedAt: at, owner: ALICE } });
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const status = createStatusHandler({ clients: m.clients, config: gatherConfig() });
    const reply = body(await status(apiEvent({ httpMethod: 'GET', path: `/jobs/${jobId}`, pathParameters: { jobId } })));
    expect(reply).toMatchObject({ state: 'GATHERING', counts: { pending: 1 }, documents: [] });
  });
});
