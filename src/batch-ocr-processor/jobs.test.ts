/**
 * Job submission at most once per request, repair of records whose job Batch did accept, and an
 * array job's progress from its children. AWS clients are aws-sdk-client-mock instances.
 */
import { BatchClient, DescribeJobsCommand, ListJobsCommand, SubmitJobCommand } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CHILD_PROGRESS_INTERVAL_MS, configFromEnv, getJobStatus, JobRecord, jobNameOf, recordStateChange, stateOfChildren, submitJob, transitionJob,
} from './jobs';

const QUEUE = 'arn:aws:batch:us-east-1:111111111111:job-queue/ocr';
const config = configFromEnv({
  OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', JOB_TABLE_NAME: 'jobs', JOB_QUEUE: QUEUE, JOB_DEFINITION_NAME: 'ocr-worker',
});
const jobId = '0b0e7c1e-1111-4222-8333-444455556666';
const jobName = jobNameOf(jobId);

function mocked() {
  const options = { region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } };
  const clients = {
    s3: new S3Client(options),
    batch: new BatchClient(options),
    ddb: DynamoDBDocumentClient.from(new DynamoDBClient(options), { marshallOptions: { removeUndefinedValues: true } }),
    events: new EventBridgeClient(options),
  };
  return { clients, s3: mockClient(clients.s3), batch: mockClient(clients.batch), ddb: mockClient(clients.ddb), events: mockClient(clients.events) };
}

const conditionFailed = () => Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });

/** A record as submitJob writes it, in the given state. */
function record(state: JobRecord['state'], extra: Partial<JobRecord> = {}): JobRecord {
  const at = '2026-11-23T00:00:00.000Z';
  return { jobId, jobName, state, documentCount: 4, children: 4, source: 's3', createdAt: at, updatedAt: at, ...extra };
}

describe('submitJob: at most one Batch job per request', () => {
  const request = { documents: ['a.pdf', 'b.pdf'], options: {} };

  test('GIVEN a new job id WHEN submitted THEN SubmitJob runs once, without looking anything up', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName });
    await submitJob(m.clients, config, request, { source: 's3', jobId });
    expect(m.batch.commandCalls(ListJobsCommand)).toHaveLength(0);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMITTED', ':from': 'SUBMITTING', ':batchJobId': 'batch-1' });
  });

  test('GIVEN a SubmitJob that timed out WHEN submitted THEN it is not retried and the record says SUBMIT_FAILED', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(SubmitJobCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    await expect(submitJob(m.clients, config, request, { source: 's3', jobId })).rejects.toThrow('socket hang up');
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMIT_FAILED', ':from': 'SUBMITTING', ':statusReason': 'socket hang up' });
  });

  test('GIVEN a SUBMIT_FAILED record whose job Batch did create WHEN submitted again THEN the job is found by name and not submitted twice', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).resolves({ Attributes: record('SUBMIT_FAILED') });
    m.ddb.on(UpdateCommand).resolves({});
    // The JOB_NAME filter is a case-insensitive (and prefix, with '*') match: only the exact name counts.
    m.batch.on(ListJobsCommand).resolvesOnce({ jobSummaryList: [{ jobId: 'other', jobName: jobName.toUpperCase(), status: 'RUNNING' }], nextToken: 't' })
      .resolvesOnce({ jobSummaryList: [{ jobId: 'batch-1', jobName, status: 'RUNNABLE' }] });
    const result = await submitJob(m.clients, config, request, { source: 's3', jobId });
    expect(result.jobId).toBe(jobId);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    const lookups = m.batch.commandCalls(ListJobsCommand).map((c) => c.args[0].input);
    expect(lookups[0]).toEqual({ jobQueue: QUEUE, filters: [{ name: 'JOB_NAME', values: [jobName] }], nextToken: undefined });
    expect(lookups[1].nextToken).toBe('t');
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.ReturnValues).toBe('ALL_OLD');
    const [submitted, found] = m.ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.ExpressionAttributeValues);
    expect(submitted).toMatchObject({ ':to': 'SUBMITTED', ':from': 'SUBMITTING', ':batchJobId': 'batch-1' });
    // Then the state the job is in now, as its state-change event would have recorded it.
    expect(found).toMatchObject({ ':state': 'RUNNABLE', ':batchJobId': 'batch-1' });
  });

  test('GIVEN a SUBMIT_FAILED record whose job has finished unrecorded WHEN submitted again THEN the record gets the final state and counts, and the completion event goes out', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    m.ddb.on(PutCommand).resolves({ Attributes: record('SUBMIT_FAILED') });
    m.ddb.on(UpdateCommand).resolves({});
    m.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    m.batch.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: 'batch-1', jobName, status: 'SUCCEEDED', stoppedAt: 1_795_000_000_000 }] });
    await submitJob(m.clients, config, request, { source: 's3', jobId });
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(UpdateCommand)[1].args[0].input.ExpressionAttributeValues).toMatchObject({ ':state': 'SUCCEEDED', ':counts': { succeeded: 0, failed: 0 } });
    expect(JSON.parse(m.events.commandCalls(PutEventsCommand)[0].args[0].input.Entries![0].Detail!)).toMatchObject({ jobId, state: 'SUCCEEDED', batchJobId: 'batch-1' });
  });

  test('GIVEN a SUBMIT_FAILED record whose job Batch never created WHEN submitted again THEN it is submitted once', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).resolves({ Attributes: record('SUBMIT_FAILED') });
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-2', jobName });
    await submitJob(m.clients, config, request, { source: 's3', jobId });
    expect(m.batch.commandCalls(ListJobsCommand)).toHaveLength(1);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    expect(m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.jobName).toBe(jobName);
  });

  test('GIVEN the lookup fails WHEN submitted again THEN nothing is submitted and the record stays SUBMIT_FAILED', async () => {
    const m = mocked();
    m.s3.on(PutObjectCommand).resolves({});
    m.ddb.on(PutCommand).resolves({ Attributes: record('SUBMIT_FAILED') });
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(ListJobsCommand).rejects(Object.assign(new Error('Too Many Requests'), { name: 'ClientException', $metadata: { httpStatusCode: 429 } }));
    await expect(submitJob(m.clients, config, request, { source: 's3', jobId })).rejects.toMatchObject({ statusCode: 503, code: 'THROTTLED' });
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(0);
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':to': 'SUBMIT_FAILED', ':from': 'SUBMITTING' });
  });
});

