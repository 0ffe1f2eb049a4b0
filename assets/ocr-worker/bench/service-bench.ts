/**
 * Load test of the local HTTP service (npm run bench:service; also the last step of npm run bench).
 * Starts `src/service/main.ts` as its own process on a free loopback port (local mode, memory
 * storage), then measures with autocannon, each run bounded in time:
 *   1. GET /health                                  (the load balancer's probe)
 *   2. POST /extract of one small PDF, repeated      (accept path; the cache answers repeats)
 *   3. distinct small PDFs end to end               (upload → SUCCEEDED through the engine)
 * Writes bench/service-results.json and bench/SERVICE-RESULTS.md, nothing else. Loopback only.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { COMMON_ENV, SERVICE_ENV } from '../src/contract.ts';
import { PACKAGE_ROOT } from '../src/paths.ts';
import { availableCpus } from '../src/options.ts';
import { textPdf } from '../tools/pdfwriter.ts';
import { spawnProcess, whenReady } from '../tools/processes.ts';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon');
const DURATION = Number(process.env.BENCH_SERVICE_SECONDS ?? '10');
const CONNECTIONS = Number(process.env.BENCH_SERVICE_CONNECTIONS ?? '10');
const WORKERS = Number(process.env.BENCH_WORKERS ?? String(availableCpus()));
const E2E_DOCUMENTS = Number(process.env.BENCH_SERVICE_DOCUMENTS ?? '60');
const log = (s: string): void => { process.stderr.write(s + '\n'); };

async function startService(): Promise<{ url: string; stop: () => Promise<number | null> }> {
  // The service's own defaults, but for the worker count and a short drain; no data directory (memory store).
  const service = spawnProcess({ [COMMON_ENV.WORKERS]: String(WORKERS), [SERVICE_ENV.SHUTDOWN_GRACE_SECONDS]: '5', [SERVICE_ENV.DATA_DIR]: '' });
  const url = await whenReady(service);
  return { url, stop: async () => { service.proc.kill('SIGTERM'); return service.exit; } };
}

function multipart(bytes: Buffer, fileName: string): { body: Buffer; contentType: string } {
  const boundary = 'benchBoundary7MA4YWxkTrZu0gW';
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/pdf\r\n\r\n`),
    bytes,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

interface Figures { requestsPerSecond: number; p50Ms: number; p99Ms: number; requests: number; errors: number; non2xx: number; durationSeconds: number; connections: number }

async function cannon(opts: Record<string, unknown>): Promise<Figures> {
  const r = await autocannon({ duration: DURATION, connections: CONNECTIONS, ...opts });
  return {
    requestsPerSecond: Math.round(r.requests.average), p50Ms: r.latency.p50, p99Ms: r.latency.p99, requests: r.requests.total,
    errors: r.errors + r.timeouts, non2xx: r.non2xx, durationSeconds: DURATION, connections: (opts.connections as number) ?? CONNECTIONS,
  };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

async function endToEnd(url: string): Promise<Record<string, number>> {
  // distinct documents (no cache hits), submitted by 4 clients; latency = upload → SUCCEEDED seen
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  const client = async (): Promise<void> => {
    while (next < E2E_DOCUMENTS) {
      const i = next++;
      const pdf = textPdf([[`Load test document ${i} ${Date.now()}`, 'A second line of text.']]);
      const start = performance.now();
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(pdf)]), `doc${i}.pdf`);
      const res = await fetch(`${url}/extract`, { method: 'POST', body: form });
      const body = await res.json() as { document_id: string };
      if (res.status !== 202) { errors++; continue; }
      for (;;) {
        const s = await (await fetch(`${url}/check-status/${body.document_id}`)).json() as { status: string };
        if (s.status === 'SUCCEEDED') break;
        if (s.status === 'FAILED') { errors++; break; }
        await new Promise((r) => setTimeout(r, 10));
      }
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: 4 }, client));
  const seconds = (performance.now() - t0) / 1000;
  return {
    documents: E2E_DOCUMENTS, clients: 4, documentsPerSecond: Math.round((latencies.length / seconds) * 10) / 10,
    p50Ms: Math.round(percentile(latencies, 50)), p99Ms: Math.round(percentile(latencies, 99)), errors,
  };
}

async function main(): Promise<void> {
  const svc = await startService();
  log(`service at ${svc.url} (${WORKERS} workers); ${DURATION} s per run, ${CONNECTIONS} connections`);
  const health = await cannon({ url: `${svc.url}/health` });
  log(`/health: ${JSON.stringify(health)}`);
  const small = textPdf([['Invoice 4711', 'Total due: 99.50 EUR']]);
  const mp = multipart(small, 'small.pdf');
  // Offered at a fixed rate: unthrottled, the accept path outruns the per-task bound on documents
  // in flight (OCR_MAX_QUEUED_DOCUMENTS) and the service answers 503 BUSY by design (back-pressure).
  // one request first, so the run measures the steady state (the cache holds the document)
  await fetch(`${svc.url}/extract`, { method: 'POST', headers: { 'content-type': mp.contentType }, body: new Uint8Array(mp.body) });
  await new Promise((r) => setTimeout(r, 1000));
  const EXTRACT_RATE = Number(process.env.BENCH_SERVICE_EXTRACT_RATE ?? '1000');
  const extract = { ...await cannon({ url: `${svc.url}/extract`, method: 'POST', headers: { 'content-type': mp.contentType }, body: mp.body, connections: 4, overallRate: EXTRACT_RATE }), offeredRate: EXTRACT_RATE };
  log(`/extract (same small PDF): ${JSON.stringify(extract)}`);
  const e2e = await endToEnd(svc.url);
  log(`end to end: ${JSON.stringify(e2e)}`);
  const exitCode = await svc.stop();

  const results = {
    generated: new Date().toISOString(),
    machine: { cpus: os.availableParallelism(), node: process.version, workers: WORKERS },
    health, extractSameDocument: { ...extract, documentBytes: small.length }, endToEndDistinctDocuments: e2e, serviceExitCode: exitCode,
  };
  writeFileSync(join(PACKAGE_ROOT, 'bench', 'service-results.json'), JSON.stringify(results, null, 2) + '\n');
  const md = `# Service load test

Written by \`npm run bench:service\` (bench/service-bench.ts; see "Benchmark" in ../README.md); the figures: [service-results.json](service-results.json).
The local service (\`src/service/main.ts\`,
memory storage, ${WORKERS} OCR workers) on loopback, ${results.machine.cpus} CPUs, Node ${process.version}; autocannon in a
separate process from the service. ${new Date().toISOString().slice(0, 10)}.

| scenario | load | requests/s | p50 ms | p99 ms | requests | errors | non-2xx |
|---|---|---:|---:|---:|---:|---:|---:|
| \`GET /health\` | ${health.connections} connections, ${DURATION} s | ${health.requestsPerSecond} | ${health.p50Ms} | ${health.p99Ms} | ${health.requests} | ${health.errors} | ${health.non2xx} |
| \`POST /extract\`, one ${small.length}-byte PDF repeated (202; cache answers repeats) | ${extract.connections} connections, ${EXTRACT_RATE} req/s offered, ${DURATION} s | ${extract.requestsPerSecond} | ${extract.p50Ms} | ${extract.p99Ms} | ${extract.requests} | ${extract.errors} | ${extract.non2xx} |

End to end, distinct small PDFs (no cache hits), ${e2e.clients} clients, upload → \`SUCCEEDED\` seen on \`/check-status\`:
${e2e.documents} documents, **${e2e.documentsPerSecond} documents/s**, p50 ${e2e.p50Ms} ms, p99 ${e2e.p99Ms} ms, errors ${e2e.errors}.
Service exit code after SIGTERM: ${exitCode}.
`;
  writeFileSync(join(PACKAGE_ROOT, 'bench', 'SERVICE-RESULTS.md'), md);
  process.stdout.write(md);
  const failed = health.errors + health.non2xx + extract.errors + extract.non2xx + e2e.errors;
  if (failed > 0) { log(`errors: ${failed}`); process.exit(1); }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
