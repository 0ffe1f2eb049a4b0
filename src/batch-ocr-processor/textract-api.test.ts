/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Amazon Textract's API on the processor, driven by the real `@aws-sdk/client-textract`: a small
 * HTTP server turns each signed request into the API Gateway proxy event the REST API hands the
 * handler (the IAM caller in `requestContext.identity`, as API Gateway fills it once it has checked
 * the signature). The AWS clients behind the handler are aws-sdk-client-mock instances over an
 * in-memory job table and buckets; the gatherer is the real one. Results are the worker's own: the
 * fixtures in test/fixtures/textract were written by the worker's Batch function
 * (assets/ocr-worker/tools/textract-fixture.ts) from a real scan.
 */
import { IncomingMessage, Server } from 'http';
import { AddressInfo } from 'net';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  DetectDocumentTextCommand, GetDocumentTextDetectionCommand, GetDocumentTextDetectionResponse, StartDocumentTextDetectionCommand,
  TextractClient,
} from '@aws-sdk/client-textract';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { TextractDocument } from 'amazon-textract-response-parser';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { deterministicJobId } from './api';
import { createGatherHandler } from './gather';
import { ProcessorConfig } from './jobs';
import { createTextractHandler, textractJobId } from './textract-api';
import { responsePage } from './textract-result';
import { ALICE, INPUT_BUCKET, mockedClients, MockedClients, OUTPUT_BUCKET, testConfig } from '../../test/helpers/batch-ocr-api';
import {
  apiGatewayServer, BOB, client, DOC, FAILED_FIXTURE, inMemoryAws, longResponse, QUEUE_URL, RESULT_FIXTURE, TEXTRACT_FIXTURE, workerWroteTextract,
} from '../../test/helpers/textract-api';
import { workerManifestKey } from '../common/worker-contract';

/** StartDocumentTextDetection for a key of the input bucket. */
function startDoc(name: string): StartDocumentTextDetectionCommand {
  return new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: name } } });
}

async function textractError(promise: Promise<unknown>): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

/** Lines and words, page by page, as AWS's response parser reads them. */
function parsed(response: { Blocks?: unknown[]; DocumentMetadata?: { Pages?: number } }) {
  const doc = new TextractDocument(response as never);
  const out: Array<{ lines: string[]; words: string[] }> = [];
  for (let n = 1; n <= doc.nPages; n++) {
    const lines = doc.pageNumber(n).listLines();
    out.push({ lines: lines.map((l) => l.text), words: lines.flatMap((l) => l.listWords().map((w) => w.text)) });
  }
  return out;
}

