/**
 * Textract's NotificationChannel and OutputConfig on the local service, driven by the real
 * `@aws-sdk/client-textract`; completion messages go through the real `@aws-sdk/client-sns` to an
 * SNS stand-in, output pages to the service's data folder (bucket `local`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  GetDocumentTextDetectionCommand, StartDocumentTextDetectionCommand, TextractClient,
  type Block, type GetDocumentTextDetectionCommandOutput, type StartDocumentTextDetectionCommandInput,
} from '@aws-sdk/client-textract';
import { mockClient } from 'aws-sdk-client-mock';
import type { App } from '../src/service/app.ts';
import { S3DocumentStore } from '../src/service/aws-stores.ts';
import { TextractDeliveries } from '../src/textract/completion.ts';
import { allAnswerPages, MAX_RESULTS_LIMIT, type FinishedAnswer } from '../src/textract/paging.ts';
import { LocalStatusStore } from '../src/service/stores.ts';
import { countingEngine, postJson, startTestApp, type CountingEngine } from './service/helpers.ts';
import { startSnsStandIn, type SnsStandIn } from './helpers/sns-standin.ts';

const TOPIC = 'arn:aws:sns:us-east-1:111122223333:textract-done';
const FAILING_TOPIC = 'arn:aws:sns:us-east-1:111122223333:textract-gone';
const OTHER_TOPIC = 'arn:aws:sns:us-east-1:111122223333:not-allowed';
const ROLE = 'arn:aws:iam::111122223333:role/TextractPublishes';
const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' };

let engine: CountingEngine;
let sns: SnsStandIn;
let app: App;
let client: TextractClient;
let dataDir: string;
let status: LocalStatusStore;
const metricLines: string[] = [];

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'textract-deliveries-'));
  for (const rel of ['pdf/basicapi.pdf', 'pdf/REDHAT-1531897-0.pdf', 'pdf/two_paragraphs.pdf']) {
    copyFileSync(join(import.meta.dirname, 'fixtures', rel), join(dataDir, rel.split('/')[1]));
  }
  engine = countingEngine();
  sns = await startSnsStandIn();
  sns.failing.add(FAILING_TOPIC);
  app = await startTestApp(
    { OCR_WORKERS: '2', OCR_DATA_DIR: dataDir, OCR_REQUEST_TIMEOUT_SECONDS: '60', OCR_TEXTRACT_NOTIFICATION_TOPICS: `${TOPIC},${FAILING_TOPIC}` },
    { engine, status: status = new LocalStatusStore(dataDir), sns: new SNSClient({ endpoint: sns.url, region: 'us-east-1', credentials, maxAttempts: 1 }), metrics: (line) => metricLines.push(line) },
  );
  client = new TextractClient({ endpoint: app.url, region: 'us-east-1', maxAttempts: 1, credentials });
});
after(async () => {
  client.destroy();
  await app.stop(0);
  await engine.shutdown();
  await sns.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(input: Omit<StartDocumentTextDetectionCommandInput, 'DocumentLocation'>, name = 'basicapi.pdf'): Promise<string> {
  const { JobId } = await client.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: 'local', Name: name } }, ...input }));
  assert.ok(JobId);
  return JobId;
}

/** Every block of a finished job through Get's pages; waits until the job's deliveries are done. */
async function finished(jobId: string): Promise<{ first: GetDocumentTextDetectionCommandOutput; blocks: Block[] }> {
  const until = Date.now() + 120_000;
  let first: GetDocumentTextDetectionCommandOutput;
  for (;;) {
    first = await client.send(new GetDocumentTextDetectionCommand({ JobId: jobId }));
    if (first.JobStatus !== 'IN_PROGRESS') break;
    assert.ok(Date.now() < until, 'the job finishes');
    await new Promise((r) => setTimeout(r, 100));
  }
  const blocks = [...first.Blocks ?? []];
  for (let token = first.NextToken; token;) {
    const next = await client.send(new GetDocumentTextDetectionCommand({ JobId: jobId, NextToken: token }));
    blocks.push(...next.Blocks ?? []);
    token = next.NextToken;
  }
  assert.equal(await app.service.whenSettled(jobId, 30_000), true);
  return { first, blocks };
}