describe('transitionJob: a state change only from the state it starts in', () => {
  test('GIVEN the record in `from` WHEN transitioned THEN one conditional update sets the state, updatedAt and the attributes, and says it moved', async () => {
    const m = mocked();
    m.ddb.on(UpdateCommand).resolves({});
    expect(await transitionJob(m.clients, config, jobId, { from: 'GATHERING', to: 'SUBMITTED', set: { gatheredInto: 'shared', documentIndex: 3 } })).toBe(true);
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update).toMatchObject({
      TableName: 'jobs',
      Key: { jobId },
      UpdateExpression: 'SET #state = :to, updatedAt = :now, #gatheredInto = :gatheredInto, #documentIndex = :documentIndex',
      ConditionExpression: '#state = :from',
      ExpressionAttributeNames: { '#state': 'state', '#gatheredInto': 'gatheredInto', '#documentIndex': 'documentIndex' },
      ExpressionAttributeValues: { ':from': 'GATHERING', ':to': 'SUBMITTED', ':gatheredInto': 'shared', ':documentIndex': 3 },
    });
    expect(Date.parse(update.ExpressionAttributeValues![':now'] as string)).not.toBeNaN();
  });

  test('GIVEN another writer moved the record first WHEN transitioned THEN false and no error; any other failure is thrown', async () => {
    const m = mocked();
    m.ddb.on(UpdateCommand).rejectsOnce(conditionFailed()).rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    expect(await transitionJob(m.clients, config, jobId, { from: 'SUBMITTING', to: 'SUBMITTED' })).toBe(false);
    await expect(transitionJob(m.clients, config, jobId, { from: 'SUBMITTING', to: 'SUBMITTED' })).rejects.toThrow('throttled');
  });

  test('GIVEN an attribute the transition itself owns, or not a plain name WHEN transitioned THEN refused before any write', async () => {
    const m = mocked();
    for (const set of [{ state: 'FAILED' }, { updatedAt: 'x' }, { 'a.b': 1 }]) {
      await expect(transitionJob(m.clients, config, jobId, { from: 'GATHERING', to: 'SUBMITTED', set })).rejects.toThrow(/is not an attribute a transition sets/);
    }
    expect(m.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('recordStateChange: a record whose job exists is repaired', () => {
  test.each(['RUNNABLE', 'SUCCEEDED'])('GIVEN a SUBMIT_FAILED record WHEN its job reports %s THEN the record takes the state and the Batch job id, and loses the submit error', async (status) => {
    const m = mocked();
    m.ddb.on(UpdateCommand).resolves({});
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    m.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    expect(await recordStateChange(m.clients, config, { jobId: 'batch-1', jobName, status })).toBe('updated');
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':state': status, ':batchJobId': 'batch-1' });
    expect(Object.entries(update.ExpressionAttributeValues!).filter(([k]) => k.startsWith(':from')).map(([, v]) => v)).toContain('SUBMIT_FAILED');
    expect(update.UpdateExpression).toMatch(/REMOVE statusReason$/);
  });

  test('GIVEN a SUBMITTING record (the submitter has not written the Batch job id yet) WHEN its job reports PENDING THEN it is updated', async () => {
    const m = mocked();
    m.ddb.on(UpdateCommand).resolves({});
    expect(await recordStateChange(m.clients, config, { jobId: 'batch-1', jobName, status: 'PENDING' })).toBe('updated');
    const values = m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues!;
    expect(Object.entries(values).filter(([k]) => k.startsWith(':from')).map(([, v]) => v)).toEqual(['SUBMITTING', 'SUBMITTED', 'SUBMIT_FAILED']);
  });

  test('GIVEN a state Batch does not have WHEN recorded THEN ignored without a write', async () => {
    const m = mocked();
    expect(await recordStateChange(m.clients, config, { jobId: 'batch-1', jobName, status: 'SUBMIT_FAILED' })).toBe('ignored');
    expect(m.ddb.calls()).toHaveLength(0);
  });
});

describe('array jobs: progress from the children', () => {
  const child = (status: string) => ({ jobId: 'batch-1:3', jobName, status, arrayProperties: { index: 3 } });

  test.each([
    [{ PENDING: 4 }, 'PENDING'],
    [{ RUNNABLE: 3, PENDING: 1 }, 'RUNNABLE'],
    [{ STARTING: 1, RUNNABLE: 3 }, 'STARTING'],
    [{ RUNNING: 1, RUNNABLE: 3 }, 'RUNNING'],
    [{ SUCCEEDED: 2, RUNNABLE: 2 }, 'RUNNING'],
  ])('GIVEN children %j THEN the job has reached %s', (children, state) => {
    expect(stateOfChildren(children)).toBe(state);
  });

  test('GIVEN a PENDING parent whose children run WHEN a child event arrives THEN the record shows RUNNING and the per-state counts, read from the parent in one call', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('PENDING', { batchJobId: 'batch-1' }) });
    m.ddb.on(UpdateCommand).resolves({});
    const summary = { SUBMITTED: 0, PENDING: 0, RUNNABLE: 2, STARTING: 0, RUNNING: 1, SUCCEEDED: 1, FAILED: 0 };
    m.batch.on(DescribeJobsCommand).resolves({ jobs: [{ jobId: 'batch-1', jobName, jobQueue: QUEUE, jobDefinition: 'd', status: 'PENDING', startedAt: undefined, arrayProperties: { size: 4, statusSummary: summary } } as any] });
    expect(await recordStateChange(m.clients, config, child('RUNNING'))).toBe('progress');
    expect(m.batch.commandCalls(DescribeJobsCommand)[0].args[0].input).toEqual({ jobs: ['batch-1'] });
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':state': 'RUNNING', ':seen': 'PENDING', ':childStates': summary, ':batchJobId': 'batch-1' });
    expect(update.ConditionExpression).toBe('#state = :seen AND (attribute_not_exists(childStatesAt) OR childStatesAt < :now)');
    expect(m.events.calls()).toHaveLength(0);
  });

  test('GIVEN counts refreshed moments ago WHEN another child event arrives THEN Batch is not asked again', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('RUNNING', { childStatesAt: new Date(Date.now() - CHILD_PROGRESS_INTERVAL_MS / 3).toISOString() }) });
    expect(await recordStateChange(m.clients, config, child('SUCCEEDED'))).toBe('ignored');
    expect(m.batch.calls()).toHaveLength(0);
    expect(m.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  test('GIVEN a child runs while the record is SUBMIT_FAILED WHEN its event arrives THEN the record is repaired from the children', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('SUBMIT_FAILED', { statusReason: 'socket hang up' }) });
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(DescribeJobsCommand).resolves({ jobs: [{ arrayProperties: { size: 4, statusSummary: { STARTING: 1, RUNNABLE: 3 } } } as any] });
    expect(await recordStateChange(m.clients, config, child('STARTING'))).toBe('progress');
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':state': 'STARTING', ':seen': 'SUBMIT_FAILED', ':batchJobId': 'batch-1' });
    expect(update.UpdateExpression).toMatch(/REMOVE statusReason$/);
  });

  test('GIVEN a finished record WHEN a late child event arrives THEN nothing is read or written', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('SUCCEEDED') });
    expect(await recordStateChange(m.clients, config, child('SUCCEEDED'))).toBe('ignored');
    expect(m.batch.calls()).toHaveLength(0);
    expect(m.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  test('GIVEN a record further on than the children WHEN counts are refreshed THEN the state does not move back', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('RUNNING') });
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(DescribeJobsCommand).resolves({ jobs: [{ arrayProperties: { size: 4, statusSummary: { RUNNABLE: 4 } } } as any] });
    expect(await recordStateChange(m.clients, config, child('RUNNABLE'))).toBe('progress');
    expect(m.ddb.commandCalls(UpdateCommand)[0].args[0].input.ExpressionAttributeValues).toMatchObject({ ':state': 'RUNNING', ':childStates': { RUNNABLE: 4 } });
  });

  test('GIVEN Batch throttles DescribeJobs WHEN a child event arrives THEN the refresh waits for the next event instead of failing the handler', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('RUNNING') });
    m.batch.on(DescribeJobsCommand).rejects(Object.assign(new Error('Too Many Requests'), { name: 'ClientException', $metadata: { httpStatusCode: 429 } }));
    expect(await recordStateChange(m.clients, config, child('RUNNING'))).toBe('ignored');
    expect(m.ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  test('GIVEN a concurrent refresh WHEN the conditional write fails THEN ignored', async () => {
    const m = mocked();
    m.ddb.on(GetCommand).resolves({ Item: record('RUNNING') });
    m.ddb.on(UpdateCommand).rejects(conditionFailed());
    m.batch.on(DescribeJobsCommand).resolves({ jobs: [{ arrayProperties: { size: 4, statusSummary: { RUNNING: 4 } } } as any] });
    expect(await recordStateChange(m.clients, config, child('RUNNING'))).toBe('ignored');
  });

  test('GIVEN the parent\'s final event with its status summary WHEN recorded THEN the final counts per state are stored with the state', async () => {
    const m = mocked();
    m.ddb.on(UpdateCommand).resolves({});
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    m.events.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    const summary = { SUCCEEDED: 3, FAILED: 1 };
    expect(await recordStateChange(m.clients, config, { jobId: 'batch-1', jobName, status: 'FAILED', statusReason: 'One or more child jobs failed', arrayProperties: { size: 4, statusSummary: summary } })).toBe('updated');
    const update = m.ddb.commandCalls(UpdateCommand)[0].args[0].input;
    expect(update.ExpressionAttributeValues).toMatchObject({ ':state': 'FAILED', ':childStates': summary });
    expect(update.UpdateExpression).toContain('childStates = :childStates');
  });

  test('GIVEN a running array job WHEN GET /jobs/{id} reads it THEN it shows the children per state', async () => {
    const m = mocked();
    const childStates = { RUNNABLE: 2, RUNNING: 1, SUCCEEDED: 1 };
    m.ddb.on(GetCommand).resolves({ Item: record('RUNNING', { childStates, childStatesAt: '2026-11-23T00:03:00.000Z' }) });
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [] });
    const status = await getJobStatus(m.clients, config, jobId);
    expect(status).toMatchObject({ state: 'RUNNING', childStates, childStatesAt: '2026-11-23T00:03:00.000Z' });
  });
});
