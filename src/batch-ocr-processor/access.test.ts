/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * The API's access model: jobs belong to the caller that submitted them (IAM unique id or Cognito
 * sub), another caller's job is not found, uploads go to the caller's own folder, documents are
 * limited to the caller's uploads and the allowed prefixes, S3-trigger jobs belong to the system.
 */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { APIGatewayProxyEvent, SQSEvent } from 'aws-lambda';
import { createS3IngestHandler, createStatusHandler, createSubmitHandler, createUploadHandler } from './api';
import { configFromEnv, ProcessorConfig } from './jobs';
import { ApiAuthorization, BatchOcrProcessorProps } from './props';
import { callerIdFrom, SYSTEM_OWNER } from './request';
import {
  ALICE, apiEvent, body, INPUT_BUCKET, inMemoryIdempotencyClient, MockedClients, mockedClients, synthProcessor, testConfig,
} from '../../test/helpers/batch-ocr-api';

const BOB = 'AIDABOB00000000000001';
const jobId = '0b0e7c1e-1111-4222-8333-444455556666';

/** An event from another IAM caller. */
function as(caller: string | undefined, event: APIGatewayProxyEvent): APIGatewayProxyEvent {
  return { ...event, requestContext: { ...event.requestContext, identity: { ...event.requestContext.identity, caller } as any } };
}

/** Mocks for a submission that gets through: every key exists, every write succeeds. */
function submittable(): MockedClients {
  const m = mockedClients();
  m.s3.on(HeadObjectCommand).resolves({ ContentLength: 1024 });
  m.s3.on(PutObjectCommand).resolves({});
  m.ddb.on(PutCommand).resolves({});
  m.ddb.on(UpdateCommand).resolves({});
  m.batch.on(SubmitJobCommand).resolves({ jobId: 'batch-1', jobName: 'x' });
  return m;
}

/** The config of the construct's default: no allowed prefixes, so callers submit only their uploads. */
function secureDefault(overrides: Partial<ProcessorConfig> = {}): ProcessorConfig {
  return testConfig({ allowedInputPrefixes: [], ...overrides });
}

describe('caller identity', () => {
  test.each([
    ['an IAM user', 'AIDAALICE000000000001', 'AIDAALICE000000000001'],
    ['a role session (the session name is the caller\'s choice, so the role is the caller)', 'AROAROLE0000000000001:botocore-session-1', 'AROAROLE0000000000001'],
    ['a federated user', '111111111111:alice', '111111111111:alice'],
    ['the root user', '111111111111', '111111111111'],
  ])('GIVEN IAM auth and %s WHEN identified THEN the id is the principal\'s unique id', (_name, caller, id) => {
    expect(callerIdFrom('IAM', { identity: { caller } })).toBe(id);
  });

  test('GIVEN two sessions of one role WHEN identified THEN they are one caller', () => {
    expect(callerIdFrom('IAM', { identity: { caller: 'AROAROLE0000000000001:a' } })).toBe(callerIdFrom('IAM', { identity: { caller: 'AROAROLE0000000000001:b' } }));
  });

  test('GIVEN Cognito auth WHEN identified THEN the id is the token\'s sub, and an IAM identity in the event is not read', () => {
    const sub = '3f1c6b2e-8d4a-4c7e-9b1a-2e5d7f9a0c11';
    expect(callerIdFrom('COGNITO', { identity: { caller: ALICE }, authorizer: { claims: { sub } } })).toBe(sub);
    expect(callerIdFrom('COGNITO', { identity: { caller: ALICE } })).toBeUndefined();
    expect(callerIdFrom('IAM', { authorizer: { claims: { sub } } })).toBeUndefined();
  });

  test.each([
    ['no identity', {}],
    ['a caller with a slash', { identity: { caller: 'AIDA/../x' } }],
    ['the system owner', { identity: { caller: SYSTEM_OWNER } }],
  ])('GIVEN %s WHEN identified THEN no caller id', (_name, context) => {
    expect(callerIdFrom('IAM', context as any)).toBeUndefined();
  });

  test.each([
    ['POST /jobs', () => createSubmitHandler({ clients: mockedClients().clients, config: testConfig() }), { json: { document: 'a.pdf' } }],
    ['GET /jobs/{jobId}', () => createStatusHandler({ clients: mockedClients().clients, config: testConfig() }), { httpMethod: 'GET', pathParameters: { jobId }, body: null }],
    ['POST /uploads', () => createUploadHandler({ clients: mockedClients().clients, config: testConfig() }), { json: { key: 'a.pdf' } }],
  ])('GIVEN a request without a caller identity WHEN %s THEN 403 NO_CALLER_IDENTITY (never a shared anonymous caller)', async (_route, make, overrides) => {
    const result = await make()(as(undefined, apiEvent(overrides as any)));
    expect(result.statusCode).toBe(403);
    expect(body(result).code).toBe('NO_CALLER_IDENTITY');
  });
});

