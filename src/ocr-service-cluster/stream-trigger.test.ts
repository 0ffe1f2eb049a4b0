import * as http from 'http';
import type { AddressInfo } from 'net';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import * as events from './fixtures/stream-events.json';
import { handleStreamEvent, HandoffDependencies, handoffSettingsFromEnvironment, isHandoffRecord, processRequestOf } from './stream-trigger';
import { handler } from './stream-trigger.lambda';
import type { LogSink } from '../common/powertools';

const event = (name: keyof typeof events): DynamoDBStreamEvent => JSON.parse(JSON.stringify(events[name])) as DynamoDBStreamEvent;

interface Call { url: string; method: string; body: any; contentType: string | null }

/** A fake `fetch` that records calls and answers from a script (one entry per call; the last repeats). */
function fakeFetch(script: Array<number | Error | 'hang'>) {
  const calls: Call[] = [];
  const impl = (async (url: string, init: RequestInit) => {
    calls.push({
      url,
      method: String(init.method),
      body: JSON.parse(String(init.body)),
      contentType: new Headers(init.headers).get('content-type'),
    });
    const step = script[Math.min(calls.length - 1, script.length - 1)];
    if (step === 'hang') {
      // Never answers; only the caller's abort signal ends the call.
      return new Promise((_resolve, reject) => {
        init.signal!.addEventListener('abort', () => reject(init.signal!.reason));
      });
    }
    if (step instanceof Error) throw step;
    return new Response(JSON.stringify({ status: step }), { status: step, headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof globalThis.fetch;
  return { calls, impl };
}

interface LogLine { level: 'INFO' | 'WARN' | 'ERROR'; message: string; fields: Record<string, unknown> }

/** A LogSink that records every line. */
function recordingLog(): { log: LogSink; logs: LogLine[] } {
  const logs: LogLine[] = [];
  const line = (level: LogLine['level']) => (message: string, fields?: Record<string, unknown>) => { logs.push({ level, message, fields: fields ?? {} }); };
  return { log: { info: line('INFO'), warn: line('WARN'), error: line('ERROR') }, logs };
}

function deps(fetchImpl: typeof globalThis.fetch, timeoutMs = 1000) {
  const { log, logs } = recordingLog();
  const d: HandoffDependencies = {
    fetch: fetchImpl,
    serviceUrl: 'http://internal-ocr-123.us-east-1.elb.amazonaws.com',
    timeoutMs,
    log,
  };
  return { d, logs };
}

describe('stream trigger: which records are handed off', () => {
  test.each([
    ['insertSeedPending', true],
    ['insertUpperPending', true],
    ['insertWithoutFileType', true],
    ['modifyHandBack', true],
    ['insertProcessing', false],
    ['modifyClaim', false],
    ['modifyPendingTouched', false],
    ['modifySucceeded', false],
    ['remove', false],
  ] as const)('GIVEN the recorded event %s WHEN classified THEN hand-off is %s', (name, expected) => {
    expect(isHandoffRecord(event(name).Records[0])).toBe(expected);
  });

  test('GIVEN seed 003\'s lower-case pending WHEN the request is built THEN the wire status is PENDING with bucket, key and file_type', () => {
    expect(processRequestOf(event('insertSeedPending').Records[0])).toEqual({
      record: { document_id: 'doc-1', bucket: 'documents-bucket', key: 'incoming/invoice.pdf', status: 'PENDING', file_type: 'pdf' },
    });
  });
});

describe('stream trigger: hand-off outcomes', () => {
  test('GIVEN a pending INSERT WHEN the service answers 202 THEN it POSTs /process once with JSON and reports no failure', async () => {
    const f = fakeFetch([202]);
    const { d } = deps(f.impl);
    const result = await handleStreamEvent(event('insertSeedPending'), d);
    expect(result).toEqual({ batchItemFailures: [] });
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0].url).toBe('http://internal-ocr-123.us-east-1.elb.amazonaws.com/process');
    expect(f.calls[0].method).toBe('POST');
    expect(f.calls[0].contentType).toBe('application/json');
    expect(f.calls[0].body.record).toMatchObject({ document_id: 'doc-1', status: 'PENDING' });
  });

  test('GIVEN events that are not hand-offs WHEN handled THEN the service is never called', async () => {
    const f = fakeFetch([202]);
    const { d } = deps(f.impl);
    for (const name of ['insertProcessing', 'modifyClaim', 'modifyPendingTouched', 'modifySucceeded', 'remove'] as const) {
      expect(await handleStreamEvent(event(name), d)).toEqual({ batchItemFailures: [] });
    }
    expect(f.calls).toHaveLength(0);
  });

  test('GIVEN a hand-back (PROCESSING -> PENDING) WHEN handled THEN the document is handed off again', async () => {
    const f = fakeFetch([202]);
    const { d } = deps(f.impl);
    await handleStreamEvent(event('modifyHandBack'), d);
    expect(f.calls.map((c) => c.body.record.document_id)).toEqual(['doc-4']);
  });

  test('GIVEN the document is already claimed WHEN the service answers 409 THEN it is not retried', async () => {
    const f = fakeFetch([409]);
    const { d, logs } = deps(f.impl);
    expect(await handleStreamEvent(event('insertSeedPending'), d)).toEqual({ batchItemFailures: [] });
    expect(logs.map((l) => l.level)).toEqual(['INFO']);
  });

  test.each([400, 404, 413, 415, 422])('GIVEN a permanent rejection %i WHEN handled THEN it is logged as an error and not retried', async (status) => {
    const f = fakeFetch([status]);
    const { d, logs } = deps(f.impl);
    expect(await handleStreamEvent(event('insertSeedPending'), d)).toEqual({ batchItemFailures: [] });
    expect(logs).toEqual([expect.objectContaining({ level: 'ERROR', fields: expect.objectContaining({ documentId: 'doc-1', status }) })]);
  });

  test.each([408, 429, 500, 502, 503, 504])('GIVEN a transient answer %i WHEN handled THEN the record is reported as a batch item failure', async (status) => {
    const f = fakeFetch([status]);
    const { d } = deps(f.impl);
    const record = event('insertSeedPending').Records[0];
    expect(await handleStreamEvent(event('insertSeedPending'), d)).toEqual({ batchItemFailures: [{ itemIdentifier: record.dynamodb!.SequenceNumber }] });
  });

  test('GIVEN three records WHEN the second hand-off fails THEN it reports the second and does not call for the third', async () => {
    const f = fakeFetch([202, 503]);
    const { d } = deps(f.impl);
    const batch = event('batchOfThree');
    const result = await handleStreamEvent(batch, d);
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[1].dynamodb!.SequenceNumber }] });
    expect(f.calls.map((c) => c.body.record.document_id)).toEqual(['doc-10', 'doc-11']);
  });

  test('GIVEN the load balancer is unreachable WHEN fetch throws THEN the record is retried, not lost', async () => {
    const f = fakeFetch([new TypeError('fetch failed')]);
    const { d, logs } = deps(f.impl);
    const result = await handleStreamEvent(event('insertUpperPending'), d);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(logs[0]).toMatchObject({ level: 'WARN', fields: { documentId: 'doc-2', error: 'TypeError: fetch failed' } });
  });

  test('GIVEN the service never answers WHEN the hand-off timeout passes THEN the call is aborted and the record retried', async () => {
    const f = fakeFetch(['hang']);
    const { d, logs } = deps(f.impl, 100);
    const result = await handleStreamEvent(event('insertSeedPending'), d);
    expect(result.batchItemFailures).toHaveLength(1);
    expect(logs[0].fields.error).toBe('timed out after 100 ms');
  });

  test('GIVEN a pending record without a document id WHEN handled THEN it is skipped with an error log', async () => {
    const f = fakeFetch([202]);
    const { d, logs } = deps(f.impl);
    const broken = event('insertSeedPending');
    delete (broken.Records[0].dynamodb as any).NewImage.document_id;
    delete (broken.Records[0].dynamodb as any).Keys;
    expect(await handleStreamEvent(broken, d)).toEqual({ batchItemFailures: [] });
    expect(f.calls).toHaveLength(0);
    expect(logs[0].level).toBe('ERROR');
  });
});

