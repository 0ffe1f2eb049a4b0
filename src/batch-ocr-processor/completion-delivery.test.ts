/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * A finished job's completion deliveries at least once: its `OCR Job Completed` event, the events of
 * the requests gathered into it and Textract's completion (pages, then SNS message). A delivery that
 * fails fails the invocation; the retried event delivers what is still owed and nothing else again.
 * The job table and buckets are the in-memory stand-ins of the Textract tests (conditional writes as
 * DynamoDB evaluates them); EventBridge and SNS are aws-sdk-client-mock clients that record what
 * they accepted.
 */
import { PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createStateChangeHandler } from './api';
import { CompletionDeliveryError, jobNameOf } from './jobs';
import { mockedClients, MockedClients, OUTPUT_BUCKET, testConfig } from '../../test/helpers/batch-ocr-api';
import { DOC, inMemoryAws, TEXTRACT_FIXTURE } from '../../test/helpers/textract-api';
import { workerSummaryKey } from '../common/worker-contract';

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:textract-done';
const PARTNER_BUCKET = 'partner-results';
const SHARED = '11111111-2222-4333-8444-555555555555';
/** Three requests gathered into SHARED; the third asked for Textract's completion (message and pages). */
const REQUESTS = ['aaaaaaaa-0000-4000-8000-000000000001', 'aaaaaaaa-0000-4000-8000-000000000002', 'aaaaaaaa-0000-4000-8000-000000000003'];
const textractKey = `results/${SHARED}/results/00002.textract.json`;

