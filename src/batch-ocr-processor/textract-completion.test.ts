/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Textract's NotificationChannel and OutputConfig on the processor's API, driven by the real
 * `@aws-sdk/client-textract`: Start records them, and when the job state handler records the end of
 * the request's job it writes the result pages to the OutputConfig bucket and publishes Textract's
 * completion message (aws-sdk-client-mock for SNS); a delivery that went out is not made again.
 */
import { Server } from 'http';
import { AddressInfo } from 'net';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  GetDocumentTextDetectionCommand, GetDocumentTextDetectionResponse, StartDocumentTextDetectionCommand, StartDocumentTextDetectionCommandInput,
  TextractClient,
} from '@aws-sdk/client-textract';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { createStateChangeHandler, deterministicJobId } from './api';
import { createGatherHandler } from './gather';
import { JobRecord, ProcessorConfig } from './jobs';
import { createTextractHandler } from './textract-api';
import { deliverTextractResult } from './textract-delivery';
import { INPUT_BUCKET, mockedClients, MockedClients, OUTPUT_BUCKET, testConfig } from '../../test/helpers/batch-ocr-api';
import { apiGatewayServer, client, DOC, FAILED_FIXTURE, inMemoryAws, QUEUE_URL, TEXTRACT_FIXTURE, workerWroteTextract } from '../../test/helpers/textract-api';
import { workerSummaryKey } from '../common/worker-contract';

const TOPIC = 'arn:aws:sns:us-east-1:111111111111:textract-done';
const ROLE = 'arn:aws:iam::111111111111:role/TextractPublishes';
const PARTNER_BUCKET = 'partner-results';

/** The worker's response for the scan, with its blocks repeated (new ids) to 2,300: three pages of 1,000. */
function longResponse(): string {
  const fixture = JSON.parse(TEXTRACT_FIXTURE);
  const blocks = Array.from({ length: 2300 }, (_, i) => ({ ...fixture.Blocks[i % fixture.Blocks.length], Id: `block-${i}` }));
  return JSON.stringify({ ...fixture, Blocks: blocks });
}