describe('stream trigger: configuration', () => {
  test('GIVEN a URL with a trailing slash WHEN read THEN the slash is dropped and the default timeout is 10 s', () => {
    const d = handoffSettingsFromEnvironment({ OCR_SERVICE_URL: 'https://ocr.example.com/' });
    expect(d.serviceUrl).toBe('https://ocr.example.com');
    expect(d.timeoutMs).toBe(10000);
  });

  test.each([
    [{}, /OCR_SERVICE_URL must be an http\(s\) URL/],
    [{ OCR_SERVICE_URL: 'ftp://x' }, /OCR_SERVICE_URL must be an http\(s\) URL/],
    [{ OCR_SERVICE_URL: 'http://x', OCR_HANDOFF_TIMEOUT_MS: 'soon' }, /OCR_HANDOFF_TIMEOUT_MS must be an integer >= 100/],
    [{ OCR_SERVICE_URL: 'http://x', OCR_HANDOFF_TIMEOUT_MS: '5' }, /OCR_HANDOFF_TIMEOUT_MS must be an integer >= 100/],
  ])('GIVEN the environment %j WHEN read THEN it fails clearly', (env, message) => {
    expect(() => handoffSettingsFromEnvironment(env)).toThrow(message);
  });
});

describe('stream trigger: over real HTTP', () => {
  let server: http.Server;
  let baseUrl: string;
  const received: Array<{ method?: string; url?: string; contentType?: string; body: any }> = [];
  // Answer per document id: a status code, or 'hang' to never answer.
  const answers: Record<string, number | 'hang'> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (chunk) => { raw += chunk; });
      req.on('end', () => {
        const body = JSON.parse(raw);
        received.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], body });
        const answer = answers[body.record.document_id] ?? 202;
        if (answer === 'hang') return; // the client's timeout must end this
        res.writeHead(answer, { 'content-type': 'application/json' }).end(JSON.stringify({ document_id: body.record.document_id }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('GIVEN a local service WHEN a batch is handed off with the real fetch THEN it POSTs JSON to /process and retries only the failed record', async () => {
    answers['doc-10'] = 202;
    answers['doc-11'] = 409;
    answers['doc-12'] = 503;
    const settings = handoffSettingsFromEnvironment({ OCR_SERVICE_URL: baseUrl, OCR_HANDOFF_TIMEOUT_MS: '2000' });
    const { log, logs } = recordingLog();
    const batch = event('batchOfThree');
    const result = await handleStreamEvent(batch, { ...settings, fetch: globalThis.fetch, log });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: batch.Records[2].dynamodb!.SequenceNumber }] });
    expect(received.map((r) => [r.method, r.url, r.contentType, r.body.record.document_id])).toEqual([
      ['POST', '/process', 'application/json', 'doc-10'],
      ['POST', '/process', 'application/json', 'doc-11'],
      ['POST', '/process', 'application/json', 'doc-12'],
    ]);
    expect(logs.map((l) => `${l.level} ${l.message}`)).toEqual([
      'INFO handed off',
      'INFO already claimed or finished by the service',
      'WARN the service could not take the record now; it will be retried',
    ]);
  });

  test('GIVEN a service that accepts the connection but never answers WHEN handed off THEN the call is aborted at the timeout and retried', async () => {
    answers['doc-1'] = 'hang';
    const settings = handoffSettingsFromEnvironment({ OCR_SERVICE_URL: baseUrl, OCR_HANDOFF_TIMEOUT_MS: '200' });
    const result = await handleStreamEvent(event('insertSeedPending'), { ...settings, fetch: globalThis.fetch, log: recordingLog().log });
    expect(result.batchItemFailures).toHaveLength(1);
  });

  test('GIVEN nothing listens on the port WHEN handed off THEN the connection error means retry', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const settings = handoffSettingsFromEnvironment({ OCR_SERVICE_URL: `http://127.0.0.1:${port}` });
    const result = await handleStreamEvent(event('insertSeedPending'), { ...settings, fetch: globalThis.fetch, log: recordingLog().log });
    expect(result.batchItemFailures).toHaveLength(1);
  });

  test('GIVEN the Lambda entry point configured by the environment WHEN invoked THEN it hands the record to the service and logs structured JSON', async () => {
    answers['doc-2'] = 202;
    const before = received.length;
    const env = { ...process.env };
    const written: string[] = [];
    const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: any) => { written.push(String(chunk)); return true; });
    try {
      process.env.OCR_SERVICE_URL = baseUrl;
      process.env.OCR_HANDOFF_TIMEOUT_MS = '2000';
      expect(await handler(event('insertUpperPending'))).toEqual({ batchItemFailures: [] });
    } finally {
      stdout.mockRestore();
      process.env = env;
    }
    expect(received.slice(before).map((r) => r.body.record.document_id)).toEqual(['doc-2']);
    const lines = written.join('').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'INFO', message: 'handed off', documentId: 'doc-2', status: 202 }));
  });
});