describe('jobs belong to their caller', () => {
  test('GIVEN an API submission WHEN recorded THEN the record\'s owner is the caller', async () => {
    const m = submittable();
    const submit = createSubmitHandler({ clients: m.clients, config: testConfig() });
    expect((await submit(apiEvent({ json: { document: 'in/a.pdf' } }))).statusCode).toBe(202);
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ source: 'api', owner: ALICE });
  });

  test('GIVEN an S3-trigger batch WHEN recorded THEN the owner is the system, which no API caller is', async () => {
    const m = submittable();
    const ingest = createS3IngestHandler({ clients: m.clients, config: testConfig() });
    const event = { Records: [{ messageId: 'm1', body: JSON.stringify({ source: 'aws.s3', detail: { bucket: { name: INPUT_BUCKET }, object: { key: 'inbox/a.pdf', size: 10 } } }) }] } as SQSEvent;
    await ingest(event);
    expect(m.ddb.commandCalls(PutCommand)[0].args[0].input.Item).toMatchObject({ source: 's3', owner: SYSTEM_OWNER });
  });

  const record = { jobId, jobName: `ocr-${jobId}`, state: 'SUCCEEDED', documentCount: 1, children: 1, source: 'api', createdAt: 'x', updatedAt: 'x', counts: { succeeded: 1, failed: 0, byErrorCode: {} } };
  const summary = { documents: [{ index: 0, key: 'a.pdf', status: 'SUCCEEDED', resultKey: `results/${jobId}/results/00000.json` }], counts: { succeeded: 1, failed: 0 } };
  function withRecord(owner: string | undefined): MockedClients {
    const m = mockedClients();
    m.ddb.on(GetCommand).resolves({ Item: { ...record, ...(owner === undefined ? {} : { owner }) } });
    m.s3.on(ListObjectsV2Command).resolves({ Contents: [{ Key: `results/${jobId}/summaries/00000.json` }] });
    m.s3.on(GetObjectCommand).resolves({ Body: { transformToString: async () => JSON.stringify(summary) } as any });
    return m;
  }
  const get = { httpMethod: 'GET', pathParameters: { jobId }, body: null };

  test('GIVEN the owner WHEN it reads its job THEN 200 with pre-signed result URLs', async () => {
    const m = withRecord(ALICE);
    const result = await createStatusHandler({ clients: m.clients, config: testConfig() })(apiEvent(get));
    expect(result.statusCode).toBe(200);
    expect(body(result).documents[0].resultUrl).toContain(`results/${jobId}/results/00000.json`);
  });

  test.each([
    ['another caller\'s job', BOB, ALICE],
    ['an S3-trigger job', ALICE, SYSTEM_OWNER],
    ['a record without an owner', ALICE, undefined],
  ])('GIVEN %s WHEN read THEN 404 exactly as an unknown job, and no result is listed or signed', async (_name, reader, owner) => {
    const m = withRecord(owner);
    const status = createStatusHandler({ clients: m.clients, config: testConfig() });
    const result = await status(as(reader, apiEvent(get)));
    const unknown = mockedClients();
    unknown.ddb.on(GetCommand).resolves({});
    const missing = await createStatusHandler({ clients: unknown.clients, config: testConfig() })(as(reader, apiEvent(get)));
    expect(result.statusCode).toBe(404);
    expect({ ...body(result), timestamp: undefined }).toEqual({ ...body(missing), timestamp: undefined });
    expect(m.s3.calls()).toHaveLength(0);
  });

  test('GIVEN Cognito auth WHEN two users read one job THEN only its submitter sees it', async () => {
    const sub = (s: string) => ({ authorizer: { claims: { sub: s } } });
    const m = withRecord('sub-of-alice');
    const status = createStatusHandler({ clients: m.clients, config: testConfig({ callerAuth: 'COGNITO' }) });
    const event = (s: string) => apiEvent({ ...get, requestContext: { ...apiEvent().requestContext, ...sub(s) } as any });
    expect((await status(event('sub-of-alice'))).statusCode).toBe(200);
    expect((await status(event('sub-of-bob'))).statusCode).toBe(404);
  });
});

describe('uploads go to the caller\'s own folder', () => {
  test('GIVEN two callers WHEN they ask for the same key THEN each gets a URL in its own folder', async () => {
    const upload = createUploadHandler({ clients: mockedClients().clients, config: testConfig() });
    const alice = body(await upload(apiEvent({ json: { key: 'scan.pdf' } })));
    const bob = body(await upload(as(BOB, apiEvent({ json: { key: 'scan.pdf' } }))));
    expect(alice.key).toBe(`uploads/${ALICE}/scan.pdf`);
    expect(bob.key).toBe(`uploads/${BOB}/scan.pdf`);
    expect(bob.uploadUrl).toContain(`/uploads/${BOB}/scan.pdf?`);
  });
});

