/**
 * Benchmark of BatchOcrProcessor's GetDocumentTextDetection on a large result: a caller pages
 * through a 100,000-block response (the scan's blocks repeated, with ids of their own) with the
 * default MaxResults (1,000, 100 calls) and with MaxResults 333, once as the worker stores it now
 * (whole response plus page objects of 1,000 blocks, their count in the summary) and once as
 * results written before page objects were (whole response only), which Get still answers.
 *
 * Each run is a fresh Node process running the real Textract handler over an S3 stand-in that
 * serves the objects from files, so that the stored objects take no memory of that process. It
 * records the bytes GetObject returned, the process's peak resident set size (what Lambda reports
 * as Max Memory Used) and the largest V8 heap in use at the end of any call (before its garbage is
 * collected), with a full collection between calls as between a function's invocations; the
 * baseline is the same process answering a 100-block result.
 *
 *   npx ts-node --transpile-only build-tools/textract-get-bench.ts
 *
 * writes build-tools/textract-get-bench.json and prints the table docs/batch-ocr-processor.md shows.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { ProcessorConfig } from '../src/batch-ocr-processor/jobs';
import { createTextractHandler } from '../src/batch-ocr-processor/textract-api';
import { WorkerResultLayout, workerSummaryKey, workerTextractPageKey } from '../src/common/worker-contract';

const RESULTS = join(__dirname, 'textract-get-bench.json');
const FIXTURE = join(__dirname, '..', 'test', 'fixtures', 'textract', 'phototest.textract.json');
const JOB_ID = '00000000-0000-4000-8000-000000000001';
const BLOCKS = 100_000;
const OUTPUT_BUCKET = 'ocr-output-bucket';
const CALLER = 'AIDAALICE000000000001';
/** What Get reads of the processor's configuration. */
const CONFIG = { outputBucket: OUTPUT_BUCKET, outputPrefix: 'results/', jobTable: 'jobs', inputBucket: 'ocr-input-bucket' } as ProcessorConfig;

type Layout = 'pages' | 'whole';
interface Run { layout: Layout; blocks: number; maxResults: number; calls: number; bytesRead: number; peakRssMiB: number; peakHeapMiB: number }

/** Writes the worker's objects for one document under `dir`: the whole response, page objects when `layout` is 'pages', the summary. */
function writeResult(dir: string, blockCount: number, layout: Layout): void {
  const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  const blocks = Array.from({ length: blockCount }, (_, i) => ({ ...fixture.Blocks[i % fixture.Blocks.length], Id: `b-${i}` }));
  const whole = { ...fixture, Blocks: blocks };
  const put = (key: string, body: string) => {
    mkdirSync(dirname(join(dir, key)), { recursive: true });
    writeFileSync(join(dir, key), body);
  };
  const textractKey = `results/${JOB_ID}/results/00000.textract.json`;
  put(textractKey, JSON.stringify(whole));
  const size = WorkerResultLayout.TEXTRACT_PAGE_BLOCKS;
  const count = Math.max(1, Math.ceil(blocks.length / size));
  if (layout === 'pages') {
    for (let page = 1; page <= count; page++) {
      put(workerTextractPageKey('results/', JOB_ID, 0, page), JSON.stringify({ ...whole, Blocks: blocks.slice((page - 1) * size, page * size) }));
    }
  }
  put(workerSummaryKey('results/', JOB_ID, 0), JSON.stringify({
    documents: [{
      index: 0,
      status: 'SUCCEEDED',
      outputKeys: { textract: textractKey },
      ...(layout === 'pages' ? { textractPages: { count, blocks: blocks.length } } : {}),
    }],
  }));
}

