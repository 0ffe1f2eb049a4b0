/**
 * Code written for Amazon Textract's asynchronous text detection, pointed at the processor's API:
 * the same client and requests; the client's endpoint is the stack's `ApiUrl` output and it signs for
 * API Gateway (signing name `execute-api`) with your usual AWS credentials, which need
 * `execute-api:Invoke` on the API.
 *
 *   node textract-client.ts <ApiUrl> <InputBucketName> <key>      (Node.js 24; on older Node.js, npx ts-node)
 *
 * The key is a document in the input bucket that you may name: one you uploaded through the API's
 * `POST /uploads` (the key it answers with), or one under the processor's allowedInputPrefixes.
 * Starts the job, waits for it, pages through GetDocumentTextDetection and prints the lines.
 */
import {
  GetDocumentTextDetectionCommand, StartDocumentTextDetectionCommand, TextractClient,
  type Block, type TextractClientConfig,
} from '@aws-sdk/client-textract';

/**
 * A Textract client for the processor's API. `signingName` is a client setting the SDK reads, but
 * not part of TextractClientConfig's type: hence the intersection.
 */
export function textractClientFor(apiUrl: string, options: Partial<TextractClientConfig> = {}): TextractClient {
  const config: TextractClientConfig & { signingName: string } = {
    endpoint: apiUrl,
    // The API's Region; the SDK signs every request, so it needs one (and credentials, from its usual chain).
    region: process.env.AWS_REGION ?? 'us-east-1',
    signingName: 'execute-api',
    ...options,
  };
  return new TextractClient(config);
}

export interface WaitOptions {
  /** Pause between two Gets while the job is IN_PROGRESS. @default 10 seconds (a Batch job takes minutes) */
  readonly pollIntervalMs?: number;
  /** How to pause. @default a timer */
  readonly wait?: (ms: number) => Promise<void>;
}

/** Every block of a finished job, 1,000 per Get, following NextToken; waits while the job is IN_PROGRESS. */
export async function jobBlocks(textract: TextractClient, jobId: string, options: WaitOptions = {}): Promise<Block[]> {
  const wait = options.wait ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const blocks: Block[] = [];
  let nextToken: string | undefined;
  for (;;) {
    const page = await textract.send(new GetDocumentTextDetectionCommand({ JobId: jobId, MaxResults: 1000, NextToken: nextToken }));
    if (page.JobStatus === 'IN_PROGRESS') {
      await wait(options.pollIntervalMs ?? 10_000);
      continue;
    }
    if (page.JobStatus === 'FAILED') throw new Error(`job ${jobId} failed: ${page.StatusMessage}`);
    blocks.push(...page.Blocks ?? []);
    nextToken = page.NextToken;
    if (!nextToken) return blocks;
  }
}

/** Start text detection of s3://bucket/key through the API, wait for it, and return the document's lines in order. */
export async function linesOf(textract: TextractClient, bucket: string, key: string, options: WaitOptions = {}): Promise<string[]> {
  const { JobId } = await textract.send(new StartDocumentTextDetectionCommand({ DocumentLocation: { S3Object: { Bucket: bucket, Name: key } } }));
  const blocks = await jobBlocks(textract, JobId!, options);
  return blocks.filter((b) => b.BlockType === 'LINE').map((b) => b.Text ?? '');
}

// run as a script (not when a test imports linesOf)
if (process.argv[1]?.endsWith('textract-client.ts')) {
  const [apiUrl, bucket, key] = process.argv.slice(2);
  if (!apiUrl || !bucket || !key) {
    process.stderr.write('usage: node textract-client.ts <ApiUrl> <InputBucketName> <key>\n');
    process.exit(2);
  }
  const textract = textractClientFor(apiUrl);
  linesOf(textract, bucket, key).then(
    (lines) => process.stdout.write(lines.join('\n') + '\n'),
    (err: Error) => { process.stderr.write(`${err.name}: ${err.message}\n`); process.exit(1); },
  ).finally(() => textract.destroy());
}