describe('documents a caller may name', () => {
  async function submitAs(caller: string, documents: string[], config: ProcessorConfig) {
    const m = submittable();
    const result = await createSubmitHandler({ clients: m.clients, config })(as(caller, apiEvent({ json: { documents } })));
    return { result, m };
  }

  test('GIVEN the default (no allowed prefixes) WHEN a caller names its own upload THEN it is submitted', async () => {
    const { result } = await submitAs(ALICE, [`uploads/${ALICE}/scan.pdf`], secureDefault());
    expect(result.statusCode).toBe(202);
  });

  test.each([
    ['another caller\'s upload', [`uploads/${BOB}/scan.pdf`]],
    ['a key elsewhere in the bucket', ['hr/salaries.pdf']],
    ['one bad key among good ones', [`uploads/${ALICE}/a.pdf`, 'hr/salaries.pdf']],
  ])('GIVEN the default WHEN a caller names %s THEN 403 DOCUMENT_NOT_ALLOWED before any S3 or Batch call', async (_name, documents) => {
    const { result, m } = await submitAs(ALICE, documents, secureDefault());
    expect(result.statusCode).toBe(403);
    expect(body(result)).toMatchObject({ code: 'DOCUMENT_NOT_ALLOWED' });
    expect(body(result).message).toContain(`'uploads/${ALICE}/'`);
    expect(m.s3.calls()).toHaveLength(0);
    expect(m.batch.calls()).toHaveLength(0);
    expect(m.ddb.calls()).toHaveLength(0);
  });

  test('GIVEN allowedInputPrefixes WHEN callers name keys THEN keys under them pass and others do not', async () => {
    const config = secureDefault({ allowedInputPrefixes: ['scans/', 'archive/2026/'] });
    expect((await submitAs(ALICE, ['scans/a.pdf', 'archive/2026/b.pdf'], config)).result.statusCode).toBe(202);
    expect((await submitAs(BOB, ['scans/a.pdf'], config)).result.statusCode).toBe(202);
    expect((await submitAs(ALICE, ['archive/2025/b.pdf'], config)).result.statusCode).toBe(403);
  });

  test('GIVEN the whole bucket allowed WHEN a caller names another caller\'s upload THEN still 403: uploads belong to their uploader', async () => {
    const config = secureDefault({ allowedInputPrefixes: [''] });
    expect((await submitAs(ALICE, ['anything/a.pdf'], config)).result.statusCode).toBe(202);
    expect((await submitAs(ALICE, [`uploads/${BOB}/scan.pdf`], config)).result.statusCode).toBe(403);
  });

  test('GIVEN callerScopedInput WHEN callers name keys THEN each only under <prefix><caller-id>/', async () => {
    const config = secureDefault({ allowedInputPrefixes: ['scans/'], callerScopedInput: true });
    expect((await submitAs(ALICE, [`scans/${ALICE}/a.pdf`], config)).result.statusCode).toBe(202);
    const bob = await submitAs(BOB, [`scans/${ALICE}/a.pdf`], config);
    expect(bob.result.statusCode).toBe(403);
    expect(body(bob.result).message).toContain(`'scans/${BOB}/'`);
    expect((await submitAs(ALICE, ['scans/shared.pdf'], config)).result.statusCode).toBe(403);
  });

  test('GIVEN one caller\'s Idempotency-Key WHEN another caller sends it with its own documents THEN a separate job owned by that caller', async () => {
    const m = submittable();
    const persistence = new DynamoDBPersistenceLayer({ tableName: 'idempotency', awsSdkV3Client: inMemoryIdempotencyClient().client });
    const submit = createSubmitHandler({ clients: m.clients, config: testConfig(), persistence });
    const headers = { 'Content-Type': 'application/json', 'Idempotency-Key': 'shared-key-0001' };
    const context = { getRemainingTimeInMillis: () => 29_000, functionName: 'submit', awsRequestId: 'r' } as any;
    await submit(apiEvent({ headers, json: { document: 'a.pdf' } }), context);
    await submit(as(BOB, apiEvent({ headers, json: { document: 'a.pdf' } })), context);
    expect(m.ddb.commandCalls(PutCommand).map((c) => c.args[0].input.Item?.owner)).toEqual([ALICE, BOB]);
  });
});

