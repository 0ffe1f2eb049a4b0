/**
 * Proves an example app end to end in a real AWS account: deploy it, send a sample document through its
 * front door, check the text that comes back, destroy the stack. Opt-in: it needs credentials for an
 * account you may deploy to (and is never run by CI).
 *
 *   npx ts-node --transpile-only build-tools/deploy-check.ts batch-ocr [ocr-service ...] [--keep] [--timeout-minutes 30]
 *   (or `npm run deploy:check -- batch-ocr`)
 *
 * Front doors:
 * - batch-ocr, bring-your-own (BatchOcrProcessor): `POST /uploads` for a pre-signed URL, PUT the scanned
 *   sample, `POST /jobs`, poll `GET /jobs/{id}` until the job ends, read the document's text. Requests are
 *   SigV4-signed with your credentials (the API's IAM authorization).
 * - ocr-service (OcrServiceCluster, internal load balancer): put the sample in the documents bucket and a
 *   PENDING item in the status table, as a producer does; the table's stream hands it to the service;
 *   poll the item until it ends, read `results/<id>/result.txt`.
 *
 * The account needs what docs/account-prerequisites.md lists (for ocr-service, the ECR pull-through cache
 * rule for public.ecr.aws). `--keep` leaves the stack for inspection.
 */
import { spawnSync } from 'child_process';
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export const ROOT = path.join(__dirname, '..');
export const SAMPLE = path.join(ROOT, 'assets', 'ocr-worker', 'samples', 'scanned-page.tif');
/** Words the scanned sample's OCR text must contain (it reads "The quick brown dog jumped over the lazy fox"). */
export const EXPECTED_WORDS = ['quick', 'brown', 'jumped', 'lazy', 'fox'];

export type FrontDoor = 'batch-api' | 'service-table';
const FRONT_DOORS: { [example: string]: FrontDoor } = { 'batch-ocr': 'batch-api', 'bring-your-own': 'batch-api', 'ocr-service': 'service-table' };

export interface DeployCheckArgs {
  readonly examples: string[];
  readonly keep: boolean;
  readonly timeoutMinutes: number;
}

/** Command-line arguments; throws with the usage on anything it does not understand. */
export function parseArgs(argv: string[]): DeployCheckArgs {
  const usage = `usage: deploy-check EXAMPLE... [--keep] [--timeout-minutes N]; examples: ${Object.keys(FRONT_DOORS).join(', ')}`;
  const examples: string[] = [];
  let keep = false;
  let timeoutMinutes = 30;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--keep') {
      keep = true;
    } else if (arg === '--timeout-minutes') {
      timeoutMinutes = Number(argv[++i]);
      if (!Number.isInteger(timeoutMinutes) || timeoutMinutes < 1) throw new Error(`--timeout-minutes must be a whole number of minutes; ${usage}`);
    } else if (FRONT_DOORS[arg]) {
      examples.push(arg);
    } else {
      throw new Error(`unknown argument '${arg}'; ${usage}`);
    }
  }
  if (examples.length === 0) throw new Error(usage);
  return { examples, keep, timeoutMinutes };
}

export function frontDoorOf(example: string): FrontDoor {
  return FRONT_DOORS[example];
}

/**
 * The one output of a stack whose key contains `name` (CloudFormation output keys are the construct
 * path's logical id, e.g. `OcrApiUrl4C3C8B2A`).
 */
export function findOutput(outputs: { [stack: string]: { [key: string]: string } }, name: string): string {
  const matches = Object.values(outputs).flatMap((o) => Object.entries(o)).filter(([key]) => key.includes(name));
  if (matches.length !== 1) throw new Error(`expected one stack output named like '${name}', found ${matches.length}: ${matches.map(([k]) => k).join(', ') || 'none'}`);
  return matches[0][1];
}

/** The expected words the text lacks (case-insensitive); empty when the OCR read the sample. */
export function missingWords(text: string, expected: string[] = EXPECTED_WORDS): string[] {
  const lower = text.toLowerCase();
  return expected.filter((w) => !lower.includes(w.toLowerCase()));
}

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** Calls `read` until `done` says so, or fails after the timeout naming the last value seen. */
export async function pollUntil<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, options: PollOptions): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (now() >= deadline) throw new Error(`${what}: not finished after ${Math.round(options.timeoutMs / 1000)} s; last seen ${JSON.stringify(value)}`);
    await sleep(options.intervalMs);
  }
}

/** A JSON request to the processor's API, SigV4-signed for execute-api with the caller's credentials. */
export async function signedApiRequest(apiUrl: string, method: 'GET' | 'POST', route: string, body: unknown, region: string,
  credentials?: AwsCredentialIdentityProvider): Promise<{ status: number; json: any }> {
  const url = new URL(route.replace(/^\//, ''), apiUrl.endsWith('/') ? apiUrl : `${apiUrl}/`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const signer = new SignatureV4({ service: 'execute-api', region, credentials: credentials ?? fromNodeProviderChain(), sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    headers: { host: url.hostname, ...(payload ? { 'content-type': 'application/json' } : {}) },
    body: payload,
  });
  const response = await fetch(url, { method, headers: signed.headers as Record<string, string>, body: payload });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { raw: text };
  }
  return { status: response.status, json };
}

