/**
 * Tracing of the HTTP service with the OpenTelemetry JS SDK, exported over OTLP/HTTP to the collector
 * sidecar that OcrServiceCluster adds with `tracing` (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, e.g.
 * http://127.0.0.1:4318/v1/traces), which sends the spans on to AWS X-Ray. Export is batched and off
 * the request path: a missing collector costs dropped spans, never a failed or slower request.
 *
 * What is traced:
 *  - one SERVER span per HTTP request (method, route, status; 5xx and dropped connections are
 *    errors). The X-Amzn-Trace-Id header (ALB, API Gateway, X-Ray or OpenTelemetry clients) is
 *    honoured with the X-Ray propagator from OpenTelemetry: its Root is the trace, its Parent the
 *    parent span and its Sampled decision is kept. A header without a decision (the ALB adds only
 *    `Root=`) keeps its trace id and the local sampler decides: X-Ray's default rule, the first
 *    request each second and 5 % of the rest. The response carries X-Amzn-Trace-Id so a caller can
 *    find its trace. Trace ids come from the X-Ray ID generator (epoch seconds first), which X-Ray's
 *    PutTraceSegments path needs and its OTLP endpoint accepts;
 *  - the work a request starts (`process document`, with `read document`, `ocr`, `store result`)
 *    as child spans of that request's span, ended when each one settles (long after the 202); a
 *    document that FAILED gives its `ocr` span an error status with the error code.
 *
 * AWS: https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-migration.html (X-Ray SDKs to
 * OpenTelemetry), https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader
 * (the header).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags,
  createContextKey, isValidSpanId, isValidTraceId,
  type Attributes, type Context, type Link, type Tracer as OtelTracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AWSXRayIdGenerator } from '@opentelemetry/id-generator-aws-xray';
import { AWSXRayPropagator } from '@opentelemetry/propagator-aws-xray';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider, BatchSpanProcessor, SamplingDecision,
  type IdGenerator, type Sampler, type SamplingResult, type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { WORKER_VERSION } from '../engine.ts';

/** Set on the context of a request whose trace header carries no sampling decision. */
const UNDECIDED = createContextKey('ocr-service: the caller left the sampling decision to this service');

/**
 * X-Ray's default sampling rule, applied locally: `perSecond` traces each second, then `rate` of the
 * rest. (Centralised sampling rules would need GetSamplingRules calls through the collector; the
 * default rule is what X-Ray users get unless they configure otherwise.)
 */
export class DefaultRuleSampler implements Sampler {
  private second = -1;
  private used = 0;
  private readonly perSecond: number;
  private readonly rate: number;
  private readonly random: () => number;
  private readonly now: () => number;
  constructor(opts: { perSecond?: number; rate?: number; random?: () => number; now?: () => number } = {}) {
    this.perSecond = opts.perSecond ?? 1;
    this.rate = opts.rate ?? 0.05;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
  }