describe('Textract\'s API with the real Textract client', () => {
  let m: MockedClients;
  let aws: ReturnType<typeof inMemoryAws>;
  let sqs: AwsClientStub<SQSClient>;
  let server: Server;
  let url: string;
  let seen: IncomingMessage[] & { bodies?: string[] };
  let config: ProcessorConfig;
  let alice: TextractClient;
  let bob: TextractClient;
  let handler: ReturnType<typeof createTextractHandler>;

  async function listen(cfg: ProcessorConfig): Promise<void> {
    config = cfg;
    const sqsClient = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
    sqs = mockClient(sqsClient);
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm' });
    handler = createTextractHandler({ clients: { ...m.clients, sqs: sqsClient }, config });
    seen = [];
    server = apiGatewayServer(handler, seen);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    alice = client(url, 'AKIDALICE');
    bob = client(url, 'AKIDBOB');
  }

  /** The gatherer's window: every queued message so far, submitted as one job the way the construct does. */
  async function gatherWindow(): Promise<string> {
    const records = sqs.commandCalls(SendMessageCommand).map((c, i) => ({ messageId: `msg-${i}`, body: c.args[0].input.MessageBody, attributes: { ApproximateReceiveCount: '1' } }));
    const log = { info: () => undefined, warn: () => undefined };
    const gather = createGatherHandler({ clients: m.clients, config, jobIdOf: deterministicJobId, log, count: () => undefined });
    expect(await gather({ Records: records } as any)).toEqual({ batchItemFailures: [] });
    return deterministicJobId(records.map((r) => r.messageId));
  }

  /** What the worker leaves for a document: its Textract response, whole and in page objects, then the summary of its child. */
  function workerWrote(batchJobId: string, textractJson: string, options: { pages?: boolean } = {}) {
    workerWroteTextract(aws.objects, batchJobId, textractJson, options);
  }

  /** Alice's Get as API Gateway hands it to the handler, answered with the handler's own body. */
  async function getRaw(body: object): Promise<{ statusCode: number; body: string }> {
    return handler({
      body: JSON.stringify(body),
      headers: { 'X-Amz-Target': 'Textract.GetDocumentTextDetection' },
      isBase64Encoded: false,
      requestContext: { requestId: 'req', identity: { caller: ALICE } },
    } as any);
  }

  /**
   * Pages through a job with the MaxResults of `sizes` in turn, checking every answer against the
   * whole response sliced at the same offset (byte for byte); returns the output bucket keys each call read.
   */
  async function pageThrough(JobId: string, whole: any, sizes: number[]): Promise<string[][]> {
    const reads: string[][] = [];
    let token: string | undefined;
    let offset = 0;
    let call = 0;
    do {
      const size = sizes[call++ % sizes.length];
      const before = m.s3.commandCalls(GetObjectCommand).length;
      const out = await getRaw({ JobId, MaxResults: size, ...(token ? { NextToken: token } : {}) });
      expect(out.statusCode).toBe(200);
      expect(out.body).toBe(JSON.stringify(responsePage(JobId, whole, offset, size)));
      reads.push(outputReads(before).filter((k) => k.includes('.textract')));
      offset += size;
      token = JSON.parse(out.body).NextToken;
    } while (token);
    expect(offset).toBeGreaterThanOrEqual(whole.Blocks.length);
    return reads;
  }

  /** The keys Get read from the output bucket since `from` GetObject calls. */
  function outputReads(from = 0): string[] {
    return m.s3.commandCalls(GetObjectCommand).slice(from).map((c) => c.args[0].input).filter((i) => i.Bucket === OUTPUT_BUCKET).map((i) => i.Key!);
  }

  beforeEach(() => {
    m = mockedClients();
    aws = inMemoryAws(m);
  });
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('GIVEN signingName execute-api WHEN the client sends THEN the request is SigV4-signed for API Gateway, and verifies with the caller\'s key', async () => {
    await listen(testConfig({ gatherQueueUrl: QUEUE_URL, allowedInputPrefixes: ['shared/'] }));
    // The endpoint is the API's stage URL, as the ApiUrl output gives it: the client posts to the stage's root.
    const staged = client(`${url}/v1/`, 'AKIDALICE');
    await staged.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } } }));
    const req = seen[0];
    const authorization = String(req.headers.authorization);
    expect(authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDALICE\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]+, Signature=[0-9a-f]{64}$/);
    expect(req.headers['x-amz-target']).toBe('Textract.StartDocumentTextDetection');
    expect(req.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/v1/');
    // Sign the same request again for execute-api with Alice's key: the same signature, as API Gateway computes it.
    const signed = /SignedHeaders=([^,]+)/.exec(authorization)![1].split(';');
    const { hostname, port } = new URL(url);
    const request = {
      method: 'POST',
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: '/v1/',
      body: seen.bodies![0],
      headers: Object.fromEntries(signed.map((h) => [h, String(req.headers[h])])),
      query: {},
    };
    const amzDate = String(req.headers['x-amz-date']);
    const signingDate = new Date(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`);
    const signer = new SignatureV4({ service: 'execute-api', region: 'us-east-1', sha256: Hash.bind(null, 'sha256'), credentials: { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret' } });
    const again = await signer.sign(request, { signingDate });
    expect(again.headers.authorization).toBe(authorization);

    // Without the signing name the client signs for Textract, which API Gateway refuses.
    const plain = client(url, 'AKIDALICE', { signingName: undefined } as any);
    await plain.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } } }));
    expect(String(seen[1].headers.authorization)).toMatch(/\/us-east-1\/textract\/aws4_request/);
  });

  describe('with gathering', () => {
    beforeEach(() => listen(testConfig({ gatherQueueUrl: QUEUE_URL, allowedInputPrefixes: ['shared/'] })));

    test('GIVEN a document WHEN Start THEN a JobId, the document queued for gathering with the Textract output asked for', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      expect(JobId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(aws.table.get(JobId!)).toMatchObject({ state: 'GATHERING', owner: ALICE, inputKey: DOC, documentCount: 1 });
      const queued = JSON.parse(sqs.commandCalls(SendMessageCommand)[0].args[0].input.MessageBody!);
      expect(queued).toMatchObject({ jobId: JobId, key: DOC, options: { outputs: ['json', 'textract'], geometry: true } });
      // The gatherer submits it in a job whose manifest asks the worker for the Textract response.
      const batchJobId = await gatherWindow();
      const manifest = JSON.parse(aws.objects.get(`${OUTPUT_BUCKET}/${workerManifestKey('results/', batchJobId)}`)!);
      expect(manifest.options).toMatchObject({ outputs: ['json', 'textract'], geometry: true });
      expect(manifest.documents).toEqual([{ key: DOC }]);
      expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    });

    test('GIVEN a ClientRequestToken WHEN Start is retried THEN the same JobId and one submission; another caller\'s token is its own; another document with it is a mismatch', async () => {
      const start = (c: TextractClient, name: string) => c.send(new StartDocumentTextDetectionCommand({
        DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: name } }, ClientRequestToken: 'invoice-42', JobTag: 'invoices',
      }));
      const first = await start(alice, DOC);
      const retried = await start(alice, DOC);
      expect(retried.JobId).toBe(first.JobId);
      expect(first.JobId).toBe(textractJobId(ALICE, 'invoice-42'));
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
      // After the gatherer linked it, still the same job.
      await gatherWindow();
      expect((await start(alice, DOC)).JobId).toBe(first.JobId);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(1);
      const bobs = await start(bob, DOC);
      expect(bobs.JobId).not.toBe(first.JobId);
      expect(await textractError(start(alice, 'shared/other.tif'))).toMatchObject({ name: 'IdempotentParameterMismatchException', status: 400 });
      // The same document with another JobTag, or an OutputConfig the first call did not give, is a mismatch too.
      const again = (extra: object) => alice.send(new StartDocumentTextDetectionCommand({
        DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } }, ClientRequestToken: 'invoice-42', JobTag: 'invoices', ...extra,
      }));
      expect(await textractError(again({ JobTag: 'receipts' }))).toMatchObject({ name: 'IdempotentParameterMismatchException', status: 400 });
      expect(await textractError(again({ OutputConfig: { S3Bucket: OUTPUT_BUCKET, S3Prefix: 'textract' } }))).toMatchObject({ name: 'IdempotentParameterMismatchException' });
      expect((await again({})).JobId).toBe(first.JobId);
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(2);
    });

    test('GIVEN a started job WHEN Get THEN IN_PROGRESS until the worker wrote it, then SUCCEEDED with the worker\'s lines and words, paged by MaxResults and NextToken', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      expect(await alice.send(new GetDocumentTextDetectionCommand({ JobId }))).toMatchObject({ JobStatus: 'IN_PROGRESS' });
      const batchJobId = await gatherWindow();
      expect(await alice.send(new GetDocumentTextDetectionCommand({ JobId }))).toMatchObject({ JobStatus: 'IN_PROGRESS' });
      workerWrote(batchJobId, TEXTRACT_FIXTURE);

      const whole = await alice.send(new GetDocumentTextDetectionCommand({ JobId }));
      const fixture = JSON.parse(TEXTRACT_FIXTURE);
      expect(whole).toMatchObject({ JobStatus: 'SUCCEEDED', DocumentMetadata: { Pages: 1 }, DetectDocumentTextModelVersion: RESULT_FIXTURE.engine.version });
      expect(whole.NextToken).toBeUndefined();
      expect(whole.Blocks).toHaveLength(fixture.Blocks.length);
      const engine = [{ lines: RESULT_FIXTURE.pages[0].lines.map((l: any) => l.text), words: RESULT_FIXTURE.pages[0].words.map((w: any) => w.text) }];
      expect(engine[0].words.length).toBeGreaterThan(20);
      expect(parsed(whole)).toEqual(engine);

      // Pages of 25 blocks: the same blocks in the same order, every page but the last with a NextToken.
      const pages: GetDocumentTextDetectionResponse[] = [];
      let token: string | undefined;
      do {
        const page = await alice.send(new GetDocumentTextDetectionCommand({ JobId, MaxResults: 25, NextToken: token }));
        pages.push(page);
        token = page.NextToken;
      } while (token);
      expect(pages.map((p) => p.Blocks!.length)).toEqual([25, 25, fixture.Blocks.length - 50]);
      expect(pages.flatMap((p) => p.Blocks!)).toEqual(whole.Blocks);
      expect(parsed({ ...whole, Blocks: pages.flatMap((p) => p.Blocks!) })).toEqual(engine);
      // A token is bound to its job.
      const other = await alice.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: 'shared/other.tif' } } }));
      expect(await textractError(alice.send(new GetDocumentTextDetectionCommand({ JobId: other.JobId, NextToken: pages[0].NextToken }))))
        .toMatchObject({ name: 'InvalidParameterException', status: 400 });
      expect(await textractError(alice.send(new GetDocumentTextDetectionCommand({ JobId, MaxResults: 0 })))).toMatchObject({ name: 'InvalidParameterException' });
    });

    test('GIVEN a response of 2,345 blocks in page objects WHEN paged with MaxResults 1,000, 7, 333 or a mix THEN the whole response\'s answers, each from one or two page objects', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      const batchJobId = await gatherWindow();
      const stored = longResponse(2345);
      const textractKey = workerWroteTextract(aws.objects, batchJobId, stored);
      const whole = JSON.parse(stored);
      const pageKey = (n: number) => `results/${batchJobId}/results/00000.textract/${n}`;
      for (const sizes of [[1000], [7], [333], [7, 1000, 333, 999, 1]]) {
        const reads = await pageThrough(JobId!, whole, sizes);
        expect(reads.flat()).not.toContain(textractKey);
        expect(reads.every((keys) => keys.length >= 1 && keys.length <= 2)).toBe(true);
      }
      // MaxResults 1,000: one page object per call; 333 from block 999 runs into the second.
      expect(await pageThrough(JobId!, whole, [1000])).toEqual([[pageKey(1)], [pageKey(2)], [pageKey(3)]]);
      expect((await pageThrough(JobId!, whole, [333]))[3]).toEqual([pageKey(1), pageKey(2)]);
      // AWS's response parser reads the pages as the worker's blocks.
      const pages: GetDocumentTextDetectionResponse[] = [];
      let token: string | undefined;
      do {
        const page = await alice.send(new GetDocumentTextDetectionCommand({ JobId, MaxResults: 333, NextToken: token }));
        pages.push(page);
        token = page.NextToken;
      } while (token);
      expect(pages.flatMap((p) => p.Blocks!).map((b) => b.Id)).toEqual(whole.Blocks.map((b: any) => b.Id));
    });

    test('GIVEN results of a worker that wrote no page objects WHEN paged THEN the same answers, from the whole response', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      const batchJobId = await gatherWindow();
      const stored = longResponse(2345);
      const textractKey = workerWroteTextract(aws.objects, batchJobId, stored, { pages: false });
      const whole = JSON.parse(stored);
      for (const sizes of [[1000], [333], [7, 1000]]) {
        const reads = await pageThrough(JobId!, whole, sizes);
        expect(reads.every((keys) => keys.length === 1 && keys[0] === textractKey)).toBe(true);
      }
      // A summary whose page figures do not agree with each other is not trusted either.
      const summaryKey = `${OUTPUT_BUCKET}/results/${batchJobId}/summaries/00000.json`;
      const summary = JSON.parse(aws.objects.get(summaryKey)!);
      summary.documents[0].textractPages = { count: 1, blocks: 2345 };
      aws.objects.set(summaryKey, JSON.stringify(summary));
      expect((await pageThrough(JobId!, whole, [1000])).flat()).toEqual([textractKey, textractKey, textractKey]);
    });

    test('GIVEN a forged or foreign NextToken WHEN Get THEN InvalidParameterException; a token of this job past its last block answers no blocks, as before', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      const batchJobId = await gatherWindow();
      const stored = longResponse(2345);
      workerWroteTextract(aws.objects, batchJobId, stored);
      const token = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      for (const NextToken of ['not-a-token', token({ j: 'another-job', o: 1000 }), token({ j: JobId, o: -1 }), token({ j: JobId, o: 1.5 }), token({ j: JobId }), 'x'.repeat(300)]) {
        const out = await getRaw({ JobId, NextToken });
        expect({ status: out.statusCode, type: JSON.parse(out.body).__type }).toEqual({ status: 400, type: 'InvalidParameterException' });
      }
      const past = await getRaw({ JobId, NextToken: token({ j: JobId, o: 5000 }) });
      expect(past.body).toBe(JSON.stringify(responsePage(JobId!, JSON.parse(stored), 5000, 1000)));
      expect(JSON.parse(past.body)).toMatchObject({ JobStatus: 'SUCCEEDED', Blocks: [] });
    });

    test('GIVEN the job failed WHEN Get THEN FAILED with the reason as StatusMessage', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      const batchJobId = await gatherWindow();
      aws.table.set(batchJobId, { ...aws.table.get(batchJobId), state: 'FAILED', statusReason: 'Essential container in task exited' });
      const out = await alice.send(new GetDocumentTextDetectionCommand({ JobId }));
      expect(out.JobStatus).toBe('FAILED');
      expect(out.StatusMessage).toBe('FAILED: Essential container in task exited');
      expect(out.Blocks).toBeUndefined();
      // A request the queue gave up on (its gathered job could not be submitted) failed too.
      const queued = await alice.send(startDoc('shared/other.tif'));
      aws.table.set(queued.JobId!, { ...aws.table.get(queued.JobId!), state: 'SUBMIT_FAILED', statusReason: 'The gathered job could not be submitted: throttled' });
      expect(await alice.send(new GetDocumentTextDetectionCommand({ JobId: queued.JobId })))
        .toMatchObject({ JobStatus: 'FAILED', StatusMessage: 'SUBMIT_FAILED: The gathered job could not be submitted: throttled' });
    });

    test('GIVEN the document failed in the worker WHEN Get THEN FAILED with the worker\'s StatusMessage', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      const batchJobId = await gatherWindow();
      // The worker's response for a document that was gone when the job read it.
      workerWrote(batchJobId, FAILED_FIXTURE);
      const out = await alice.send(new GetDocumentTextDetectionCommand({ JobId }));
      expect(out).toMatchObject({ JobStatus: 'FAILED', StatusMessage: JSON.parse(FAILED_FIXTURE).StatusMessage });
      expect(out.StatusMessage).toMatch(/^INPUT_NOT_FOUND: /);
      expect(out.Blocks).toBeUndefined();
    });

    test('GIVEN Alice\'s job WHEN Bob asks for it, or anyone for an unknown id THEN InvalidJobIdException', async () => {
      const { JobId } = await alice.send(startDoc(DOC));
      expect(await textractError(bob.send(new GetDocumentTextDetectionCommand({ JobId })))).toMatchObject({ name: 'InvalidJobIdException', status: 400 });
      expect(await textractError(alice.send(new GetDocumentTextDetectionCommand({ JobId: '00000000-0000-4000-8000-000000000000' })))).toMatchObject({ name: 'InvalidJobIdException' });
      expect(await textractError(alice.send(new GetDocumentTextDetectionCommand({ JobId: 'not-a-job' })))).toMatchObject({ name: 'InvalidJobIdException' });
      expect(await textractError(alice.send(new GetDocumentTextDetectionCommand({ JobId: 'bad id!' })))).toMatchObject({ name: 'InvalidParameterException' });
    });

    test('GIVEN a document Textract could not read here WHEN Start THEN Textract\'s error, nothing queued', async () => {
      const start = (c: TextractClient, S3Object: any, extra: any = {}) =>
        c.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object }, ...extra }));
      expect(await textractError(start(alice, { Bucket: 'someone-elses-bucket', Name: DOC }))).toMatchObject({ name: 'InvalidS3ObjectException', status: 400 });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: 'shared/missing.tif' }))).toMatchObject({ name: 'InvalidS3ObjectException', status: 400 });
      // Outside the prefixes callers may name, and another caller's uploads.
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: 'private/a.tif' }))).toMatchObject({ name: 'InvalidS3ObjectException' });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: `uploads/${BOB}/a.tif` }))).toMatchObject({ name: 'InvalidS3ObjectException' });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: DOC, Version: '3' }))).toMatchObject({ name: 'InvalidParameterException' });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: DOC }, { ClientRequestToken: 'no spaces allowed' }))).toMatchObject({ name: 'InvalidParameterException' });
      // A topic or a bucket the processor was not given.
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: DOC }, { OutputConfig: { S3Bucket: 'someone-elses-bucket' } }))).toMatchObject({ name: 'AccessDeniedException' });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: DOC }, { NotificationChannel: { SNSTopicArn: 'arn:aws:sns:us-east-1:111111111111:t', RoleArn: 'arn:aws:iam::111111111111:role/r' } })))
        .toMatchObject({ name: 'InvalidParameterException' });
      expect(await textractError(start(alice, { Bucket: INPUT_BUCKET, Name: DOC }, { KMSKeyId: 'alias/mine' }))).toMatchObject({ name: 'InvalidParameterException' });
      expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
    });

    test('GIVEN an operation this API does not answer WHEN called THEN UnknownOperationException', async () => {
      const out = await textractError(alice.send(new DetectDocumentTextCommand({ Document: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } } })));
      expect(out).toMatchObject({ name: 'UnknownOperationException', status: 400 });
      expect(out.message).toMatch(/Textract\.StartDocumentTextDetection/);
    });
  });

  test('GIVEN a document larger than the processor takes WHEN Start THEN DocumentTooLargeException, as Textract answers; an empty one InvalidS3ObjectException; nothing queued', async () => {
    await listen(testConfig({ gatherQueueUrl: QUEUE_URL, allowedInputPrefixes: ['shared/'], maxDocumentBytes: 10 }));
    expect(await textractError(alice.send(startDoc(DOC)))).toMatchObject({ name: 'DocumentTooLargeException', status: 400 });
    // an empty object is no document Textract could read
    aws.objects.set(`${INPUT_BUCKET}/shared/empty.tif`, '');
    expect(await textractError(alice.send(startDoc('shared/empty.tif')))).toMatchObject({ name: 'InvalidS3ObjectException', status: 400 });
    expect(sqs.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  test('GIVEN no gathering WHEN Start (and its retry) THEN one Batch job of its own asking for the Textract output; Get reads it', async () => {
    await listen(testConfig({ allowedInputPrefixes: ['shared/'] }));
    const start = () => alice.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } }, ClientRequestToken: 'one' }));
    const { JobId } = await start();
    expect((await start()).JobId).toBe(JobId);
    expect(m.batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
    const manifest = JSON.parse(aws.objects.get(`${OUTPUT_BUCKET}/${workerManifestKey('results/', JobId!)}`)!);
    expect(manifest.options).toMatchObject({ outputs: ['json', 'textract'], geometry: true });
    expect(await textractError(alice.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: 'shared/other.tif' } }, ClientRequestToken: 'one' }))))
      .toMatchObject({ name: 'IdempotentParameterMismatchException' });
    expect(await textractError(alice.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } }, ClientRequestToken: 'one', JobTag: 'late' }))))
      .toMatchObject({ name: 'IdempotentParameterMismatchException' });
    expect(await alice.send(new GetDocumentTextDetectionCommand({ JobId }))).toMatchObject({ JobStatus: 'IN_PROGRESS' });
    workerWrote(JobId!, TEXTRACT_FIXTURE);
    const out = await alice.send(new GetDocumentTextDetectionCommand({ JobId }));
    expect(out.JobStatus).toBe('SUCCEEDED');
    expect(parsed(out)[0].lines).toEqual(RESULT_FIXTURE.pages[0].lines.map((l: any) => l.text));
  });
});
