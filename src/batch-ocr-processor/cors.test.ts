/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * CORS on the handlers' own responses: with a Lambda proxy integration the OPTIONS preflight is not
 * enough, every actual response (errors included) must carry Access-Control-Allow-Origin for an
 * allowed origin, or the browser hides it from the app.
 */
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { corsHeaders, createStatusHandler, createSubmitHandler, createUploadHandler } from './api';
import type { ProcessorConfig } from './jobs';
import { createTextractHandler } from './textract-api';
import { ALICE, apiEvent, mockedClients, synthProcessor, testConfig } from '../../test/helpers/batch-ocr-api';

const APP = 'https://app.example.com';
const OTHER_APP = 'https://admin.example.com';
const jobId = '0b0e7c1e-1111-4222-8333-444455556666';

/** One handler call from a browser on `origin`, for each kind of response the API gives. */
type Call = (config: ProcessorConfig, origin?: string) => Promise<APIGatewayProxyResult>;

function fromOrigin(event: APIGatewayProxyEvent, origin?: string): APIGatewayProxyEvent {
  return origin === undefined ? event : { ...event, headers: { ...event.headers, origin } };
}

const calls: [string, number, Call][] = [
  ['POST /jobs accepted', 202, (config, origin) => {
    const m = mockedClients();
    m.s3.on(HeadObjectCommand).resolves({ ContentLength: 10 });
    m.ddb.on(PutCommand).resolves({});
    m.ddb.on(UpdateCommand).resolves({});
    m.batch.on(SubmitJobCommand).resolves({ jobId: 'b', jobName: 'x' });
    return createSubmitHandler({ clients: m.clients, config })(fromOrigin(apiEvent({ json: { document: 'a.pdf' } }), origin));
  }],
  ['POST /jobs invalid', 400, (config, origin) => createSubmitHandler({ clients: mockedClients().clients, config })(fromOrigin(apiEvent({ json: { document: '../a.pdf' } }), origin))],
  ['POST /jobs wrong media type', 415, (config, origin) => createSubmitHandler({ clients: mockedClients().clients, config })(
    fromOrigin(apiEvent({ json: { document: 'a.pdf' }, headers: { 'Content-Type': 'text/plain' } }), origin))],
  ['POST /jobs document not allowed', 403, (config, origin) => createSubmitHandler({ clients: mockedClients().clients, config: { ...config, allowedInputPrefixes: [] } })(
    fromOrigin(apiEvent({ json: { document: 'hr/a.pdf' } }), origin))],
  ['POST /jobs AWS failure', 500, (config, origin) => {
    const m = mockedClients();
    m.s3.on(HeadObjectCommand).rejects(Object.assign(new Error('AccessDenied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    return createSubmitHandler({ clients: m.clients, config })(fromOrigin(apiEvent({ json: { document: 'a.pdf' } }), origin));
  }],
  ['GET /jobs/{jobId} found', 200, (config, origin) => {
    const m = mockedClients();
    m.ddb.on(GetCommand).resolves({ Item: { jobId, jobName: `ocr-${jobId}`, state: 'RUNNING', documentCount: 1, owner: ALICE, createdAt: 'x', updatedAt: 'x' } });
    m.s3.on(ListObjectsV2Command).resolves({});
    m.s3.on(GetObjectCommand).rejects(new Error('not read'));
    return createStatusHandler({ clients: m.clients, config })(fromOrigin(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null }), origin));
  }],
  ['GET /jobs/{jobId} not found', 404, (config, origin) => {
    const m = mockedClients();
    m.ddb.on(GetCommand).resolves({});
    return createStatusHandler({ clients: m.clients, config })(fromOrigin(apiEvent({ httpMethod: 'GET', pathParameters: { jobId }, body: null }), origin));
  }],
  ['GET /jobs/{jobId} bad id', 400, (config, origin) => createStatusHandler({ clients: mockedClients().clients, config })(
    fromOrigin(apiEvent({ httpMethod: 'GET', pathParameters: { jobId: 'nope' }, body: null }), origin))],
  ['POST /uploads URL', 200, (config, origin) => {
    const m = mockedClients();
    m.s3.on(PutObjectCommand).resolves({});
    return createUploadHandler({ clients: m.clients, config })(fromOrigin(apiEvent({ path: '/uploads', json: { key: 'a.pdf' } }), origin));
  }],
  ['POST /uploads invalid', 400, (config, origin) => createUploadHandler({ clients: mockedClients().clients, config })(fromOrigin(apiEvent({ path: '/uploads', json: { key: '/a.pdf' } }), origin))],
  ['POST / (Textract) unknown operation', 400, (config, origin) => createTextractHandler({ clients: mockedClients().clients, config })(
    fromOrigin(apiEvent({ path: '/', body: '{}', headers: { 'X-Amz-Target': 'Textract.DetectDocumentText', 'Content-Type': 'application/x-amz-json-1.1' } }), origin))],
  ['POST / (Textract) Get of an unknown job', 400, (config, origin) => {
    const m = mockedClients();
    m.ddb.on(GetCommand).resolves({});
    return createTextractHandler({ clients: m.clients, config })(fromOrigin(apiEvent({
      path: '/', body: JSON.stringify({ JobId: jobId }), headers: { 'X-Amz-Target': 'Textract.GetDocumentTextDetection', 'Content-Type': 'application/x-amz-json-1.1' },
    }), origin));
  }],
  ['any route without a caller identity', 403, (config, origin) => {
    const event = apiEvent({ path: '/uploads', json: { key: 'a.pdf' } });
    const anonymous = { ...event, requestContext: { ...event.requestContext, identity: {} as any } };
    return createUploadHandler({ clients: mockedClients().clients, config })(fromOrigin(anonymous, origin));
  }],
];

describe.each(calls)('CORS on %s', (_name, statusCode, call) => {
  const listed = testConfig({ corsAllowOrigins: [APP, OTHER_APP] });

  test('GIVEN an allowed origin WHEN answered THEN the response allows exactly that origin and varies by Origin', async () => {
    const result = await call(listed, APP);
    expect(result.statusCode).toBe(statusCode);
    expect(result.headers).toMatchObject({ 'Access-Control-Allow-Origin': APP, 'Vary': 'Origin' });
    expect((await call(listed, OTHER_APP)).headers?.['Access-Control-Allow-Origin']).toBe(OTHER_APP);
  });

  test('GIVEN an origin not in the list, or none WHEN answered THEN no Access-Control-Allow-Origin (the browser keeps the response from that page), still Vary: Origin', async () => {
    for (const origin of ['https://evil.example.net', undefined]) {
      const result = await call(listed, origin);
      expect(result.statusCode).toBe(statusCode);
      expect(result.headers?.['Access-Control-Allow-Origin']).toBeUndefined();
      expect(result.headers?.Vary).toBe('Origin');
    }
  });

  test('GIVEN any origin (*) WHEN answered THEN Access-Control-Allow-Origin: *', async () => {
    const result = await call(testConfig({ corsAllowOrigins: ['*'] }), 'https://anyone.example.org');
    expect(result.statusCode).toBe(statusCode);
    expect(result.headers?.['Access-Control-Allow-Origin']).toBe('*');
  });

  test('GIVEN no CORS configured WHEN answered THEN no CORS headers at all', async () => {
    const result = await call(testConfig(), APP);
    expect(result.statusCode).toBe(statusCode);
    expect(Object.keys(result.headers ?? {}).filter((h) => /^(access-control-|vary$)/i.test(h))).toEqual([]);
    expect(result.headers?.['Content-Type']).toMatch(/^application\/(json|x-amz-json-1\.1)$/);
  });
});

describe('corsHeaders', () => {
  test('GIVEN the Origin header in any letter case WHEN matched THEN it is found; the origin value itself must match exactly', () => {
    expect(corsHeaders([APP], { ORIGIN: APP })).toEqual({ 'Access-Control-Allow-Origin': APP, 'Vary': 'Origin' });
    expect(corsHeaders([APP], { origin: `${APP}/` })).toEqual({ Vary: 'Origin' });
    expect(corsHeaders([APP], { origin: 'https://app.example.com.evil.net' })).toEqual({ Vary: 'Origin' });
  });
});

describe('BatchOcrProcessor CORS props', () => {
  const synth = synthProcessor;

  test('GIVEN corsAllowOrigins WHEN synthesized THEN every API handler gets the origins in its environment', () => {
    const t = synth({ corsAllowOrigins: [APP, OTHER_APP] });
    const functions = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) => /^Ocr(Submit|Status|Upload)[A-Z0-9]/.test(id));
    expect(functions).toHaveLength(3);
    for (const [, fn] of functions as [string, any][]) {
      expect(JSON.parse(fn.Properties.Environment.Variables.CORS_ALLOW_ORIGINS)).toEqual([APP, OTHER_APP]);
    }
  });

  test('GIVEN corsAllowOrigins WHEN synthesized THEN the preflight allows the headers a browser\'s Textract client and SigV4 send', () => {
    const t = synth({ corsAllowOrigins: [APP] });
    const options = Object.values(t.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'OPTIONS' } })) as any[];
    expect(options.length).toBeGreaterThan(0);
    for (const method of options) {
      const allowed = method.Properties.Integration.IntegrationResponses[0].ResponseParameters['method.response.header.Access-Control-Allow-Headers'];
      const headers = (allowed as string).replace(/^'|'$/g, '').split(',').map((h) => h.toLowerCase());
      expect(headers).toEqual(expect.arrayContaining([
        'x-amz-target', 'x-amz-user-agent', 'amz-sdk-invocation-id', 'amz-sdk-request', 'x-amz-content-sha256', 'x-amz-date',
        'x-amz-security-token', 'authorization', 'content-type',
      ]));
    }
  });

  test('GIVEN an allowed origin WHEN the Textract handler answers THEN its request id and error type are exposed to the browser', async () => {
    const result = await createTextractHandler({ clients: mockedClients().clients, config: testConfig({ corsAllowOrigins: [APP] }) })(
      fromOrigin(apiEvent({ path: '/', body: '{}', headers: { 'X-Amz-Target': 'Textract.DetectDocumentText' } }), APP));
    expect(result.headers).toMatchObject({ 'Access-Control-Allow-Origin': APP, 'Access-Control-Expose-Headers': 'x-amzn-RequestId, x-amzn-ErrorType' });
  });

  test('GIVEN no corsAllowOrigins WHEN synthesized THEN no handler has CORS origins', () => {
    const t = synth({});
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function')) as any[]) {
      expect(fn.Properties.Environment?.Variables?.CORS_ALLOW_ORIGINS).toBeUndefined();
    }
  });

  test.each([
    ['a URL with a path', ['https://app.example.com/'], "BatchOcrProcessor 'Ocr': 'corsAllowOrigins' has 'https://app.example.com/', not an origin such as 'https://app.example.com'"],
    ['an upper-case host', ['https://App.example.com'], "BatchOcrProcessor 'Ocr': 'corsAllowOrigins' has 'https://App.example.com', not an origin"],
    ['* with other origins', ['*', APP], "BatchOcrProcessor 'Ocr': 'corsAllowOrigins' with '*' (any origin) must list nothing else"],
  ])('GIVEN %s WHEN constructed THEN it fails at synth naming the construct and the prop', (_name, corsAllowOrigins, message) => {
    expect(() => synth({ corsAllowOrigins })).toThrow(message);
  });
});