function cdk(example: string, args: string[]): void {
  const bin = path.join(ROOT, 'node_modules', '.bin', 'cdk');
  const run = spawnSync(bin, [...args, '--no-notices'], { cwd: path.join(ROOT, 'examples', example), stdio: 'inherit' });
  if (run.status !== 0) throw new Error(`cdk ${args[0]} of examples/${example} failed (exit ${run.status})`);
}

async function checkBatchApi(outputs: { [stack: string]: { [key: string]: string } }, region: string, timeoutMs: number): Promise<string> {
  const apiUrl = findOutput(outputs, 'ApiUrl');
  const name = `deploy-check-${randomUUID()}.tif`;
  const upload = await signedApiRequest(apiUrl, 'POST', 'uploads', { key: name, contentType: 'image/tiff' }, region);
  if (upload.status !== 200) throw new Error(`POST /uploads answered ${upload.status}: ${JSON.stringify(upload.json)}`);
  const put = await fetch(upload.json.uploadUrl, { method: 'PUT', headers: { 'content-type': 'image/tiff' }, body: fs.readFileSync(SAMPLE) });
  if (!put.ok) throw new Error(`PUT to the upload URL answered ${put.status}`);
  const submit = await signedApiRequest(apiUrl, 'POST', 'jobs', { document: upload.json.key }, region);
  if (submit.status !== 202 && submit.status !== 200) throw new Error(`POST /jobs answered ${submit.status}: ${JSON.stringify(submit.json)}`);
  const jobId: string = submit.json.jobId;
  process.stderr.write(`job ${jobId} submitted; waiting for it to end\n`);
  const status = await pollUntil(`job ${jobId}`, async () => (await signedApiRequest(apiUrl, 'GET', `jobs/${jobId}`, undefined, region)).json,
    (s) => ['SUCCEEDED', 'FAILED', 'SUBMIT_FAILED'].includes(s?.state), { timeoutMs, intervalMs: 15_000 });
  const document = status.documents?.[0];
  if (status.state !== 'SUCCEEDED' || document?.status !== 'SUCCEEDED') throw new Error(`job ended ${status.state}: ${JSON.stringify(status)}`);
  return (await fetch(document.textUrl)).text();
}

async function checkServiceTable(outputs: { [stack: string]: { [key: string]: string } }, timeoutMs: number): Promise<string> {
  const bucket = findOutput(outputs, 'DocumentsBucketName');
  const table = findOutput(outputs, 'StatusTableName');
  const s3 = new S3Client({});
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  const id = `deploy-check-${randomUUID()}`;
  const key = `inbox/${id}.tif`;
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.readFileSync(SAMPLE), ContentType: 'image/tiff' }));
  const at = new Date().toISOString();
  await ddb.send(new PutCommand({
    TableName: table,
    Item: { document_id: id, bucket, key, status: 'PENDING', file_type: 'tif', created_at: at, updated_at: at },
    ConditionExpression: 'attribute_not_exists(document_id)',
  }));
  process.stderr.write(`document ${id} is PENDING; waiting for the service\n`);
  const item = await pollUntil(`document ${id}`, async () => (await ddb.send(new GetCommand({ TableName: table, Key: { document_id: id } }))).Item,
    (i) => i?.status === 'SUCCEEDED' || i?.status === 'FAILED', { timeoutMs, intervalMs: 10_000 });
  if (item?.status !== 'SUCCEEDED') throw new Error(`document ended ${item?.status}: ${JSON.stringify(item)}`);
  const text = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.text_key }));
  return text.Body!.transformToString();
}

async function checkExample(example: string, args: DeployCheckArgs, region: string): Promise<void> {
  const outputsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'deploy-check-'));
  const outputsFile = path.join(outputsDir, 'outputs.json');
  process.stderr.write(`== examples/${example}: deploying\n`);
  cdk(example, ['deploy', '--all', '--require-approval', 'never', '--outputs-file', outputsFile]);
  try {
    const outputs = JSON.parse(fs.readFileSync(outputsFile, 'utf8'));
    const timeoutMs = args.timeoutMinutes * 60_000;
    const text = frontDoorOf(example) === 'batch-api' ? await checkBatchApi(outputs, region, timeoutMs) : await checkServiceTable(outputs, timeoutMs);
    const missing = missingWords(text);
    if (missing.length > 0) throw new Error(`the result text lacks ${missing.join(', ')}: ${text.slice(0, 300)}`);
    process.stderr.write(`== examples/${example}: the sample came back with its text\n`);
  } finally {
    fs.rmSync(outputsDir, { recursive: true, force: true });
    if (args.keep) {
      process.stderr.write(`== examples/${example}: kept (--keep); destroy it with: cd examples/${example} && npx cdk destroy --all\n`);
    } else {
      process.stderr.write(`== examples/${example}: destroying\n`);
      cdk(example, ['destroy', '--all', '--force']);
    }
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const region = process.env.CDK_DEFAULT_REGION ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('set AWS_REGION (or CDK_DEFAULT_REGION) to the Region to deploy to');
  const failed: string[] = [];
  for (const example of args.examples) {
    try {
      await checkExample(example, args, region);
    } catch (e) {
      process.stderr.write(`== examples/${example}: FAILED: ${(e as Error).message}\n`);
      failed.push(example);
    }
  }
  if (failed.length > 0) {
    process.stderr.write(`failed: ${failed.join(', ')}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(2);
  });
}
