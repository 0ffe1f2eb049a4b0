/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Stand-ins for the tests that drive the processor's Textract API with the real
 * `@aws-sdk/client-textract`: a small HTTP server turns each signed request into the API Gateway proxy
 * event the REST API hands the handler (the IAM caller in `requestContext.identity`, as API Gateway
 * fills it once it has checked the signature), and aws-sdk-client-mock clients over an in-memory job
 * table and buckets, with the conditions the handlers rely on.
 */
import { readFileSync } from 'fs';
import { createServer, IncomingMessage } from 'http';
import { join } from 'path';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { TextractClient, TextractClientConfig } from '@aws-sdk/client-textract';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ALICE, INPUT_BUCKET, MockedClients, OUTPUT_BUCKET } from './batch-ocr-api';
import { WorkerResultLayout, workerSummaryKey, workerTextractPageKey } from '../../src/common/worker-contract';

export const BOB = 'AIDABOB00000000000002';
/** Each caller's access key, and the IAM unique id API Gateway reports for it. */
export const KEYS: { [accessKeyId: string]: { secretAccessKey: string; caller: string } } = {
  AKIDALICE: { secretAccessKey: 'alice-secret', caller: ALICE },
  AKIDBOB: { secretAccessKey: 'bob-secret', caller: BOB },
};
export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111111111111/gather';
export const FIXTURES = join(__dirname, '..', 'fixtures', 'textract');
export const TEXTRACT_FIXTURE = readFileSync(join(FIXTURES, 'phototest.textract.json'), 'utf8');
export const FAILED_FIXTURE = readFileSync(join(FIXTURES, 'missing.textract.json'), 'utf8');
export const RESULT_FIXTURE = JSON.parse(readFileSync(join(FIXTURES, 'phototest.result.json'), 'utf8'));
export const DOC = 'shared/phototest.tif';

/** A job table and buckets in memory behind the mocks, with the conditions the handlers rely on. */
export function inMemoryAws(m: MockedClients) {
  const table = new Map<string, any>();
  const objects = new Map<string, string>();
  const conditionFailed = () => Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
  m.ddb.on(GetCommand).callsFake(async (input: any) => ({ Item: table.get(input.Key.jobId) }));
  m.ddb.on(PutCommand).callsFake(async (input: any) => {
    const old = table.get(input.Item.jobId);
    // Both conditional puts allow rewriting a record only in the states they list.
    if (old && input.ConditionExpression && !Object.values(input.ExpressionAttributeValues ?? {}).includes(old.state)) throw conditionFailed();
    table.set(input.Item.jobId, { ...input.Item });
    return { Attributes: old };
  });
  m.ddb.on(UpdateCommand).callsFake(async (input: any) => {
    const item = { ...(table.get(input.Key.jobId) ?? { jobId: input.Key.jobId }) };
    const name = (n: string) => input.ExpressionAttributeNames?.[n] ?? n;
    const values = input.ExpressionAttributeValues ?? {};
    const condition: string = input.ConditionExpression ?? '';
    const required = /#state = (:\w+)/.exec(condition);
    if (required && item.state !== values[required[1]]) throw conditionFailed();
    const allowed = /#state IN \(([^)]*)\)/.exec(condition);
    if (allowed && !allowed[1].split(', ').map((v) => values[v]).includes(item.state)) throw conditionFailed();
    if (condition.includes('attribute_exists(jobId)') && !table.has(input.Key.jobId)) throw conditionFailed();
    for (const [, field] of condition.matchAll(/attribute_not_exists\((\w+)\)/g)) if (item[field] !== undefined) throw conditionFailed();
    const update = input.UpdateExpression as string;
    // The gatherer's list of requests on its job: appended to.
    const appended = /(\w+) = list_append\(if_not_exists\(\w+, :\w+\), (:\w+)\)/.exec(update);
    if (appended) item[appended[1]] = [...(item[appended[1]] ?? []), ...values[appended[2]]];
    for (const [, field, value] of update.replace(/^SET /, '').replace(/ REMOVE .*$/, '').matchAll(/([#\w]+) = (:\w+)/g)) {
      item[name(field)] = values[value];
    }
    for (const field of /REMOVE (.*)$/.exec(update)?.[1].split(', ') ?? []) delete item[field];
    table.set(input.Key.jobId, item);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: { ...item } } : {};
  });
  const notFound = () => Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });
  m.s3.on(HeadObjectCommand).callsFake(async (input: any) => {
    const o = objects.get(`${input.Bucket}/${input.Key}`);
    if (o === undefined) throw notFound();
    return { ContentLength: o.length };
  });
  m.s3.on(GetObjectCommand).callsFake(async (input: any) => {
    const o = objects.get(`${input.Bucket}/${input.Key}`);
    if (o === undefined) throw Object.assign(notFound(), { name: 'NoSuchKey' });
    return { Body: { transformToString: async () => o } };
  });
  m.s3.on(ListObjectsV2Command).callsFake(async (input: any) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(`${input.Bucket}/${input.Prefix ?? ''}`))
      .map((k) => ({ Key: k.slice(input.Bucket.length + 1), Size: objects.get(k)!.length })),
  }));
  m.s3.on(PutObjectCommand).callsFake(async (input: any) => {
    objects.set(`${input.Bucket}/${input.Key}`, String(input.Body));
    return {};
  });
  m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'x' });
  objects.set(`${INPUT_BUCKET}/${DOC}`, 'II*\0 a scan');
  objects.set(`${INPUT_BUCKET}/shared/other.tif`, 'II*\0 another scan');
  return { table, objects };
}

