/**
 * Start-up benchmark (npm run bench:startup): how long the worker takes from process start until the
 * result of its first page.
 *
 * Each run starts a fresh worker process (the CLI, on the engine the Batch entry point uses, one OCR
 * worker) on a one-page scanned document and times from the spawn until its result line: process
 * start, module loading, engine warm-up (WebAssembly or the native process, language data) and one
 * page of OCR. That is what every new task pays before its first result, once its image is pulled.
 * The constructs' cost estimate takes the median of every run on record in bench/startup-history.jsonl
 * (through src/batch-ocr-processor/measurements.ts, generated from it and checked by a test).
 * Writes bench/startup-results.json (this run) and appends a line to bench/startup-history.jsonl;
 * nothing outside bench/.
 *
 *   node bench/startup.ts [--runs 5] [--engine tesseract.js|tesseract]...
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { OcrEngineName } from '../src/options.ts';
import { PACKAGE_ROOT } from '../src/paths.ts';

/** The document: the sample one-page scan (A4 at 300 dpi, CCITT G4 TIFF) the README's examples use. */
const DOCUMENT = join(PACKAGE_ROOT, 'samples', 'scanned-page.tif');
const RESULTS = join(PACKAGE_ROOT, 'bench', 'startup-results.json');
const HISTORY = join(PACKAGE_ROOT, 'bench', 'startup-history.jsonl');
const log = (s: string): void => { process.stderr.write(s + '\n'); };

/** Spawns one worker process on the document and times its result line: spawn until the result, ms. */
function timeOneRun(engine: OcrEngineName): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [
      '--disable-warning=ExperimentalWarning', join(PACKAGE_ROOT, 'src', 'cli.ts'),
      '--workers', '1', '--ocr-engine', engine, DOCUMENT,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    const at: number[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (!line.trim()) continue;
        at.push(Number(process.hrtime.bigint() - started) / 1e6);
        const result = JSON.parse(line) as { status?: string };
        if (result.status !== 'SUCCEEDED') reject(new Error(`the ${engine} worker did not read the document: ${line.slice(0, 300)}`));
      }
    });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 || at.length !== 1) {
        reject(new Error(`the ${engine} worker exited ${code} after ${at.length} results: ${stderr.slice(-500)}`));
        return;
      }
      resolve(Math.round(at[0]));
    });
  });
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, engine: { type: 'string', multiple: true } } });
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, got ${values.runs}`);
  const engines = (values.engine ?? ['tesseract.js', 'tesseract']) as OcrEngineName[];
  const date = new Date().toISOString();
  const machine = { model: os.cpus()[0]?.model ?? 'unknown', cpus: os.availableParallelism(), node: process.version };
  const byEngine: Record<string, { runsMs: number[]; startUntilFirstPageSeconds: number }> = {};
  for (const engine of engines) {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const ms = await timeOneRun(engine);
      log(`${engine} run ${i + 1}/${runs}: start until first page ${ms} ms`);
      times.push(ms);
    }
    // the median: the machine is shared, one run moves with the other load on it
    byEngine[engine] = { runsMs: times, startUntilFirstPageSeconds: median(times) / 1000 };
  }
  const results = {
    date,
    document: 'samples/scanned-page.tif',
    method: 'a fresh worker process (the CLI, one OCR worker) on the document: spawn until its result line; the median of the runs',
    machine,
    engines: byEngine,
  };
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  const line = { date, machine: machine.model, cpus: machine.cpus, node: machine.node, runs,
    engines: Object.fromEntries(Object.entries(byEngine).map(([e, r]) => [e, { startUntilFirstPageSeconds: r.startUntilFirstPageSeconds, runsMs: r.runsMs }])) };
  appendFileSync(HISTORY, JSON.stringify(line) + '\n');
  const history = existsSync(HISTORY) ? readFileSync(HISTORY, 'utf8').split('\n').filter((l) => l.trim()).length : 1;
  log(`wrote bench/startup-results.json; bench/startup-history.jsonl has ${history} runs`);
  for (const [e, r] of Object.entries(byEngine)) log(`${e}: start until first page ${r.startUntilFirstPageSeconds} s (median of ${runs})`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