  shouldSample(): SamplingResult {
    const s = Math.floor(this.now() / 1000);
    if (s !== this.second) { this.second = s; this.used = 0; }
    let keep = this.used < this.perSecond;
    if (keep) this.used++;
    else keep = this.random() < this.rate;
    return { decision: keep ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string { return `DefaultRuleSampler{${this.perSecond}/s, then ${this.rate}}`; }
}

/**
 * The caller's decision when its header made one (Sampled=1 or 0), the local rule when it did not;
 * spans inside this process follow their parent.
 */
class HeaderDecisionSampler implements Sampler {
  private readonly local: Sampler;
  constructor(local: Sampler) { this.local = local; }

  shouldSample(ctx: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const parent = trace.getSpanContext(ctx);
    if (!parent || (parent.isRemote && ctx.getValue(UNDECIDED))) return this.local.shouldSample(ctx, traceId, name, kind, attributes, links);
    return { decision: (parent.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
  }

  toString(): string { return `HeaderDecisionSampler{${this.local.toString()}}`; }
}

/**
 * X-Ray trace ids (epoch seconds, then random), except for a request whose header names a trace
 * but no parent (the ALB's `Root=` alone): its span keeps that trace id, so the ALB's access log
 * and the trace match.
 */
class TraceIdFromHeader implements IdGenerator {
  private readonly xray = new AWSXRayIdGenerator();
  /** Set only for the synchronous duration of one startSpan call. */
  next: string | undefined;
  generateTraceId(): string { return this.next ?? this.xray.generateTraceId(); }
  generateSpanId(): string { return this.xray.generateSpanId(); }
}

/** `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8` → OpenTelemetry ids (no decision). */
function idsOfHeader(value: string | undefined): { traceId?: string; parentId?: string } {
  if (!value) return {};
  const root = /(?:^|;)\s*Root=1-([0-9a-f]{8})-([0-9a-f]{24})\s*(?:;|$)/i.exec(value);
  const parent = /(?:^|;)\s*Parent=([0-9a-f]{16})\s*(?:;|$)/i.exec(value);
  const traceId = root ? (root[1] + root[2]).toLowerCase() : undefined;
  return {
    traceId: traceId && isValidTraceId(traceId) ? traceId : undefined,
    parentId: parent && isValidSpanId(parent[1].toLowerCase()) ? parent[1].toLowerCase() : undefined,
  };
}

/** Low-cardinality route of a path, for span names: ids become `{document_id}`. */
export function routeOf(path: string): string {
  const m = /^\/(check-status|status|result)\/[^/]+$/.exec(path);
  return m ? `/${m[1]}/{document_id}` : path;
}

/** What a finished piece of work says about itself: attributes, and an error when it failed. */
export interface SpanOutcome {
  attributes?: Attributes;
  /** Marks the span as an error with this description (e.g. the document's error code). */
  error?: string;
}

export interface TracingOptions {
  /** OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces (the collector sidecar). */
  endpoint: string;
  /** `service.name` of the spans (the service's name in X-Ray's trace map). */
  serviceName: string;
  /** Decides for requests that come without a decision; X-Ray's default rule unless given (tests). */
  sampler?: Sampler;
  /** Replaces the OTLP exporter (tests). */
  exporter?: SpanExporter;
}

let contextManagerInstalled = false;

/** The active-context store (AsyncLocalStorage): the work a request starts runs in that request's context. */
function installContextManager(): void {
  if (contextManagerInstalled) return;
  const manager = new AsyncLocalStorageContextManager().enable();
  // false when another context manager is already registered (that one carries contexts as well)
  if (!context.setGlobalContextManager(manager)) manager.disable();
  contextManagerInstalled = true;
}

export class Tracing {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: OtelTracer;
  private readonly ids = new TraceIdFromHeader();
  private readonly propagator = new AWSXRayPropagator();
  readonly endpoint: string;

  constructor(opts: TracingOptions) {
    installContextManager();
    this.endpoint = opts.endpoint;
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': opts.serviceName, 'service.version': WORKER_VERSION }),
      idGenerator: this.ids,
      sampler: new HeaderDecisionSampler(opts.sampler ?? new DefaultRuleSampler()),
      spanProcessors: [new BatchSpanProcessor(opts.exporter ?? new OTLPTraceExporter({ url: opts.endpoint }))],
    });
    this.tracer = this.provider.getTracer('ocr-service', WORKER_VERSION);
  }

  /** The parent context of a request from its X-Amzn-Trace-Id header (ROOT_CONTEXT when there is none). */
  private parentOf(req: IncomingMessage): { parent: Context; traceId?: string } {
    const extracted = this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    if (trace.getSpanContext(extracted)) return { parent: extracted };
    // the propagator takes only headers with a decision: keep the trace (and parent) of the others
    const raw = req.headers['x-amzn-trace-id'];
    const { traceId, parentId } = idsOfHeader(Array.isArray(raw) ? raw[0] : raw);
    if (traceId && parentId) {
      const remote = trace.wrapSpanContext({ traceId, spanId: parentId, traceFlags: TraceFlags.NONE, isRemote: true });
      return { parent: trace.setSpan(ROOT_CONTEXT, remote).setValue(UNDECIDED, true) };
    }
    return { parent: ROOT_CONTEXT, traceId };
  }

  /**
   * Runs the handling of one HTTP request inside its SERVER span: sets X-Amzn-Trace-Id on the
   * response, makes the span the parent of everything the handler starts, and ends it when the
   * response is finished or the connection closes.
   */
  traceRequest(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
    const { parent, traceId } = this.parentOf(req);
    const path = (req.url ?? '/').split('?')[0];
    const route = routeOf(path);
    const forwarded = req.headers['x-forwarded-for'];
    this.ids.next = traceId;
    let span;
    try {
      span = this.tracer.startSpan(`${req.method} ${route}`, {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': req.method ?? 'GET',
          'url.path': path,
          'http.route': route,
          'client.address': (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0].trim() ?? req.socket.remoteAddress ?? '',
          ...(req.headers['user-agent'] ? { 'user_agent.original': req.headers['user-agent'] } : {}),
        },
      }, parent);
    } finally {
      this.ids.next = undefined;
    }
    const active = trace.setSpan(parent, span);
    this.propagator.inject(active, res, { set: (carrier, key, value) => carrier.setHeader(key, value) });
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      const status = res.headersSent ? res.statusCode : 0;
      if (status) span.setAttribute('http.response.status_code', status);
      // OpenTelemetry's HTTP conventions: a server span is an error for 5xx and for no answer at all
      if (status === 0 || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: status ? `HTTP ${status}` : 'connection closed before a response' });
      span.end();
    };
    res.on('finish', end);
    res.on('close', end);
    context.with(active, handle);
  }

  /**
   * Runs `fn` as a child span of the active span (the request that started the work) and ends it
   * when `fn` settles. `outcome` adds attributes from the result and may mark it an error. Outside a
   * sampled trace, `fn` simply runs.
   */
  async span<T>(name: string, fn: () => Promise<T>, outcome?: (value: T) => SpanOutcome): Promise<T> {
    return this.tracer.startActiveSpan(name, async (span) => {
      try {
        const value = await fn();
        if (span.isRecording() && outcome) {
          const { attributes, error } = outcome(value);
          if (attributes) span.setAttributes(attributes);
          if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: error });
        }
        return value;
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        span.recordException(e);
        span.setStatus({ code: SpanStatusCode.ERROR, message: e.message.slice(0, 1000) });
        throw err;
      } finally {
        span.end();
      }
    });
  }

  /** Sends the spans still buffered (tests, and before the process exits). */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Flushes and stops the exporter. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}
