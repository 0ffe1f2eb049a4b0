/**
 * OpenTelemetry tracing of the HTTP service: the spans it exports over OTLP/HTTP, received by a real
 * HTTP server in this process standing in for the collector sidecar.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace-base';
import { textPdf } from '../../tools/pdfwriter.ts';
import type { App } from '../../src/service/app.ts';
import { parseServiceConfig, ServiceConfigError } from '../../src/service/config.ts';
import { LocalDocumentStore } from '../../src/service/stores.ts';
import { DefaultRuleSampler, routeOf, Tracing } from '../../src/service/tracing.ts';
import { countingEngine, startTestApp, waitFinished, type CountingEngine } from './helpers.ts';

/** One span as OTLP/JSON carries it, attributes flattened. */
interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status: { code?: number; message?: string };
  attributes: Record<string, unknown>;
  serviceName: unknown;
}

/** An OTLP/HTTP traces receiver: POST /v1/traces with OTLP/JSON (the exporter's encoding), as a collector's otlp receiver takes it. */
async function startReceiver(): Promise<{ server: Server; url: string; spans: ReceivedSpan[]; requests: number }> {
  const state = { server: undefined as unknown as Server, url: '', spans: [] as ReceivedSpan[], requests: 0 };
  const value = (v: any): unknown => v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : v.boolValue ?? v.doubleValue);
  const flat = (attrs: any[] = []): Record<string, unknown> => Object.fromEntries(attrs.map((a) => [a.key, value(a.value)]));
  state.server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      state.requests++;
      assert.equal(req.method, 'POST');
      assert.equal(req.url, '/v1/traces');
      assert.match(String(req.headers['content-type']), /^application\/json/);
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const payload = JSON.parse(body.toString('utf8'));
      for (const rs of payload.resourceSpans ?? []) {
        const serviceName = flat(rs.resource?.attributes)['service.name'];
        for (const ss of rs.scopeSpans ?? []) {
          for (const s of ss.spans ?? []) {
            state.spans.push({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: s.kind, status: s.status ?? {}, attributes: flat(s.attributes), serviceName });
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(state.server.address() as AddressInfo).port}/v1/traces`;
  return state;
}

/** The X-Ray form of an OpenTelemetry trace id. */
const xrayTraceId = (otel: string): string => `1-${otel.slice(0, 8)}-${otel.slice(8)}`;
const newOtelTraceId = (): string => Math.floor(Date.now() / 1000).toString(16).padStart(8, '0') + [...crypto.getRandomValues(new Uint8Array(12))].map((b) => b.toString(16).padStart(2, '0')).join('');
const ALB_PARENT = '53995c3f42cd8ad8';
const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

describe('configuration and sampling', () => {
  test('GIVEN OTEL_EXPORTER_OTLP_TRACES_ENDPOINT WHEN parsed THEN an http(s) URL turns tracing on, anything else is a configuration error', () => {
    assert.equal(parseServiceConfig({}).otlpTracesEndpoint, null);
    assert.equal(parseServiceConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://127.0.0.1:4318/v1/traces' }).otlpTracesEndpoint, 'http://127.0.0.1:4318/v1/traces');
    for (const bad of ['127.0.0.1:2000', 'udp://127.0.0.1:2000']) {
      assert.throws(() => parseServiceConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: bad }), (e: Error) => e instanceof ServiceConfigError && /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT/.test(e.message), bad);
    }
  });

  test('GIVEN X-Ray\'s default rule WHEN many requests arrive in one second THEN the first is kept, then 5 % of the rest', () => {
    let now = 1_700_000_000_000;
    let draw = 0.5;
    const sampler = new DefaultRuleSampler({ random: () => draw, now: () => now });
    const decide = () => sampler.shouldSample().decision;
    assert.equal(decide(), SamplingDecision.RECORD_AND_SAMPLED, 'the first request of a second');
    assert.equal(decide(), SamplingDecision.NOT_RECORD, 'then the rate: 0.5 is above 5 %');
    draw = 0.01;
    assert.equal(decide(), SamplingDecision.RECORD_AND_SAMPLED, 'a draw below 5 % is kept');
    draw = 0.5;
    now += 1000;
    assert.equal(decide(), SamplingDecision.RECORD_AND_SAMPLED, 'the next second has a fresh reservoir');
  });

  test('GIVEN request paths WHEN named THEN document ids do not reach span names', () => {
    assert.equal(routeOf('/check-status/doc-1'), '/check-status/{document_id}');
    assert.equal(routeOf('/result/a%2Fb'), '/result/{document_id}');
    assert.equal(routeOf('/extract'), '/extract');
  });
});

describe('the service traced to an OTLP collector', () => {
  let engine: CountingEngine;
  let app: App;
  let tracing: Tracing;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const documents = new LocalDocumentStore(null);
  /** What the local rule decides for requests without a decision: off, so that only the tests' headers make traces. */
  let localDecision = SamplingDecision.NOT_RECORD;
  const sampler: Sampler = { shouldSample: () => ({ decision: localDecision }), toString: () => 'test sampler' };

  before(async () => {
    receiver = await startReceiver();
    engine = countingEngine({ workers: 1, concurrency: 1 });
    tracing = new Tracing({ endpoint: receiver.url, serviceName: 'ocr-service-under-test', sampler });
    app = await startTestApp({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url }, { engine, documents, tracing });
  });
  after(async () => {
    await app.stop(0);
    await engine.shutdown();
    receiver.server.close();
  });

  /** Flushes the exporter until `count` spans of the trace have arrived (bounded). */
  async function spansOf(traceId: string, count: number): Promise<ReceivedSpan[]> {
    const until = Date.now() + 30_000;
    for (;;) {
      await tracing.flush();
      const mine = receiver.spans.filter((s) => s.traceId === traceId);
      if (mine.length >= count) return mine;
      if (Date.now() > until) assert.fail(`expected ${count} spans of ${traceId}, got ${JSON.stringify(mine.map((s) => s.name))}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * A request whose header `headerOf(root)` leaves the decision to the local rule, while it says no:
   * answered Sampled=0 and nothing exported (a sampled request after it is, so the exporter ran).
   */
  async function assertNotSampledNorExported(headerOf: (root: string) => string): Promise<void> {
    const dropped = newOtelTraceId();
    const res = await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': headerOf(xrayTraceId(dropped)) } });
    await res.json();
    assert.match(res.headers.get('x-amzn-trace-id') ?? '', /;Sampled=0$/);
    const marker = newOtelTraceId();
    await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${xrayTraceId(marker)};Parent=${ALB_PARENT};Sampled=1` } }).then((r) => r.json());
    await spansOf(marker, 1);
    assert.deepEqual(receiver.spans.filter((s) => s.traceId === dropped), []);
  }

  /** POST /extract naming a stored object, with an ALB-style trace header. */
  async function extractStored(documentId: string, bytes: Uint8Array, traceHeader: string): Promise<Response> {
    const { key } = await documents.putUpload(`${documentId}-source`, 'input.pdf', bytes);
    const res = await fetch(`${app.url}/extract`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-amzn-trace-id': traceHeader },
      body: JSON.stringify({ key, document_id: documentId }),
    });
    await res.json();
    return res;
  }

  test('GIVEN one /extract carrying an X-Amzn-Trace-Id WHEN processed THEN its SERVER span joins that trace under that parent, with read document, ocr and store result below', async () => {
    const traceId = newOtelTraceId();
    const res = await extractStored('traced-1', new Uint8Array(textPdf([['Traced invoice 42']])), `Root=${xrayTraceId(traceId)};Parent=${ALB_PARENT};Sampled=1`);
    assert.equal(res.status, 202);
    assert.match(res.headers.get('x-amzn-trace-id') ?? '', new RegExp(`^Root=${xrayTraceId(traceId)};Parent=[0-9a-f]{16};Sampled=1$`), 'the caller can find its trace');
    assert.equal((await waitFinished(app.url, 'traced-1')).status, 'SUCCEEDED');

    const spans = await spansOf(traceId, 5);
    const byName = (name: string) => spans.find((s) => s.name === name)!;
    const server = byName('POST /extract');
    assert.ok(server, JSON.stringify(spans.map((s) => s.name)));
    assert.equal(server.kind, SPAN_KIND_SERVER);
    assert.equal(server.parentSpanId, ALB_PARENT, 'the caller\'s span is the parent');
    assert.equal(server.attributes['http.response.status_code'], 202);
    assert.equal(server.attributes['http.route'], '/extract');
    assert.equal(server.serviceName, 'ocr-service-under-test');
    assert.notEqual(server.status.code, STATUS_ERROR);
    assert.equal(res.headers.get('x-amzn-trace-id')?.split(';')[1], `Parent=${server.spanId}`);

    const processing = byName('process document');
    assert.equal(processing.parentSpanId, server.spanId, 'the background work hangs under the request that started it');
    assert.equal(processing.attributes['ocr.document_id'], 'traced-1');
    for (const child of ['read document', 'ocr', 'store result']) {
      assert.equal(byName(child)?.parentSpanId, processing.spanId, `${child} is a child of process document`);
      assert.notEqual(byName(child).status.code, STATUS_ERROR, child);
    }
    assert.equal(byName('ocr').attributes['ocr.status'], 'SUCCEEDED');
    assert.equal(byName('ocr').attributes['ocr.page_count'], 1);
    assert.ok(Number(byName('read document').attributes['ocr.document_bytes']) > 0);
  });

  test('GIVEN a document the engine cannot read WHEN processed THEN its ocr span has an error status with the error code, and the request span does not', async () => {
    const traceId = newOtelTraceId();
    const res = await extractStored('traced-broken', new TextEncoder().encode('%PDF-1.7\nthis is not a PDF body\n%%EOF\n'), `Root=${xrayTraceId(traceId)};Parent=${ALB_PARENT};Sampled=1`);
    assert.equal(res.status, 202);
    const finished = await waitFinished(app.url, 'traced-broken');
    assert.equal(finished.status, 'FAILED');
    const spans = await spansOf(traceId, 5);
    const ocr = spans.find((s) => s.name === 'ocr')!;
    assert.equal(ocr.status.code, STATUS_ERROR);
    assert.match(ocr.status.message ?? '', new RegExp(`^${finished.error.code}: `));
    assert.equal(ocr.attributes['ocr.error_code'], finished.error.code);
    assert.notEqual(spans.find((s) => s.name === 'POST /extract')!.status.code, STATUS_ERROR, 'the request itself was answered 202');
  });

  test('GIVEN a header whose sampled flag says no WHEN the request is processed THEN nothing of its trace is exported', async () => {
    localDecision = SamplingDecision.RECORD_AND_SAMPLED; // the header decides, not the local rule
    try {
      const unsampled = newOtelTraceId();
      const res = await extractStored('untraced-1', new Uint8Array(textPdf([['Not traced']])), `Root=${xrayTraceId(unsampled)};Parent=${ALB_PARENT};Sampled=0`);
      assert.equal(res.status, 202);
      assert.match(res.headers.get('x-amzn-trace-id') ?? '', /;Sampled=0$/);
      assert.equal((await waitFinished(app.url, 'untraced-1')).status, 'SUCCEEDED');
      // a sampled request afterwards arrives; nothing of the unsampled one ever does
      const sampled = newOtelTraceId();
      await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${xrayTraceId(sampled)};Parent=${ALB_PARENT};Sampled=1` } }).then((r) => r.json());
      await spansOf(sampled, 1);
      assert.deepEqual(receiver.spans.filter((s) => s.traceId === unsampled), []);
    } finally {
      localDecision = SamplingDecision.NOT_RECORD;
    }
  });

  test('GIVEN the ALB\'s own header (a Root, no decision) WHEN the local rule samples THEN the trace keeps the ALB\'s trace id; WHEN it does not THEN nothing is exported', async () => {
    const kept = newOtelTraceId();
    localDecision = SamplingDecision.RECORD_AND_SAMPLED;
    try {
      const res = await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${xrayTraceId(kept)}` } });
      await res.json();
      assert.match(res.headers.get('x-amzn-trace-id') ?? '', new RegExp(`^Root=${xrayTraceId(kept)};Parent=[0-9a-f]{16};Sampled=1$`));
      const [span] = await spansOf(kept, 1);
      assert.equal(span.name, 'GET /health');
      assert.equal(span.parentSpanId, undefined, 'no parent: the ALB sends no segment of its own');
    } finally {
      localDecision = SamplingDecision.NOT_RECORD;
    }
    await assertNotSampledNorExported((root) => `Root=${root}`);
  });

  test('GIVEN a header with a parent but no decision (Sampled=? or none) WHEN the local rule samples THEN the span keeps trace and parent; WHEN it does not THEN nothing is exported', async () => {
    localDecision = SamplingDecision.RECORD_AND_SAMPLED;
    try {
      for (const suffix of ['', ';Sampled=?']) {
        const kept = newOtelTraceId();
        const res = await fetch(`${app.url}/health`, { headers: { 'x-amzn-trace-id': `Root=${xrayTraceId(kept)};Parent=${ALB_PARENT}${suffix}` } });
        await res.json();
        assert.match(res.headers.get('x-amzn-trace-id') ?? '', /;Sampled=1$/);
        const [span] = await spansOf(kept, 1);
        assert.equal(span.parentSpanId, ALB_PARENT, `parent kept with '${suffix}'`);
      }
    } finally {
      localDecision = SamplingDecision.NOT_RECORD;
    }
    await assertNotSampledNorExported((root) => `Root=${root};Parent=${ALB_PARENT};Sampled=?`);
  });

  test('GIVEN a refused request (4xx) WHEN answered THEN its SERVER span carries the status and is not an error', async () => {
    const refused = newOtelTraceId();
    const bad = await fetch(`${app.url}/extract`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-amzn-trace-id': `Root=${xrayTraceId(refused)};Parent=${ALB_PARENT};Sampled=1` }, body: '{"key": 42}' });
    assert.equal(bad.status, 400);
    await bad.json();
    const [span] = await spansOf(refused, 1);
    assert.equal(span.attributes['http.response.status_code'], 400);
    assert.notEqual(span.status.code, STATUS_ERROR);
  });

  test('GIVEN a handler that answers 503 WHEN traced THEN its SERVER span is an error', async () => {
    const server = createServer((req, res) => tracing.traceRequest(req, res, () => { res.writeHead(503).end(); }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const failed = newOtelTraceId();
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, { headers: { 'x-amzn-trace-id': `Root=${xrayTraceId(failed)};Parent=${ALB_PARENT};Sampled=1` } });
      assert.equal(res.status, 503);
      await res.arrayBuffer();
      const [span] = await spansOf(failed, 1);
      assert.equal(span.status.code, STATUS_ERROR);
      assert.equal(span.attributes['http.response.status_code'], 503);
    } finally {
      server.close();
    }
  });
});