async function refusal(input: Omit<StartDocumentTextDetectionCommandInput, 'DocumentLocation'>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await start(input);
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  assert.fail('the Start succeeded');
}

function messagesOf(jobId: string): Array<Record<string, unknown>> {
  return sns.published.filter((p) => p.topicArn === TOPIC).map((p) => JSON.parse(p.message) as Record<string, unknown>).filter((m) => m.JobId === jobId);
}

describe('NotificationChannel', () => {
  test('GIVEN a Start with an allowed topic and a JobTag WHEN the job ends THEN exactly one message with Textract\'s fields, in its types', async () => {
    const before = Date.now();
    const jobId = await start({ JobTag: 'invoices:2026', NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE } });
    const { first } = await finished(jobId);
    assert.equal(first.JobStatus, 'SUCCEEDED');
    const messages = messagesOf(jobId);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.deepEqual(Object.keys(message), ['JobId', 'Status', 'API', 'JobTag', 'Timestamp', 'DocumentLocation']);
    assert.deepEqual({ ...message, Timestamp: undefined }, {
      JobId: jobId, Status: 'SUCCEEDED', API: 'StartDocumentTextDetection', JobTag: 'invoices:2026', Timestamp: undefined,
      DocumentLocation: { S3ObjectName: 'basicapi.pdf', S3Bucket: 'local' },
    });
    assert.equal(typeof message.Timestamp, 'number');
    assert.ok((message.Timestamp as number) >= before && (message.Timestamp as number) <= Date.now(), `Timestamp ${message.Timestamp} is epoch milliseconds of the end`);
  });

  test('GIVEN a Start without JobTag of a broken PDF WHEN the job fails THEN one message with Status FAILED and no JobTag', async () => {
    const jobId = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE } }, 'REDHAT-1531897-0.pdf');
    assert.equal((await finished(jobId)).first.JobStatus, 'FAILED');
    const messages = messagesOf(jobId);
    assert.equal(messages.length, 1);
    assert.equal(messages[0].Status, 'FAILED');
    assert.equal('JobTag' in messages[0], false);
    assert.deepEqual(messages[0].DocumentLocation, { S3ObjectName: 'REDHAT-1531897-0.pdf', S3Bucket: 'local' });
  });

  test('GIVEN a job that used up its attempts WHEN it is claimed again THEN it ends FAILED without a result and its message says FAILED', async () => {
    const jobId = 'job-out-of-attempts';
    await status.create({
      document_id: jobId, status: 'PENDING', attempts: 3, bucket: 'local', key: 'basicapi.pdf',
      textract_job: JSON.stringify({ api: 'StartDocumentTextDetection', jobTag: 'retried', snsTopicArn: TOPIC }),
    });
    const out = await postJson(`${app.url}/process`, { record: { document_id: jobId } });
    assert.equal(out.status, 422);
    assert.equal((await client.send(new GetDocumentTextDetectionCommand({ JobId: jobId }))).JobStatus, 'FAILED');
    const messages = messagesOf(jobId);
    assert.equal(messages.length, 1);
    assert.deepEqual([messages[0].Status, messages[0].JobTag], ['FAILED', 'retried']);
  });

  test('GIVEN a topic the service may not publish to, or a RoleArn that is no role WHEN Start THEN InvalidParameterException and no job', async () => {
    const accepted = app.service.counters.accepted;
    const notAllowed = await refusal({ NotificationChannel: { SNSTopicArn: OTHER_TOPIC, RoleArn: ROLE } });
    assert.equal(notAllowed.name, 'InvalidParameterException');
    assert.equal(notAllowed.status, 400);
    assert.match(notAllowed.message, /not a topic this service publishes to/);
    const badRole = await refusal({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: 'arn:aws:iam::111122223333:user/someone' } });
    assert.equal(badRole.name, 'InvalidParameterException');
    assert.match(badRole.message, /RoleArn/);
    assert.equal(app.service.counters.accepted, accepted);
  });

  test('GIVEN a topic whose Publish fails WHEN the job ends THEN the job still SUCCEEDED, the failure is counted and the service goes on', async () => {
    const deliveries = app.textractDeliveries!;
    const failedBefore = deliveries.counters.notificationsFailed;
    const jobId = await start({ NotificationChannel: { SNSTopicArn: FAILING_TOPIC, RoleArn: ROLE } }, 'two_paragraphs.pdf');
    assert.equal((await finished(jobId)).first.JobStatus, 'SUCCEEDED');
    assert.equal(sns.refused.filter((r) => (JSON.parse(r.message) as { JobId: string }).JobId === jobId).length, 1);
    assert.equal(deliveries.counters.notificationsFailed, failedBefore + 1);
    assert.ok(metricLines.some((l) => JSON.parse(l).TextractNotificationsFailed === 1));
    assert.equal(app.service.isHealthy(), true);
    // and the next job is notified as usual
    const next = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE } }, 'two_paragraphs.pdf');
    await finished(next);
    assert.equal(messagesOf(next).length, 1);
  });
});

