/**
 * X-Ray tracing of the HTTP service: segments and subsegments received by a real UDP listener
 * standing in for the tracing sidecar (the X-Ray daemon reads the same datagrams).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { textPdf } from '../../tools/pdfwriter.ts';
import type { App } from '../../src/service/app.ts';
import { parseServiceConfig, ServiceConfigError } from '../../src/service/config.ts';
import { DefaultSampler, newTraceId, parseDaemonAddress, parseTraceHeader, Tracer } from '../../src/service/xray.ts';
import { countingEngine, getJson, startTestApp, upload, waitFinished, type CountingEngine } from './helpers.ts';

describe('trace header, daemon address, sampling', () => {
  test('GIVEN an ALB trace header WHEN parsed THEN root, parent and decision are read; malformed parts are ignored', () => {
    const root = '1-5759e988-bd862e3fe1be46a994272793';
    assert.deepEqual(parseTraceHeader(`Root=${root};Parent=53995c3f42cd8ad8;Sampled=1`), { root, parent: '53995c3f42cd8ad8', sampled: '1' });
    assert.deepEqual(parseTraceHeader(`Self=1-67891234-12456789abcdef012345678;Root=${root}`), { root });
    assert.deepEqual(parseTraceHeader('Root=not-a-trace;Parent=xyz;Sampled=yes'), {});
    assert.deepEqual(parseTraceHeader(undefined), {});
  });

  test('GIVEN the time WHEN a trace id is made THEN it has the X-Ray form with the epoch seconds in hex', () => {
    const id = newTraceId(Date.UTC(2026, 11, 1));
    assert.match(id, /^1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    assert.equal(parseInt(id.slice(2, 10), 16), Date.UTC(2026, 11, 1) / 1000);
  });

  test('GIVEN AWS_XRAY_DAEMON_ADDRESS forms WHEN parsed THEN the UDP address is used, nonsense is a config error', () => {
    assert.deepEqual(parseDaemonAddress('127.0.0.1:2000'), { host: '127.0.0.1', port: 2000 });
    assert.deepEqual(parseDaemonAddress('tcp:10.0.0.5:2001 udp:10.0.0.5:2002'), { host: '10.0.0.5', port: 2002 });
    assert.deepEqual(parseDaemonAddress(':2000'), { host: '127.0.0.1', port: 2000 });
    assert.throws(() => parseServiceConfig({ AWS_XRAY_DAEMON_ADDRESS: 'xray-daemon' }), (e: Error) => e instanceof ServiceConfigError && /AWS_XRAY_DAEMON_ADDRESS/.test(e.message));
    assert.equal(parseServiceConfig({}).xrayDaemonAddress, null);
  });

  test('GIVEN the default rule WHEN many requests arrive in one second THEN one is kept by the reservoir, then 5% by rate', () => {
    let r = 0.5;
    const sampler = new DefaultSampler(1, 0.05, () => r);
    const t = 1_700_000_000_000;
    assert.equal(sampler.sample(t), true, 'the first request of a second');
    assert.equal(sampler.sample(t + 10), false, 'then the rate: 0.5 is above 5%');
    r = 0.01;
    assert.equal(sampler.sample(t + 20), true, 'a draw below 5% is sampled');
    r = 0.5;
    assert.equal(sampler.sample(t + 1000), true, 'the next second has a fresh reservoir');
  });
});

describe('subsegments', () => {
  test('GIVEN work that throws WHEN traced THEN the error goes on, and the subsegment is a fault with its cause', async () => {
    const sent: any[] = [];
    const tracer = new Tracer({ daemonAddress: '127.0.0.1:2000', serviceName: 's', send: (d) => sent.push(JSON.parse(d.toString().split('\n')[1])) });
    const parent = { traceId: newTraceId(), parentId: '0123456789abcdef', sampled: true };
    await assert.rejects(tracer.subsegment('read document', async () => { throw new Error('S3 unreachable'); }, { parent }), /S3 unreachable/);
    assert.equal(sent.length, 1);
    assert.equal(sent[0].fault, true);
    assert.equal(sent[0].parent_id, parent.parentId);
    assert.equal(sent[0].cause.exceptions[0].message, 'S3 unreachable');
  });

  test('GIVEN no sampled trace WHEN work is traced THEN it runs and nothing is sent', async () => {
    const sent: Buffer[] = [];
    const tracer = new Tracer({ daemonAddress: '127.0.0.1:2000', serviceName: 's', send: (d) => sent.push(d) });
    assert.equal(await tracer.subsegment('ocr', async () => 7), 7);
    assert.equal(await tracer.subsegment('ocr', async () => 8, { parent: { traceId: newTraceId(), parentId: '0123456789abcdef', sampled: false } }), 8);
    assert.equal(sent.length, 0);
  });
});

describe('the service traced to a sidecar', () => {
  let engine: CountingEngine;
  let app: App;
  let daemon: Socket;
  const received: any[] = [];
  const rawHeaders: string[] = [];

  before(async () => {
    daemon = createSocket('udp4');
    daemon.on('message', (msg) => {
      const text = msg.toString('utf8');
      const nl = text.indexOf('\n');
      rawHeaders.push(text.slice(0, nl));
      received.push(JSON.parse(text.slice(nl + 1)));
    });
    await new Promise<void>((resolve) => daemon.bind(0, '127.0.0.1', resolve));
    engine = countingEngine({ workers: 1, concurrency: 1 });
    const address = `127.0.0.1:${(daemon.address() as AddressInfo).port}`;
    // every request without a decision is sampled here, so that the test does not depend on chance
    const tracer = new Tracer({ daemonAddress: address, serviceName: 'ocr-service', sampler: { sample: () => true } });
    app = await startTestApp({ AWS_XRAY_DAEMON_ADDRESS: address }, { engine, tracer });
  });
  after(async () => {
    await app.stop(0);
    await engine.shutdown();
    daemon.close();
  });

  async function entitiesOf(traceId: string, count: number): Promise<any[]> {
    const until = Date.now() + 30_000;
    for (;;) {
      const mine = received.filter((e) => e.trace_id === traceId);
      if (mine.length >= count) return mine;
      if (Date.now() > until) assert.fail(`expected ${count} entities for ${traceId}, got ${JSON.stringify(mine)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  test('GIVEN an upload carrying the ALB trace header WHEN processed THEN the request segment and its OCR subsegments join that trace', async () => {
    const root = newTraceId();
    const form = new FormData();
    form.append('document_id', 'traced-1');
    form.append('file', new Blob([new Uint8Array(textPdf([['Traced invoice 42']]))]), 'traced.pdf');
    const res = await fetch(`${app.url}/extract`, { method: 'POST', body: form, headers: { 'x-amzn-trace-id': `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1` } });
    assert.equal(res.status, 202);
    assert.equal(res.headers.get('x-amzn-trace-id'), `Root=${root}`);
    await res.json();
    assert.equal((await waitFinished(app.url, 'traced-1')).status, 'SUCCEEDED');

    const entities = await entitiesOf(root, 4);
    assert.ok(rawHeaders.every((h) => h === '{"format":"json","version":1}'), 'each datagram starts with the X-Ray header line');
    const segment = entities.find((e) => !e.type);
    assert.equal(segment.name, 'ocr-service');
    assert.equal(segment.parent_id, '53995c3f42cd8ad8', 'the ALB is the parent');
    assert.equal(segment.http.request.method, 'POST');
    assert.equal(segment.http.request.url, '/extract');
    assert.equal(segment.http.response.status, 202);
    assert.ok(segment.end_time >= segment.start_time);
    assert.equal(segment.fault, undefined);

    const sub = (name: string) => entities.find((e) => e.type === 'subsegment' && e.name === name);
    const processing = sub('process document');
    const ocr = sub('ocr');
    const store = sub('store result');
    assert.ok(processing && ocr && store, JSON.stringify(entities.map((e) => e.name)));
    assert.equal(processing.parent_id, segment.id, 'the background work hangs under the request that started it');
    assert.equal(processing.annotations.document_id, 'traced-1');
    assert.equal(ocr.parent_id, processing.id);
    assert.equal(store.parent_id, processing.id);
    assert.deepEqual(ocr.annotations, { status: 'SUCCEEDED', page_count: 1 });
    assert.ok(ocr.start_time >= processing.start_time && ocr.end_time <= processing.end_time);
  });

  test('GIVEN a request the ALB did not sample WHEN answered THEN nothing is sent, and the trace id is still returned', async () => {
    const unsampled = newTraceId();
    const res = await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${unsampled};Sampled=0` } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-amzn-trace-id'), `Root=${unsampled}`);
    await res.json();
    // a sampled request afterwards arrives; the unsampled one never does
    const sampled = newTraceId();
    await getJson(`${app.url}/health`).then(() => fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${sampled};Sampled=1` } })).then((r) => r.json());
    await entitiesOf(sampled, 1);
    assert.equal(received.filter((e) => e.trace_id === unsampled).length, 0);
  });

  test('GIVEN a caller asking for a decision (Sampled=?) WHEN answered THEN the response says it', async () => {
    const root = newTraceId();
    const res = await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${root};Sampled=?` } });
    await res.json();
    assert.equal(res.headers.get('x-amzn-trace-id'), `Root=${root};Sampled=1`);
  });

  test('GIVEN an unknown route and no trace header WHEN answered THEN a new trace is started and its segment is flagged as a client error', async () => {
    const res = await fetch(`${app.url}/nope`);
    assert.equal(res.status, 404);
    await res.json();
    const root = parseTraceHeader(res.headers.get('x-amzn-trace-id') ?? undefined).root;
    assert.ok(root, 'a trace id is returned');
    const [segment] = await entitiesOf(root, 1);
    assert.equal(segment.http.response.status, 404);
    assert.equal(segment.error, true);
    assert.equal(segment.fault, undefined);
    assert.equal(segment.parent_id, undefined);
  });

  test('GIVEN an upload of an empty file WHEN refused THEN its segment carries the 400 and no processing subsegment exists', async () => {
    const res = await upload(app.url, new Uint8Array(0), 'empty.pdf', { document_id: 'traced-empty' });
    assert.equal(res.status, 400);
    const root = parseTraceHeader(res.headers.get('x-amzn-trace-id') ?? undefined).root!;
    const [segment] = await entitiesOf(root, 1);
    assert.equal(segment.error, true);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(received.filter((e) => e.trace_id === root && e.type === 'subsegment').length, 0);
  });
});
