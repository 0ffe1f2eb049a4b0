/**
 * Code written for Amazon Textract, pointed at the OCR service: the same client and requests, only the
 * endpoint changes (the stack's `ServiceUrl` output; the service is internal, so run this from inside
 * the VPC or through a tunnel).
 *
 *   node textract-client.ts <service URL> <file>                 one page: DetectDocumentText
 *   node textract-client.ts <service URL> s3://<bucket>/<key>    any length: Start/GetDocumentTextDetection
 *
 * The bucket is the stack's `DocumentsBucketName`. Prints the document's lines, one per line.
 */
import { readFileSync } from 'fs';
import {
  DetectDocumentTextCommand, GetDocumentTextDetectionCommand, StartDocumentTextDetectionCommand, TextractClient,
  type Block,
} from '@aws-sdk/client-textract';

/** Every block of a finished job, following NextToken; waits while the job is IN_PROGRESS. */
async function jobBlocks(textract: TextractClient, jobId: string): Promise<Block[]> {
  const blocks: Block[] = [];
  let nextToken: string | undefined;
  for (;;) {
    const page = await textract.send(new GetDocumentTextDetectionCommand({ JobId: jobId, NextToken: nextToken }));
    if (page.JobStatus === 'IN_PROGRESS') {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      continue;
    }
    if (page.JobStatus === 'FAILED') throw new Error(`job ${jobId} failed: ${page.StatusMessage}`);
    blocks.push(...page.Blocks ?? []);
    nextToken = page.NextToken;
    if (!nextToken) return blocks;
  }
}

export async function linesOf(endpoint: string, document: string): Promise<string[]> {
  // the SDK signs every request, so it needs a Region and credentials (its usual chain finds them)
  const textract = new TextractClient({ endpoint, region: process.env.AWS_REGION ?? 'us-east-1' });
  try {
    const s3 = /^s3:\/\/([^/]+)\/(.+)$/.exec(document);
    const blocks = s3
      ? await jobBlocks(textract, (await textract.send(new StartDocumentTextDetectionCommand({
        DocumentLocation: { S3Object: { Bucket: s3[1], Name: s3[2] } },
      }))).JobId!)
      : (await textract.send(new DetectDocumentTextCommand({ Document: { Bytes: readFileSync(document) } }))).Blocks ?? [];
    return blocks.filter((b) => b.BlockType === 'LINE').map((b) => b.Text ?? '');
  } finally {
    textract.destroy();
  }
}

// run as a script (not when a test imports linesOf)
if (process.argv[1]?.endsWith('textract-client.ts')) {
  const [endpoint, document] = process.argv.slice(2);
  if (!endpoint || !document) {
    process.stderr.write('usage: node textract-client.ts <service URL> <file | s3://bucket/key>\n');
    process.exit(2);
  }
  linesOf(endpoint, document).then(
    (lines) => process.stdout.write(lines.join('\n') + '\n'),
    (err: Error) => { process.stderr.write(`${err.name}: ${err.message}\n`); process.exit(1); },
  );
}