describe('completion deliveries: at least once, each one not redone once it went out', () => {
  let m: MockedClients;
  let aws: ReturnType<typeof inMemoryAws>;
  let sns: AwsClientStub<SNSClient>;
  let snsClient: SNSClient;
  /** The events EventBridge accepted, and the messages SNS accepted. */
  let accepted: PutEventsRequestEntry[];
  let published: string[];
  let counted: string[];
  const warnings: unknown[][] = [];
  const log = { info: () => undefined, warn: (...args: unknown[]) => { warnings.push(args); }, error: () => undefined };
  const config = testConfig({ textractNotificationTopics: [TOPIC], textractOutputBuckets: [PARTNER_BUCKET] });

  /** Batch's final event for the shared job, handled by the job state handler (a retry is the same event again). */
  const jobFinished = (status = 'SUCCEEDED') => createStateChangeHandler({
    clients: { ...m.clients, sns: snsClient }, config, log, metrics: { count: (name) => { counted.push(name); } },
  })({ detail: { jobId: 'batch-9', jobName: jobNameOf(SHARED), status, stoppedAt: Date.now() } });

  /**
   * EventBridge accepts every entry, except those `refuse` answers an error code for; a call with an
   * entry `fail` picks fails as a whole (the SDK throws).
   */
  function eventBridge(
    refuse: (entry: PutEventsRequestEntry) => string | undefined = () => undefined,
    fail: (entry: PutEventsRequestEntry) => boolean = () => false,
  ) {
    m.events.on(PutEventsCommand).callsFake(async (input: { Entries: PutEventsRequestEntry[] }) => {
      if (input.Entries.some(fail)) throw Object.assign(new Error('Internal error'), { name: 'InternalException', $metadata: { httpStatusCode: 500 } });
      const results = input.Entries.map((entry) => {
        const code = refuse(entry);
        if (code) return { ErrorCode: code, ErrorMessage: 'refused' };
        accepted.push(entry);
        return { EventId: `event-${accepted.length}` };
      });
      return { FailedEntryCount: results.filter((r) => r.ErrorCode).length, Entries: results };
    });
  }
  /** How many accepted events announce each job: the shared job, then each request. */
  const eventsPerJob = () => [SHARED, ...REQUESTS].map((id) => accepted.filter((e) => JSON.parse(e.Detail!).jobId === id).length);
  const pageKey = `${PARTNER_BUCKET}/textract_output/${REQUESTS[2]}/1`;
  /** The job ids of the entries of each PutEvents call after the first `n` calls. */
  const putCallsSince = (n: number) => m.events.commandCalls(PutEventsCommand).slice(n)
    .map((c) => c.args[0].input.Entries!.map((e) => JSON.parse(e.Detail!).jobId));

  beforeEach(() => {
    m = mockedClients();
    aws = inMemoryAws(m);
    accepted = [];
    published = [];
    counted = [];
    warnings.length = 0;
    snsClient = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
    sns = mockClient(snsClient);
    sns.on(PublishCommand).callsFake(async (input: { Message: string }) => { published.push(input.Message); return { MessageId: `sns-${published.length}` }; });
    eventBridge();
    const at = '2026-11-23T00:00:00.000Z';
    aws.table.set(SHARED, {
      jobId: SHARED,
      jobName: jobNameOf(SHARED),
      state: 'RUNNING',
      documentCount: 3,
      children: 1,
      source: 'gathered',
      createdAt: at,
      updatedAt: at,
      gatheredRequests: REQUESTS.map((jobId, documentIndex) => ({ jobId, documentIndex, ...(documentIndex === 2 ? { deliver: true } : {}) })),
    });
    REQUESTS.forEach((jobId, documentIndex) => aws.table.set(jobId, {
      jobId,
      jobName: jobNameOf(jobId),
      state: 'SUBMITTED',
      documentCount: 1,
      children: 1,
      source: 'api',
      createdAt: at,
      updatedAt: at,
      gatheredInto: SHARED,
      documentIndex,
      childIndex: 0,
      inputKey: DOC,
      ...(documentIndex === 2 ? {
        textract: { document: { S3Bucket: 'in', S3ObjectName: DOC }, notificationChannel: { SNSTopicArn: TOPIC, RoleArn: 'arn:aws:iam::111111111111:role/r' }, outputConfig: { S3Bucket: PARTNER_BUCKET } },
      } : {}),
    }));
    aws.objects.set(`${OUTPUT_BUCKET}/${textractKey}`, TEXTRACT_FIXTURE);
    aws.objects.set(`${OUTPUT_BUCKET}/${workerSummaryKey('results/', SHARED, 0)}`, JSON.stringify({
      counts: { succeeded: 3, failed: 0 },
      documents: REQUESTS.map((_, index) => ({
        index, key: DOC, status: 'SUCCEEDED', resultKey: `results/${SHARED}/results/0000${index}.json`, ...(index === 2 ? { outputKeys: { textract: textractKey } } : {}),
      })),
    }));
  });

  test('GIVEN every delivery succeeds WHEN the job finishes THEN each goes out once and nothing is owed; a duplicate event delivers nothing again', async () => {
    expect(await jobFinished()).toBe('updated');
    expect(eventsPerJob()).toEqual([1, 1, 1, 1]);
    expect(published).toHaveLength(1);
    expect(aws.objects.has(pageKey)).toBe(true);
    expect(aws.table.get(SHARED)).toMatchObject({ state: 'SUCCEEDED', completionEventAt: expect.any(String) });
    expect(aws.table.get(SHARED).deliveriesPending).toBeUndefined();
    expect(REQUESTS.map((id) => aws.table.get(id).announcedAt)).toEqual([expect.any(String), expect.any(String), expect.any(String)]);
    const calls = {
      events: m.events.commandCalls(PutEventsCommand).length,
      sns: sns.commandCalls(PublishCommand).length,
      s3: m.s3.commandCalls(PutObjectCommand).length,
    };

    // EventBridge delivers at least once: the same event again.
    expect(await jobFinished()).toBe('ignored');
    expect(m.events.commandCalls(PutEventsCommand)).toHaveLength(calls.events);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(calls.sns);
    expect(m.s3.commandCalls(PutObjectCommand)).toHaveLength(calls.s3);
    expect(counted).toEqual(['JobsSucceeded']);
    expect(warnings).toEqual([]);
  });

  test('GIVEN PutEvents fails once for the job\'s own event WHEN the job finishes THEN the handler throws after the other deliveries; the retry puts that event once more and nothing else twice', async () => {
    let failed = false;
    eventBridge(undefined, (entry) => {
      if (JSON.parse(entry.Detail!).jobId !== SHARED || failed) return false;
      failed = true;
      return true;
    });
    const first = await jobFinished().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(CompletionDeliveryError);
    expect((first as Error).message).toMatch(new RegExp(`completion event of ${SHARED}: Internal error`));
    // The state is recorded, and the job counted, whatever the deliveries did.
    expect(aws.table.get(SHARED)).toMatchObject({ state: 'SUCCEEDED', deliveriesPending: true });
    expect(aws.table.get(SHARED).completionEventAt).toBeUndefined();
    expect(counted).toEqual(['JobsSucceeded']);
    // The other deliveries were made all the same.
    expect(eventsPerJob()).toEqual([0, 1, 1, 1]);
    expect(published).toHaveLength(1);
    expect(aws.objects.has(pageKey)).toBe(true);
    const putsBefore = m.events.commandCalls(PutEventsCommand).length;

    expect(await jobFinished()).toBe('delivered');
    expect(eventsPerJob()).toEqual([1, 1, 1, 1]);
    // One PutEvents call, of the one event still owed.
    const retried = putCallsSince(putsBefore);
    expect(retried).toEqual([[SHARED]]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(aws.table.get(SHARED).deliveriesPending).toBeUndefined();
    // Counted on the transition only, not on the retry that delivered.
    expect(counted).toEqual(['JobsSucceeded']);

    expect(await jobFinished()).toBe('ignored');
    expect(eventsPerJob()).toEqual([1, 1, 1, 1]);
  });

  test('GIVEN EventBridge refuses one request\'s event of three WHEN the job finishes THEN the retry announces only that request', async () => {
    let refused = false;
    eventBridge((entry) => {
      if (JSON.parse(entry.Detail!).jobId !== REQUESTS[1] || refused) return undefined;
      refused = true;
      return 'ThrottlingException';
    });
    await expect(jobFinished()).rejects.toThrow(new RegExp(`event of request ${REQUESTS[1]}: ThrottlingException`));
    expect(eventsPerJob()).toEqual([1, 1, 0, 1]);
    expect(REQUESTS.map((id) => aws.table.get(id).announcedAt !== undefined)).toEqual([true, false, true]);
    const putsBefore = m.events.commandCalls(PutEventsCommand).length;

    expect(await jobFinished()).toBe('delivered');
    const retried = putCallsSince(putsBefore);
    expect(retried).toEqual([[REQUESTS[1]]]);
    expect(eventsPerJob()).toEqual([1, 1, 1, 1]);
    expect(JSON.parse(accepted.find((e) => JSON.parse(e.Detail!).jobId === REQUESTS[1])!.Detail!)).toMatchObject({
      state: 'SUCCEEDED', gatheredInto: SHARED, resultKey: `results/${SHARED}/results/00001.json`,
    });
    expect(published).toHaveLength(1);
    expect(counted).toEqual(['JobsSucceeded']);
  });

  test('GIVEN SNS fails once WHEN the job finishes THEN the retry publishes the message once, the pages written before it, and the record is marked delivered only then', async () => {
    let failed = false;
    sns.on(PublishCommand).callsFake(async (input: { Message: string }) => {
      if (!failed) {
        failed = true;
        throw Object.assign(new Error('Service Unavailable'), { name: 'InternalErrorException', $metadata: { httpStatusCode: 500 } });
      }
      expect(aws.objects.has(pageKey)).toBe(true);
      published.push(input.Message);
      return { MessageId: 'sns-1' };
    });
    await expect(jobFinished()).rejects.toThrow(new RegExp(`Textract completion of ${REQUESTS[2]}`));
    expect(aws.objects.has(pageKey)).toBe(true);
    expect(aws.table.get(REQUESTS[2]).textractDeliveredAt).toBeUndefined();
    expect(warnings).toEqual([
      ['Could not deliver a Textract completion', expect.objectContaining({ jobId: REQUESTS[2], reason: 'Service Unavailable' })],
    ]);

    expect(await jobFinished()).toBe('delivered');
    expect(published.map((message) => JSON.parse(message))).toEqual([expect.objectContaining({ JobId: REQUESTS[2], Status: 'SUCCEEDED' })]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(aws.table.get(REQUESTS[2]).textractDeliveredAt).toEqual(expect.any(String));
    expect(JSON.parse(aws.objects.get(pageKey)!).JobStatus).toBe('SUCCEEDED');
    expect(eventsPerJob()).toEqual([1, 1, 1, 1]);
    expect(counted).toEqual(['JobsSucceeded']);

    expect(await jobFinished()).toBe('ignored');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
  });

  test('GIVEN a final record that owes nothing WHEN an event with the other final state arrives THEN it is ignored and the state kept', async () => {
    expect(await jobFinished()).toBe('updated');
    expect(await jobFinished('FAILED')).toBe('ignored');
    expect(aws.table.get(SHARED).state).toBe('SUCCEEDED');
    expect(counted).toEqual(['JobsSucceeded']);
  });
});