describe('OutputConfig', () => {
  test('GIVEN an OutputConfig under the results prefix WHEN the job ends THEN its pages are written as {S3Prefix}/{JobId}/1.. and their Blocks are Get\'s', async () => {
    const jobId = await start({ OutputConfig: { S3Bucket: 'local', S3Prefix: 'results/textract/' } });
    const { first, blocks } = await finished(jobId);
    assert.equal(first.JobStatus, 'SUCCEEDED');
    const folder = join(dataDir, 'results', 'textract', jobId);
    const names = readdirSync(folder).sort();
    assert.ok(names.includes('.s3_access_check'), 'the access check object written at Start');
    const pages = names.filter((n) => /^\d+$/.test(n)).sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(pages, pages.map((_, i) => String(i + 1)));
    const written = pages.map((n) => JSON.parse(readFileSync(join(folder, n), 'utf8')) as { JobStatus: string; Blocks: Block[]; DocumentMetadata: { Pages: number } });
    assert.ok(written.every((p) => p.JobStatus === 'SUCCEEDED' && p.DocumentMetadata.Pages === 3 && p.Blocks.length <= MAX_RESULTS_LIMIT));
    assert.ok(blocks.length > 0);
    assert.deepEqual(written.flatMap((p) => p.Blocks), blocks);
  });

  test('GIVEN a failed document with an OutputConfig WHEN the job ends THEN page 1 holds Get\'s FAILED answer', async () => {
    const jobId = await start({ OutputConfig: { S3Bucket: 'local', S3Prefix: 'results/failed' } }, 'REDHAT-1531897-0.pdf');
    const { first } = await finished(jobId);
    const page = JSON.parse(readFileSync(join(dataDir, 'results', 'failed', jobId, '1'), 'utf8')) as Record<string, unknown>;
    assert.equal(page.JobStatus, 'FAILED');
    assert.equal(page.StatusMessage, first.StatusMessage);
    assert.equal(page.Blocks, undefined);
  });

  test('GIVEN a bucket the service may not write, or its documents bucket outside the results prefix WHEN Start THEN AccessDeniedException and no job', async () => {
    const accepted = app.service.counters.accepted;
    for (const OutputConfig of [{ S3Bucket: 'someone-elses-bucket' }, { S3Bucket: 'local' }, { S3Bucket: 'local', S3Prefix: 'uploads/x' }]) {
      const err = await refusal({ OutputConfig });
      assert.equal(err.name, 'AccessDeniedException', JSON.stringify(OutputConfig));
      assert.equal(err.status, 400);
    }
    assert.equal(app.service.counters.accepted, accepted);
    assert.equal(existsSync(join(dataDir, 'textract_output')), false);
  });

  test('GIVEN KMSKeyId or a prefix that leaves the data folder WHEN Start THEN InvalidParameterException', async () => {
    assert.equal((await refusal({ KMSKeyId: 'alias/mine' })).name, 'InvalidParameterException');
    assert.equal((await refusal({ OutputConfig: { S3Bucket: 'local', S3Prefix: 'results/../..' } })).name, 'InvalidParameterException');
  });

  test('GIVEN a retried Start with the same token but another OutputConfig THEN IdempotentParameterMismatchException', async () => {
    const input = { ClientRequestToken: 'deliveries-token', OutputConfig: { S3Bucket: 'local', S3Prefix: 'results/a' } };
    const jobId = await start(input, 'two_paragraphs.pdf');
    assert.equal(await start(input, 'two_paragraphs.pdf'), jobId);
    await finished(jobId);
    assert.equal((await refusal({ ...input, OutputConfig: { S3Bucket: 'local', S3Prefix: 'results/b' } })).name, 'IdempotentParameterMismatchException');
  });
});