describe('Textract\'s NotificationChannel and OutputConfig', () => {
  let m: MockedClients;
  let aws: ReturnType<typeof inMemoryAws>;
  let sqs: AwsClientStub<SQSClient>;
  let sns: AwsClientStub<SNSClient>;
  let snsClient: SNSClient;
  let server: Server;
  let config: ProcessorConfig;
  let alice: TextractClient;
  const warnings: unknown[][] = [];
  const log = { info: () => undefined, warn: (...args: unknown[]) => { warnings.push(args); }, error: () => undefined };

  async function listen(cfg: ProcessorConfig): Promise<void> {
    config = cfg;
    const sqsClient = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
    sqs = mockClient(sqsClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    server = apiGatewayServer(createTextractHandler({ clients: { ...m.clients, sqs: sqsClient }, config }), []);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    alice = client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, 'AKIDALICE');
  }

  function start(extra: Partial<StartDocumentTextDetectionCommandInput> = {}) {
    return alice.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } }, ...extra }));
  }

  /** The gatherer's window: every queued message so far, submitted as one job. */
  async function gatherWindow(): Promise<string> {
    const records = sqs.commandCalls(SendMessageCommand).map((c, i) => ({ messageId: `msg-${i}`, body: c.args[0].input.MessageBody, attributes: { ApproximateReceiveCount: '1' } }));
    const gather = createGatherHandler({ clients: m.clients, config, jobIdOf: deterministicJobId, log, count: () => undefined });
    expect(await gather({ Records: records } as any)).toEqual({ batchItemFailures: [] });
    return deterministicJobId(records.map((r) => r.messageId));
  }

  /** What the worker leaves for the job's one document: its Textract response and the child's summary. */
  function workerWrote(batchJobId: string, textractJson: string, status = 'SUCCEEDED') {
    const textractKey = `results/${batchJobId}/results/00000.textract.json`;
    aws.objects.set(`${OUTPUT_BUCKET}/${textractKey}`, textractJson);
    aws.objects.set(`${OUTPUT_BUCKET}/${workerSummaryKey('results/', batchJobId, 0)}`, JSON.stringify({
      counts: { succeeded: status === 'SUCCEEDED' ? 1 : 0, failed: status === 'SUCCEEDED' ? 0 : 1 },
      documents: [{ index: 0, key: DOC, status, outputKeys: { textract: textractKey } }],
    }));
  }

  /** Batch's final state change of a job, handled as the job state handler does. */
  function jobFinished(batchJobId: string, status = 'SUCCEEDED') {
    const handle = createStateChangeHandler({ clients: { ...m.clients, sns: snsClient }, config, log });
    return handle({ detail: { jobId: `batch-${batchJobId}`, jobName: `ocr-${batchJobId}`, status, stoppedAt: Date.now() } });
  }

  /** Every page GetDocumentTextDetection answers for the job, following NextToken. */
  async function getPages(JobId: string): Promise<GetDocumentTextDetectionResponse[]> {
    const pages: GetDocumentTextDetectionResponse[] = [];
    let NextToken: string | undefined;
    do {
      const page = await alice.send(new GetDocumentTextDetectionCommand({ JobId, NextToken }));
      pages.push(page);
      NextToken = page.NextToken;
    } while (NextToken);
    return pages;
  }

  const messages = () => sns.commandCalls(PublishCommand)
    .map((c) => ({ topic: c.args[0].input.TopicArn, body: JSON.parse(c.args[0].input.Message!) }));

  beforeEach(() => {
    m = mockedClients();
    aws = inMemoryAws(m);
    snsClient = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
    sns = mockClient(snsClient);
    sns.on(PublishCommand).resolves({ MessageId: 'sns-1' });
    warnings.length = 0;
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  describe('with gathering', () => {
    beforeEach(() => listen(testConfig({
      gatherQueueUrl: QUEUE_URL, allowedInputPrefixes: ['shared/'], textractNotificationTopics: [TOPIC], textractOutputBuckets: [PARTNER_BUCKET],
    })));

    test('GIVEN Start with NotificationChannel and JobTag WHEN the gathered job finishes THEN one completion message with Textract\'s fields, after the pages were written; a redelivered state change publishes nothing more', async () => {
      const before = Date.now();
      const { JobId } = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE }, JobTag: 'invoice-42', OutputConfig: { S3Bucket: PARTNER_BUCKET } });
      expect(aws.table.get(JobId!).textract).toEqual({
        document: { S3Bucket: INPUT_BUCKET, S3ObjectName: DOC },
        jobTag: 'invoice-42',
        notificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE },
        outputConfig: { S3Bucket: PARTNER_BUCKET },
      });
      const batchJobId = await gatherWindow();
      expect(aws.table.get(batchJobId).gatheredRequests).toEqual([{ jobId: JobId, documentIndex: 0, deliver: true }]);
      workerWrote(batchJobId, TEXTRACT_FIXTURE);
      // Published only once the pages are in the bucket.
      sns.on(PublishCommand).callsFake(async () => {
        expect(aws.objects.has(`${PARTNER_BUCKET}/textract_output/${JobId}/1`)).toBe(true);
        return { MessageId: 'sns-1' };
      });

      expect(await jobFinished(batchJobId)).toBe('updated');
      expect(messages()).toHaveLength(1);
      const { topic, body } = messages()[0];
      expect(topic).toBe(TOPIC);
      expect(Object.keys(body).sort()).toEqual(['API', 'DocumentLocation', 'JobId', 'JobTag', 'Status', 'Timestamp']);
      expect(body).toMatchObject({
        JobId, Status: 'SUCCEEDED', API: 'StartDocumentTextDetection', JobTag: 'invoice-42', DocumentLocation: { S3ObjectName: DOC, S3Bucket: INPUT_BUCKET },
      });
      expect(body.Timestamp).toBeGreaterThanOrEqual(before);
      expect(body.Timestamp).toBeLessThanOrEqual(Date.now());
      // Status as Get says it.
      expect((await alice.send(new GetDocumentTextDetectionCommand({ JobId }))).JobStatus).toBe(body.Status);

      // The same event again (EventBridge delivers at least once), and a second delivery attempt on the record: nothing more.
      expect(await jobFinished(batchJobId)).toBe('ignored');
      expect(await deliverTextractResult({ ...m.clients, sns: snsClient }, config, aws.table.get(JobId!) as JobRecord, log)).toBe('delivered-before');
      expect(messages()).toHaveLength(1);
      expect(warnings).toEqual([]);
    });

    test('GIVEN Start with OutputConfig WHEN the job finishes THEN the bucket holds Get\'s response pages under <S3Prefix>/<JobId>/1, /2, ..., their blocks exactly Get\'s', async () => {
      const { JobId } = await start({ OutputConfig: { S3Bucket: OUTPUT_BUCKET, S3Prefix: 'textract-copies/' } });
      const batchJobId = await gatherWindow();
      workerWrote(batchJobId, longResponse());
      await jobFinished(batchJobId);

      const pages = await getPages(JobId!);
      expect(pages.map((p) => p.Blocks!.length)).toEqual([1000, 1000, 300]);
      const written = pages.map((_, i) => JSON.parse(aws.objects.get(`${OUTPUT_BUCKET}/textract-copies/${JobId}/${i + 1}`)!));
      expect(aws.objects.has(`${OUTPUT_BUCKET}/textract-copies/${JobId}/4`)).toBe(false);
      written.forEach((page, i) => {
        expect(page.Blocks).toEqual(pages[i].Blocks);
        expect(page).toMatchObject({ JobStatus: 'SUCCEEDED', DocumentMetadata: pages[i].DocumentMetadata });
      });
      // No completion message was asked for.
      expect(messages()).toEqual([]);
    });

    test('GIVEN a worker that wrote page objects WHEN the job finishes THEN the OutputConfig pages are made from them, never from the whole response', async () => {
      const { JobId } = await start({ OutputConfig: { S3Bucket: PARTNER_BUCKET } });
      const batchJobId = await gatherWindow();
      const whole = longResponse();
      const wholeKey = workerWroteTextract(aws.objects, batchJobId, whole);
      // the handler could not read the whole response (too large for its memory, say): the pages must do
      aws.objects.delete(`${OUTPUT_BUCKET}/${wholeKey}`);
      await jobFinished(batchJobId);

      const blocks = JSON.parse(whole).Blocks;
      const written = [1, 2, 3].map((n) => JSON.parse(aws.objects.get(`${PARTNER_BUCKET}/textract_output/${JobId}/${n}`)!));
      expect(aws.objects.has(`${PARTNER_BUCKET}/textract_output/${JobId}/4`)).toBe(false);
      expect(written.flatMap((page) => page.Blocks)).toEqual(blocks);
      expect(written.map((page) => page.NextToken !== undefined)).toEqual([true, true, false]);
      expect(written.every((page) => page.JobStatus === 'SUCCEEDED')).toBe(true);
    });

    test('GIVEN the document failed in the worker WHEN the job finishes THEN the message says FAILED, as Get does', async () => {
      const { JobId } = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE } });
      const batchJobId = await gatherWindow();
      workerWrote(batchJobId, FAILED_FIXTURE, 'FAILED');
      await jobFinished(batchJobId);
      expect(messages().map((x) => x.body.Status)).toEqual(['FAILED']);
      expect(messages()[0].body.JobTag).toBeUndefined();
      expect((await alice.send(new GetDocumentTextDetectionCommand({ JobId }))).JobStatus).toBe('FAILED');
    });

    test('GIVEN SNS refuses the publish WHEN the job finishes THEN the state is still recorded, the failure logged and the invocation failed; once SNS accepts, the retry publishes one message', async () => {
      sns.on(PublishCommand).rejects(Object.assign(new Error('User is not authorized to perform SNS:Publish'), { name: 'AuthorizationErrorException' }));
      const { JobId } = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE } });
      const batchJobId = await gatherWindow();
      workerWrote(batchJobId, TEXTRACT_FIXTURE);
      await expect(jobFinished(batchJobId)).rejects.toThrow(/Textract completion of/);
      expect(aws.table.get(batchJobId).state).toBe('SUCCEEDED');
      expect(aws.table.get(JobId!).textractDeliveredAt).toBeUndefined();
      expect(warnings).toEqual([['Could not deliver a Textract completion', expect.objectContaining({ jobId: JobId, reason: expect.stringMatching(/not authorized/) })]]);

      // The topic's policy is fixed before Lambda's retry: the retry publishes, once.
      sns.on(PublishCommand).resolves({ MessageId: 'sns-2' });
      expect(await jobFinished(batchJobId)).toBe('delivered');
      expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
      expect(messages()[1]).toEqual({ topic: TOPIC, body: expect.objectContaining({ JobId, Status: 'SUCCEEDED' }) });
      expect(await jobFinished(batchJobId)).toBe('ignored');
      expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    });

    test.each([
      ['a topic the processor was not given', { NotificationChannel: { SNSTopicArn: 'arn:aws:sns:us-east-1:111111111111:other', RoleArn: ROLE } }, 'InvalidParameterException', /not a topic this API publishes to/],
      ['a RoleArn that is not a role', { NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: 'arn:aws:iam::111111111111:user/alice' } }, 'InvalidParameterException', /RoleArn/],
      ['a topic ARN that is not one', { NotificationChannel: { SNSTopicArn: 'textract-done', RoleArn: ROLE } }, 'InvalidParameterException', /SNSTopicArn/],
      ['a bucket the processor was not given', { OutputConfig: { S3Bucket: 'someone-elses-bucket' } }, 'AccessDeniedException', /not writable here/],
      ['the results prefix of the output bucket', { OutputConfig: { S3Bucket: OUTPUT_BUCKET, S3Prefix: 'results/mine' } }, 'InvalidParameterException', /must not be under 'results\/'/],
      ['a blank prefix', { OutputConfig: { S3Bucket: OUTPUT_BUCKET, S3Prefix: '   ' } }, 'InvalidParameterException', /S3Prefix/],
      ['KMSKeyId', { OutputConfig: { S3Bucket: OUTPUT_BUCKET }, KMSKeyId: 'alias/mine' }, 'InvalidParameterException', /KMSKeyId/],
    ] as [string, Partial<StartDocumentTextDetectionCommandInput>, string, RegExp][])('GIVEN %s WHEN Start THEN Textract\'s error, nothing recorded or queued', async (_name, extra, name, message) => {
      let error: any;
      await start(extra).catch((e) => { error = e; });
      expect(error).toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
      expect(error.message).toMatch(message);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
      expect(aws.table.size).toBe(0);
    });
  });

  test('GIVEN no gathering WHEN the request\'s own job finishes THEN its completion message and pages', async () => {
    await listen(testConfig({ allowedInputPrefixes: ['shared/'], textractNotificationTopics: [TOPIC] }));
    const { JobId } = await start({ NotificationChannel: { SNSTopicArn: TOPIC, RoleArn: ROLE }, OutputConfig: { S3Bucket: OUTPUT_BUCKET } });
    workerWrote(JobId!, TEXTRACT_FIXTURE);
    expect(await jobFinished(JobId!)).toBe('updated');
    expect(messages()).toEqual([{ topic: TOPIC, body: expect.objectContaining({ JobId, Status: 'SUCCEEDED' }) }]);
    const [page] = await getPages(JobId!);
    expect(JSON.parse(aws.objects.get(`${OUTPUT_BUCKET}/textract_output/${JobId}/1`)!).Blocks).toEqual(page.Blocks);
  });
});
