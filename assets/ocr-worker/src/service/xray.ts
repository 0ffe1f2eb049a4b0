/**
 * AWS X-Ray tracing for the HTTP service, without the X-Ray SDK: segment documents sent over UDP to
 * the tracing sidecar that OcrServiceCluster adds with `tracing` (AWS_XRAY_DAEMON_ADDRESS, default
 * 127.0.0.1:2000). The X-Ray daemon and the OpenTelemetry collector's awsxray receiver both take
 * this wire format. Sending is fire-and-forget: a missing sidecar never fails or slows a request.
 *
 * What is traced:
 *  - one segment per HTTP request (method, URL, status, client IP, fault/error flags). The ALB's
 *    X-Amzn-Trace-Id header is honoured: its Root becomes the trace id, its Parent the parent, and
 *    its Sampled decision is kept; without one, the X-Ray default rule decides (the first request
 *    each second, then 5%). The response carries X-Amzn-Trace-Id with the trace id;
 *  - the background work a request started (reading the document, OCR, storing the result), as
 *    subsegments of that request's segment, sent on their own when each one ends (the request has
 *    long answered 202 by then).
 *
 * Wire format and fields: https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a trace is: what a subsegment needs to attach itself to its parent. */
export interface TraceContext {
  traceId: string;
  /** Id of the segment or subsegment new subsegments hang under. */
  parentId: string;
  sampled: boolean;
}

export interface TraceHeader {
  root?: string;
  parent?: string;
  /** '1' sampled, '0' not, '?' the caller asks us to decide and tell. */
  sampled?: '0' | '1' | '?';
}

const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;
const ENTITY_ID = /^[0-9a-f]{16}$/;
/** UDP datagrams above this are dropped by the daemon; larger metadata is cut. */
const MAX_DATAGRAM_BYTES = 64 * 1024;
const HEADER = '{"format":"json","version":1}\n';

/** Parses `Root=1-...;Parent=...;Sampled=1` (ALB, API Gateway, SDKs); unknown or malformed parts are ignored. */
export function parseTraceHeader(value: string | string[] | undefined): TraceHeader {
  const raw = Array.isArray(value) ? value[0] : value;
  const out: TraceHeader = {};
  if (!raw) return out;
  for (const part of raw.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const k = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    if (k === 'root' && TRACE_ID.test(v)) out.root = v;
    else if (k === 'parent' && ENTITY_ID.test(v)) out.parent = v;
    else if (k === 'sampled' && (v === '0' || v === '1' || v === '?')) out.sampled = v;
  }
  return out;
}

