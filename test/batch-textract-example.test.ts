/**
 * examples/batch-ocr/textract-client.ts against the processor's Textract handler: the example's own
 * client configuration (signing name execute-api, the API's URL as endpoint) reaches the handler
 * through the API Gateway stand-in, starts a job, waits while it is IN_PROGRESS, pages through the
 * worker's result and returns its lines.
 */
import { readFileSync } from 'fs';
import { Server } from 'http';
import { AddressInfo } from 'net';
import { join } from 'path';
import { SubmitJobCommand } from '@aws-sdk/client-batch';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { StartDocumentTextDetectionCommand } from '@aws-sdk/client-textract';
import { INPUT_BUCKET, mockedClients, OUTPUT_BUCKET, testConfig } from './helpers/batch-ocr-api';
import { apiGatewayServer, DOC, FIXTURES, inMemoryAws, KEYS, longResponse, TEXTRACT_FIXTURE, workerWroteTextract } from './helpers/textract-api';
import { jobBlocks, linesOf, textractClientFor } from '../examples/batch-ocr/textract-client';
import { createTextractHandler } from '../src/batch-ocr-processor/textract-api';
import { workerSummaryKey } from '../src/common/worker-contract';

const RESULT = JSON.parse(readFileSync(join(FIXTURES, 'phototest.result.json'), 'utf8'));

describe('examples/batch-ocr/textract-client.ts', () => {
  let server: Server;
  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  test('GIVEN the stack\'s ApiUrl WHEN linesOf a document THEN it starts the job, polls while IN_PROGRESS, and prints the worker\'s lines', async () => {
    const m = mockedClients();
    const aws = inMemoryAws(m);
    // Without gathering the Start submits the job itself: the Batch job id is the Textract JobId.
    server = apiGatewayServer(createTextractHandler({ clients: m.clients, config: testConfig({ allowedInputPrefixes: ['shared/'] }) }), []);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`;
    const textract = textractClientFor(apiUrl, { credentials: { accessKeyId: 'AKIDALICE', secretAccessKey: KEYS.AKIDALICE.secretAccessKey }, maxAttempts: 1 });

    const waits: number[] = [];
    const lines = await linesOf(textract, INPUT_BUCKET, DOC, {
      pollIntervalMs: 5,
      // The worker finishes while the client waits: its Textract response and its child's summary.
      wait: async (ms) => {
        waits.push(ms);
        const jobId = m.batch.commandCalls(SubmitJobCommand)[0].args[0].input.jobName!.replace(/^ocr-/, '');
        const textractKey = `results/${jobId}/results/00000.textract.json`;
        aws.objects.set(`${OUTPUT_BUCKET}/${textractKey}`, TEXTRACT_FIXTURE);
        aws.objects.set(`${OUTPUT_BUCKET}/${workerSummaryKey('results/', jobId, 0)}`, JSON.stringify({
          documents: [{ index: 0, key: DOC, status: 'SUCCEEDED', outputKeys: { textract: textractKey } }],
        }));
      },
    });
    expect(waits).toEqual([5]);
    expect(lines).toEqual(RESULT.pages[0].lines.map((l: { text: string }) => l.text));
    expect(lines.length).toBeGreaterThan(3);
    textract.destroy();
  });

  test('GIVEN a job whose result spans pages WHEN jobBlocks THEN it follows NextToken to the last block', async () => {
    const m = mockedClients();
    const aws = inMemoryAws(m);
    server = apiGatewayServer(createTextractHandler({ clients: m.clients, config: testConfig({ allowedInputPrefixes: ['shared/'] }) }), []);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const textract = textractClientFor(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/`,
      { credentials: { accessKeyId: 'AKIDALICE', secretAccessKey: KEYS.AKIDALICE.secretAccessKey }, maxAttempts: 1 });
    const { JobId } = await textract.send(new StartDocumentTextDetectionCommand({
      DocumentLocation: { S3Object: { Bucket: INPUT_BUCKET, Name: DOC } },
    }));
    // 2,500 blocks: three Gets of at most 1,000, each from one of the worker's page objects.
    const stored = longResponse(2500);
    workerWroteTextract(aws.objects, JobId!, stored);
    const all = await jobBlocks(textract, JobId!);
    expect(all.map((b) => b.Id)).toEqual(JSON.parse(stored).Blocks.map((b: { Id: string }) => b.Id));
    const reads = m.s3.commandCalls(GetObjectCommand).map((c) => c.args[0].input.Key!).filter((k) => k.includes('.textract'));
    expect(reads).toEqual([1, 2, 3].map((n) => `results/${JobId}/results/00000.textract/${n}`));
    textract.destroy();
  });
});