describe('output pages', () => {
  test('GIVEN an answer of 2,500 blocks THEN three pages of 1,000, 1,000 and 500 blocks, NextToken on all but the last', () => {
    const blocks = Array.from({ length: 2500 }, (_, i) => ({ BlockType: 'WORD' as const, Id: `b${i}`, Page: 1, Geometry: { BoundingBox: { Width: 0, Height: 0, Left: 0, Top: 0 }, Polygon: [] } }));
    const answer: FinishedAnswer = { JobStatus: 'SUCCEEDED', DocumentMetadata: { Pages: 1 }, Blocks: blocks, DetectDocumentTextModelVersion: 'v' };
    const pages = allAnswerPages(answer, 'job-1') as Array<{ Blocks: Array<{ Id: string }>; NextToken?: string }>;
    assert.deepEqual(pages.map((p) => p.Blocks.length), [1000, 1000, 500]);
    assert.deepEqual(pages.flatMap((p) => p.Blocks.map((b) => b.Id)), blocks.map((b) => b.Id));
    assert.deepEqual(pages.map((p) => p.NextToken !== undefined), [true, true, false]);
  });
});

describe('with AWS storage', () => {
  const destinations = { notificationTopics: [], outputBuckets: ['textract-out'], documentsBucket: 'docs', resultsPrefix: 'results/' };
  const options = { api: 'StartDocumentTextDetection' as const, output: { bucket: 'textract-out', prefix: 'textract_output' } };

  test('GIVEN S3 refuses the access check object WHEN Start is checked THEN AccessDeniedException; a missing bucket → InvalidParameterException', async () => {
    const s3 = mockClient(S3Client);
    const deliveries = new TextractDeliveries({ destinations, writer: new S3DocumentStore(s3 as unknown as S3Client, 'docs', 'uploads/'), metricsNamespace: 'N', metricsService: 'S' });
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await assert.rejects(deliveries.checkOutputAccess('job-1', options), (err: Error & { type?: string }) => err.type === 'AccessDeniedException' && /s3:PutObject/.test(err.message));
    s3.on(PutObjectCommand).rejects(Object.assign(new Error('The specified bucket does not exist'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }));
    await assert.rejects(deliveries.checkOutputAccess('job-1', options), (err: Error & { type?: string }) => err.type === 'InvalidParameterException');
    s3.on(PutObjectCommand).resolves({});
    await deliveries.checkOutputAccess('job-1', options);
    const put = s3.commandCalls(PutObjectCommand).at(-1)!.args[0].input;
    assert.deepEqual({ Bucket: put.Bucket, Key: put.Key }, { Bucket: 'textract-out', Key: 'textract_output/job-1/.s3_access_check' });
    s3.restore();
  });
});
