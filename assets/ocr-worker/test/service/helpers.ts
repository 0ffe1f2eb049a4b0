/** Helpers for the service tests: start the service on a free loopback port, poll, upload, Redis. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { createEngine, type Engine } from '../../src/index.ts';
import { startApp, type App, type AppOverrides } from '../../src/service/app.ts';
import { parseServiceConfig } from '../../src/service/config.ts';
import type { DocumentEngine } from '../../src/service/service.ts';
import { validateResult } from '../../src/result.ts';

export const quiet = (): void => undefined;

/** Starts the service in this process (local mode unless stores are given) and waits until it is warm. */
export async function startTestApp(env: Record<string, string> = {}, overrides: AppOverrides = {}): Promise<App> {
  const config = parseServiceConfig({ PORT: '0', OCR_WORKERS: '1', ...env });
  const app = await startApp(config, { log: quiet, metrics: quiet, ...overrides });
  await app.ready;
  return app;
}

/** The engine shared by several apps of one test file; counts documents by content hash. */
export interface CountingEngine extends DocumentEngine {
  calls: Map<string, number>;
  total(): number;
  /** Closes the real engine (the apps' close() is a no-op so the engine outlives them). */
  shutdown(): Promise<void>;
}

export function countingEngine(opts: Parameters<typeof createEngine>[0] = {}): CountingEngine {
  const real: Engine = createEngine({ workers: 2, concurrency: 2, timeoutSeconds: 60, onChildLog: quiet, ...opts });
  const calls = new Map<string, number>();
  return {
    calls,
    total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    get workers() { return real.workers; },
    warm: () => real.warm(),
    isReady: () => real.isReady(),
    close: async () => undefined,
    shutdown: () => real.close(),
    async process(bytes, request) {
      const r = await real.process(bytes, request);
      calls.set(r.sha256, (calls.get(r.sha256) ?? 0) + 1);
      return r;
    },
  };
}

export async function getJson(url: string): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

export async function upload(base: string, bytes: Uint8Array, fileName: string, fields: Record<string, string> = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)]), fileName);
  const res = await fetch(`${base}/extract`, { method: 'POST', body: form });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

/** Polls /check-status until the document is SUCCEEDED or FAILED (bounded: fails the test after `limitMs`). */
export function waitFinished(base: string, id: string, limitMs = 120_000): Promise<any> {
  return waitStatus(base, id, ['SUCCEEDED', 'FAILED'], limitMs);
}

/** Polls /check-status until the document's status is one of `statuses` (bounded: fails the test after `limitMs`). */
export async function waitStatus(base: string, id: string, statuses: string[], limitMs = 120_000): Promise<any> {
  const until = Date.now() + limitMs;
  for (;;) {
    const { status, body } = await getJson(`${base}/check-status/${encodeURIComponent(id)}`);
    assert.equal(status, 200, JSON.stringify(body));
    if (statuses.includes(body.status)) return body;
    if (Date.now() > until) assert.fail(`document ${id} still ${body.status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** GET /result and check it against the worker's result schema. */
export async function resultOf(base: string, id: string): Promise<any> {
  const { status, body } = await getJson(`${base}/result/${encodeURIComponent(id)}`);
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(validateResult(body), [], 'result matches schema/result.schema.json');
  return body;
}

/** POST of a body exactly as given (a malformed one, say) with the headers as given. */
export function postRaw(url: string, headers: Record<string, string | number>, body: string | Buffer): Promise<{ status: number; body: any; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let data = '';
      res.on('data', (c) => { data += c; });
      res.on('end', () => {
        try { resolve({ status: res.statusCode!, body: JSON.parse(data), headers: res.headers }); } catch (err) { reject(err); }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request that announces `declaredBytes` of body, sends the start of it and drops the connection. */
export function abandonedPost(url: string, headers: Record<string, string | number>, start: string | Buffer, declaredBytes: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': declaredBytes } });
    req.on('error', () => undefined); // the test drops it: the client's own error is expected
    req.on('close', () => resolve());
    req.write(start, () => setTimeout(() => req.destroy(), 50));
  });
}

export function assertErrorBody(body: any, error: string): void {
  assert.equal(body.error, error, JSON.stringify(body));
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 10, 'the reason is given');
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A real redis-server (Debian package, on PATH) on a free loopback port, no persistence. */
export async function startRedis(): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const proc: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (b: Buffer) => { out += b.toString(); if (/Ready to accept connections/.test(out)) resolve(); });
    proc.once('error', (err) => reject(new Error(`redis-server could not start (is it on PATH?): ${err.message}`)));
    proc.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => new Promise<void>((resolve) => {
      if (proc.exitCode !== null) { resolve(); return; }
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    }),
  };
}