/** In a child process: page through the result in `dir` with `maxResults`, then report what it read and its peak memory. */
async function child(dir: string, layout: Layout, blockCount: number, maxResults: number): Promise<void> {
  const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' };
  const s3 = new S3Client({ region: 'us-east-1', credentials });
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials }));
  let bytesRead = 0;
  mockClient(ddb).on(GetCommand).resolves({ Item: { jobId: JOB_ID, owner: CALLER, documentCount: 1, state: 'SUCCEEDED' } });
  mockClient(s3).on(GetObjectCommand).callsFake(async (input: { Bucket?: string; Key?: string }) => {
    if (input.Bucket !== OUTPUT_BUCKET) throw new Error(`unexpected bucket ${input.Bucket}`);
    const file = join(dir, input.Key!);
    const size = statSync(file).size;
    bytesRead += size;
    // read when the handler asks for the text: the mock keeps what it returned, which must not hold the bytes
    return { ContentLength: size, Body: { transformToString: async () => readFileSync(file, 'utf8') } };
  });
  const handler = createTextractHandler({ clients: { s3, ddb } as never, config: CONFIG });
  let token: string | undefined;
  let calls = 0;
  let peakHeap = 0;
  do {
    // a full collection between calls, as between a Lambda function's invocations: the peak is one call's
    (global as { gc?: () => void }).gc?.();
    const out = await handler({
      body: JSON.stringify({ JobId: JOB_ID, MaxResults: maxResults, ...(token ? { NextToken: token } : {}) }),
      headers: { 'X-Amz-Target': 'Textract.GetDocumentTextDetection' },
      isBase64Encoded: false,
      requestContext: { requestId: `r${calls}`, identity: { caller: CALLER } },
    } as never);
    if (out.statusCode !== 200) throw new Error(`Get answered ${out.statusCode}: ${out.body}`);
    token = JSON.parse(out.body).NextToken;
    calls++;
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  } while (token);
  const run: Run = {
    layout,
    blocks: blockCount,
    maxResults,
    calls,
    bytesRead,
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    peakHeapMiB: Math.round(peakHeap / 2 ** 20),
  };
  process.stdout.write(JSON.stringify(run));
}

function main(): void {
  const runs: Run[] = [];
  const root = mkdtempSync(join(tmpdir(), 'textract-get-bench-'));
  try {
    const cases: Array<{ layout: Layout; blocks: number; maxResults: number }> = [
      { layout: 'pages', blocks: 100, maxResults: 1000 },
      { layout: 'whole', blocks: BLOCKS, maxResults: 1000 },
      { layout: 'pages', blocks: BLOCKS, maxResults: 1000 },
      // the whole response is read once per call whatever MaxResults is: only the page objects' reads change with it
      { layout: 'pages', blocks: BLOCKS, maxResults: 333 },
    ];
    for (const c of cases) {
      const dir = join(root, `${c.layout}-${c.blocks}`);
      try {
        statSync(dir);
      } catch {
        writeResult(dir, c.blocks, c.layout);
      }
      const out = spawnSync(process.execPath, ['--expose-gc', '-r', 'ts-node/register/transpile-only', __filename, 'child', dir, c.layout, String(c.blocks), String(c.maxResults)],
        { encoding: 'utf8', maxBuffer: 2 ** 20 });
      if (out.status !== 0) throw new Error(`run ${JSON.stringify(c)} failed: ${out.stderr}`);
      const run = JSON.parse(out.stdout) as Run;
      runs.push(run);
      process.stderr.write(`${JSON.stringify(run)}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const wholeBytes = runs.find((r) => r.layout === 'whole' && r.blocks === BLOCKS)!.bytesRead / runs.find((r) => r.layout === 'whole' && r.blocks === BLOCKS)!.calls;
  writeFileSync(RESULTS, JSON.stringify({ node: process.version, responseBytes: Math.round(wholeBytes), runs }, null, 2) + '\n');
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.log('| result | MaxResults | calls | read from S3 (MB) | peak RSS (MiB) | largest heap (MiB) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of runs) {
    const what = `${r.blocks.toLocaleString('en-US')} blocks, ${r.layout === 'pages' ? 'page objects' : 'whole response only'}`;
    console.log(`| ${what} | ${r.maxResults} | ${r.calls} | ${mb(r.bytesRead)} | ${r.peakRssMiB} | ${r.peakHeapMiB} |`);
  }
}

if (process.argv[2] === 'child') {
  child(process.argv[3], process.argv[4] as Layout, Number(process.argv[5]), Number(process.argv[6])).catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main();
}