/** API Gateway's part: the signed request as the proxy event, the caller named by the request's access key. */
export type ProxyHandler = (event: APIGatewayProxyEvent) => Promise<{ statusCode: number; headers?: any; body: string }>;
export function apiGatewayServer(handle: ProxyHandler, seen: IncomingMessage[] & { bodies?: string[] }) {
  seen.bodies = [];
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push(req);
      seen.bodies!.push(body);
      const accessKey = /Credential=([^/]+)\//.exec(String(req.headers.authorization))?.[1] ?? '';
      const event = {
        body,
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)])),
        multiValueHeaders: {},
        httpMethod: req.method!,
        isBase64Encoded: false,
        path: req.url!,
        pathParameters: null,
        queryStringParameters: null,
        multiValueQueryStringParameters: null,
        stageVariables: null,
        resource: '/',
        requestContext: { requestId: `req-${seen.length}`, identity: { caller: KEYS[accessKey]?.caller ?? null } },
      } as unknown as APIGatewayProxyEvent;
      void handle(event).then((out) => {
        res.writeHead(out.statusCode, out.headers);
        res.end(out.body);
      });
    });
  });
}

export function client(url: string, accessKeyId: string, extra: Partial<TextractClientConfig> = {}): TextractClient {
  // The processor's API instead of Textract: its URL, and SigV4 for API Gateway (execute-api). The
  // client takes signingName, which its TypeScript config type does not list: hence the intersection.
  const config: TextractClientConfig & { signingName?: string } = {
    endpoint: url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey: KEYS[accessKeyId].secretAccessKey },
    signingName: 'execute-api',
    ...extra,
  };
  return new TextractClient(config);
}


/**
 * What the worker leaves for document 0 of a Batch job with the `textract` output: the whole response
 * (`NNNNN.textract.json`), its page objects of 1,000 blocks, each repeating the other fields
 * (`NNNNN.textract/1`, ...), and the child's summary naming both. `pages: false` leaves them out, as
 * workers did before they wrote page objects.
 */
export function workerWroteTextract(
  objects: Map<string, string>, batchJobId: string, responseJson: string, options: { pages?: boolean } = {},
): string {
  const textractKey = `results/${batchJobId}/results/00000.textract.json`;
  objects.set(`${OUTPUT_BUCKET}/${textractKey}`, responseJson);
  let textractPages: { count: number; blocks: number } | undefined;
  if (options.pages ?? true) {
    const whole = JSON.parse(responseJson);
    const size = WorkerResultLayout.TEXTRACT_PAGE_BLOCKS;
    const count = Math.max(1, Math.ceil(whole.Blocks.length / size));
    for (let page = 1; page <= count; page++) {
      objects.set(`${OUTPUT_BUCKET}/${workerTextractPageKey('results/', batchJobId, 0, page)}`,
        JSON.stringify({ ...whole, Blocks: whole.Blocks.slice((page - 1) * size, page * size) }));
    }
    textractPages = { count, blocks: whole.Blocks.length };
  }
  objects.set(`${OUTPUT_BUCKET}/${workerSummaryKey('results/', batchJobId, 0)}`, JSON.stringify({
    documents: [{
      index: 0,
      key: DOC,
      status: 'SUCCEEDED',
      resultKey: `results/${batchJobId}/results/00000.json`,
      outputKeys: { textract: textractKey },
      ...(textractPages ? { textractPages } : {}),
    }],
  }));
  return textractKey;
}

/** The worker's response for the scan, its blocks repeated (with ids of their own) up to `count` blocks. */
export function longResponse(count: number): string {
  const fixture = JSON.parse(TEXTRACT_FIXTURE);
  const blocks = Array.from({ length: count }, (_, i) => ({ ...fixture.Blocks[i % fixture.Blocks.length], Id: `b-${i}` }));
  return JSON.stringify({ ...fixture, Blocks: blocks });
}