export function newTraceId(nowMs = Date.now()): string {
  return `1-${Math.floor(nowMs / 1000).toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

export function newEntityId(): string {
  return randomBytes(8).toString('hex');
}

/** `udp:host:port tcp:host:port`, `host:port` or `:port` → the UDP host and port. */
export function parseDaemonAddress(value: string): { host: string; port: number } {
  const parts = value.trim().split(/\s+/);
  const udp = parts.find((p) => p.startsWith('udp:')) ?? parts.find((p) => !p.startsWith('tcp:'));
  const m = udp ? /^(?:udp:)?([^:]*):(\d{1,5})$/.exec(udp) : null;
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`AWS_XRAY_DAEMON_ADDRESS must look like 127.0.0.1:2000 or 'udp:host:port tcp:host:port', got '${value}'.`);
  return { host: m[1] || '127.0.0.1', port };
}

/**
 * The X-Ray default sampling rule, applied locally: a reservoir of `perSecond` traces each second,
 * then `rate` of the rest. (Centralised sampling rules would need GetSamplingRules calls from the
 * service; the default rule is what the daemon's users get unless they configure otherwise.)
 */
export class DefaultSampler {
  private second = -1;
  private used = 0;
  private readonly perSecond: number;
  private readonly rate: number;
  private readonly random: () => number;
  constructor(perSecond = 1, rate = 0.05, random: () => number = Math.random) {
    this.perSecond = perSecond;
    this.rate = rate;
    this.random = random;
  }

  sample(nowMs = Date.now()): boolean {
    const s = Math.floor(nowMs / 1000);
    if (s !== this.second) { this.second = s; this.used = 0; }
    if (this.used < this.perSecond) { this.used++; return true; }
    return this.random() < this.rate;
  }
}

export interface TracerOptions {
  /** AWS_XRAY_DAEMON_ADDRESS. */
  daemonAddress: string;
  /** Segment name (the service's name in the X-Ray service map). */
  serviceName: string;
  sampler?: { sample(nowMs?: number): boolean };
  /** Replaces the UDP socket (tests). */
  send?: (datagram: Buffer) => void;
}

type Annotations = Record<string, string | number | boolean>;

interface Entity {
  id: string;
  trace_id: string;
  name: string;
  start_time: number;
  end_time?: number;
  parent_id?: string;
  type?: 'subsegment';
  http?: Record<string, unknown>;
  annotations?: Annotations;
  error?: boolean;
  fault?: boolean;
  throttle?: boolean;
  cause?: { exceptions: Array<{ id: string; message: string; type: string }> };
  origin?: string;
}

const seconds = (ms: number): number => ms / 1000;

/** Keeps X-Ray annotation keys to what it indexes (letters, digits, underscore). */
function cleanAnnotations(a: Annotations): Annotations {
  const out: Annotations = {};
  for (const [k, v] of Object.entries(a)) out[k.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 500)] = typeof v === 'string' ? v.slice(0, 1000) : v;
  return out;
}

export class Tracer {
  private readonly store = new AsyncLocalStorage<TraceContext>();
  private readonly sampler: { sample(nowMs?: number): boolean };
  private readonly sendDatagram: (d: Buffer) => void;
  private readonly socket: Socket | null = null;
  readonly serviceName: string;

  constructor(opts: TracerOptions) {
    this.serviceName = opts.serviceName;
    this.sampler = opts.sampler ?? new DefaultSampler();
    if (opts.send) {
      this.sendDatagram = opts.send;
    } else {
      const { host, port } = parseDaemonAddress(opts.daemonAddress);
      const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
      socket.on('error', () => undefined); // no sidecar listening: traces are dropped, requests go on
      socket.unref();
      this.socket = socket;
      this.sendDatagram = (d) => socket.send(d, port, host, () => undefined);
    }
  }

  /** The trace context of the code running now (inside `traceRequest`), if any. */
  current(): TraceContext | undefined {
    return this.store.getStore();
  }

  private emit(entity: Entity): void {
    let body = JSON.stringify(entity);
    if (Buffer.byteLength(HEADER + body) > MAX_DATAGRAM_BYTES) {
      // only an oversized cause or URL can get here: keep the timing, drop the detail
      body = JSON.stringify({ ...entity, cause: undefined, http: undefined });
    }
    try { this.sendDatagram(Buffer.from(HEADER + body)); } catch { /* fire and forget */ }
  }

  /**
   * Runs the handling of one HTTP request inside a segment: sets X-Amzn-Trace-Id on the response,
   * makes the context available to everything the handler starts, and sends the segment when the
   * response is finished or the connection closes.
   */
  traceRequest(req: IncomingMessage, res: ServerResponse, handle: () => void): void {
    const header = parseTraceHeader(req.headers['x-amzn-trace-id']);
    const start = Date.now();
    const traceId = header.root ?? newTraceId(start);
    const sampled = header.sampled === '1' ? true : header.sampled === '0' ? false : this.sampler.sample(start);
    const ctx: TraceContext = { traceId, parentId: newEntityId(), sampled };
    res.setHeader('x-amzn-trace-id', header.sampled === '?' ? `Root=${traceId};Sampled=${sampled ? '1' : '0'}` : `Root=${traceId}`);
    if (sampled) {
      let sent = false;
      const end = (): void => {
        if (sent) return;
        sent = true;
        const status = res.headersSent ? res.statusCode : 0;
        const forwarded = req.headers['x-forwarded-for'];
        this.emit({
          id: ctx.parentId,
          trace_id: traceId,
          ...(header.parent ? { parent_id: header.parent } : {}),
          name: this.serviceName,
          origin: 'AWS::ECS::Container',
          start_time: seconds(start),
          end_time: seconds(Date.now()),
          http: {
            request: {
              method: req.method,
              url: req.url,
              client_ip: (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0].trim() ?? req.socket.remoteAddress,
              ...(forwarded ? { x_forwarded_for: true } : {}),
              user_agent: req.headers['user-agent'],
            },
            response: { status, ...(res.getHeader('content-length') ? { content_length: Number(res.getHeader('content-length')) } : {}) },
          },
          // X-Ray: 4xx = error, 429 also throttle, 5xx = fault; a dropped connection without an answer is a fault
          ...(status === 429 ? { throttle: true, error: true } : status >= 400 && status < 500 ? { error: true } : {}),
          ...(status >= 500 || status === 0 ? { fault: true } : {}),
        });
      };
      res.on('finish', end);
      res.on('close', end);
    }
    this.store.run(ctx, handle);
  }

  /**
   * Runs `fn` as a subsegment of `parent` (default: the current context) and sends it when `fn`
   * settles. `annotate` adds indexed annotations from the outcome (e.g. the result's status).
   * Without a sampled context, `fn` simply runs.
   */
  async subsegment<T>(name: string, fn: () => Promise<T>, opts: { parent?: TraceContext; annotate?: (value: T) => Annotations } = {}): Promise<T> {
    const parent = opts.parent ?? this.current();
    if (!parent?.sampled) return fn();
    const id = newEntityId();
    const start = Date.now();
    const child: TraceContext = { traceId: parent.traceId, parentId: id, sampled: true };
    const base: Entity = { type: 'subsegment', id, trace_id: parent.traceId, parent_id: parent.parentId, name, start_time: seconds(start) };
    try {
      const value = await this.store.run(child, fn);
      this.emit({ ...base, end_time: seconds(Date.now()), annotations: opts.annotate ? cleanAnnotations(opts.annotate(value)) : undefined });
      return value;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.emit({
        ...base, end_time: seconds(Date.now()), fault: true,
        cause: { exceptions: [{ id: newEntityId(), type: e.name, message: e.message.slice(0, 2000) }] },
      });
      throw err;
    }
  }

  close(): void {
    try { this.socket?.close(); } catch { /* already closed */ }
  }
}