describe('BatchOcrProcessor access props', () => {
  const synth = synthProcessor;
  /** The environment of the submit handler (the construct gives every handler the same). */
  function submitFunctionEnv(t: Template): { [name: string]: string } {
    const [fn] = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('OcrSubmit'));
    return (fn[1] as any).Properties.Environment.Variables;
  }

  test('GIVEN defaults WHEN synthesized THEN IAM auth on every method, no API key, and callers limited to their uploads', () => {
    const t = synth({});
    for (const method of Object.values(t.findResources('AWS::ApiGateway::Method')) as any[]) {
      expect([method.Properties.HttpMethod, method.Properties.AuthorizationType]).toEqual([method.Properties.HttpMethod, 'AWS_IAM']);
      expect(method.Properties.ApiKeyRequired).toBeUndefined();
    }
    t.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    expect(submitFunctionEnv(t)).toMatchObject({ API_AUTHORIZATION: 'IAM', ALLOWED_INPUT_PREFIXES: '[]', CALLER_SCOPED_INPUT: 'false', UPLOAD_PREFIX: 'uploads/' });
  });

  test('GIVEN allowed prefixes on a shared bucket WHEN synthesized THEN the submit handler may read only the uploads and those prefixes', () => {
    const t = synth((stack) => ({ inputBucket: s3.Bucket.fromBucketName(stack, 'Shared', 'shared-inbox'), allowedInputPrefixes: ['ocr/'], callerScopedInput: true }));
    expect(submitFunctionEnv(t)).toMatchObject({ ALLOWED_INPUT_PREFIXES: '["ocr/"]', CALLER_SCOPED_INPUT: 'true' });
    const policies = Object.entries(t.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('OcrSubmitRole'));
    const objectResources = JSON.stringify(policies.map(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement
      .filter((st: any) => [].concat(st.Action).some((a: string) => a.startsWith('s3:GetObject')))
      .map((st: any) => st.Resource)));
    const objectPaths = [...new Set([...objectResources.matchAll(/:s3:::(shared-inbox\/[^"]*)/g)].map((m) => m[1]))].sort();
    expect(objectPaths).toEqual(['shared-inbox/ocr/*', 'shared-inbox/uploads/*']);
  });

  test('GIVEN Cognito WHEN synthesized THEN the handlers read the caller from the token', () => {
    const t = synth((stack) => ({ authorization: ApiAuthorization.COGNITO, userPool: cognito.UserPool.fromUserPoolId(stack, 'Users', 'us-east-1_example') }));
    expect(submitFunctionEnv(t).API_AUTHORIZATION).toBe('COGNITO');
  });

  test('GIVEN access and CORS props WHEN the handlers read the construct\'s environment THEN they enforce the same settings', () => {
    const t = synth((stack) => ({
      authorization: ApiAuthorization.COGNITO,
      userPool: cognito.UserPool.fromUserPoolId(stack, 'Users', 'us-east-1_example'),
      uploadPrefix: 'incoming/',
      allowedInputPrefixes: ['ocr/', 'archive/'],
      callerScopedInput: true,
      corsAllowOrigins: ['https://app.example.com'],
    }));
    const env = submitFunctionEnv(t);
    const names = ['UPLOAD_PREFIX', 'API_AUTHORIZATION', 'ALLOWED_INPUT_PREFIXES', 'CALLER_SCOPED_INPUT', 'CORS_ALLOW_ORIGINS'];
    const config = configFromEnv({ OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', JOB_TABLE_NAME: 'jobs', ...Object.fromEntries(names.map((n) => [n, env[n]])) });
    expect(config).toMatchObject({
      uploadPrefix: 'incoming/', callerAuth: 'COGNITO', allowedInputPrefixes: ['ocr/', 'archive/'], callerScopedInput: true, corsAllowOrigins: ['https://app.example.com'],
    });
  });

  test('GIVEN apiKeyRequired WHEN synthesized THEN the key meters callers on top of IAM authentication', () => {
    const t = synth({ apiKeyRequired: true });
    // POST /jobs, GET /jobs/{jobId}, POST /uploads and Textract's POST /
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM', ApiKeyRequired: true }, 4);
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'NONE', HttpMethod: Match.not('OPTIONS') }, 0);
    t.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
  });

  test.each([
    ['a prefix without a slash', { allowedInputPrefixes: ['scans'] }, "BatchOcrProcessor 'Ocr': 'allowedInputPrefixes' must hold relative prefixes ending with '/' (or '' for the whole bucket), got 'scans'"],
    ['a prefix inside the upload prefix', { allowedInputPrefixes: ['uploads/shared/'] }, "BatchOcrProcessor 'Ocr': 'allowedInputPrefixes' has 'uploads/shared/', inside 'uploadPrefix' ('uploads/'), whose folders belong to their uploaders"],
    ['callerScopedInput without prefixes', { callerScopedInput: true }, "BatchOcrProcessor 'Ocr': 'callerScopedInput' needs 'allowedInputPrefixes' (uploads are always per caller)"],
  ])('GIVEN %s WHEN constructed THEN it fails at synth naming the construct and the prop', (_name, props, message) => {
    expect(() => synth(props as BatchOcrProcessorProps)).toThrow(message);
  });
});
