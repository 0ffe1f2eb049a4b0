/**
 * Writes the Batch API's Textract fixtures (test/fixtures/textract/ of the library): runs the
 * worker's Batch function on a real scan with job option outputs ['json', 'textract'] against an
 * in-memory S3, and keeps the scan's JSON result and `.textract.json`, and the `.textract.json` of
 * a document that is not there (FAILED), as the worker wrote them. Run again when the engine or the blocks change:
 *
 *   node --disable-warning=ExperimentalWarning tools/textract-fixture.ts
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { S3Client } from '@aws-sdk/client-s3';
import { runBatch } from '../src/batch.ts';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', '..', 'test', 'fixtures', 'textract');
const jobId = 'fixture-job';
const manifest = { schemaVersion: 1, jobId, documents: [{ key: 'phototest.tif' }, { key: 'missing.tif' }], options: { outputs: ['json', 'textract'], geometry: true } };
const store = new Map<string, Buffer>([
  ['out/m.json', Buffer.from(JSON.stringify(manifest))],
  ['in/phototest.tif', readFileSync(join(here, '..', 'test', 'fixtures', 'ocr', 'phototest.tif'))],
]);

/** The three S3 calls the worker makes, on the map above. */
const s3 = {
  async send(command: { constructor: { name: string }; input: { Bucket: string; Key: string; Body?: string | Uint8Array } }) {
    const key = `${command.input.Bucket}/${command.input.Key}`;
    const name = command.constructor.name;
    if (name === 'PutObjectCommand') { store.set(key, Buffer.from(command.input.Body!)); return {}; }
    const b = store.get(key);
    if (!b) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    return name === 'HeadObjectCommand' ? { ContentLength: b.length } : { ContentLength: b.length, Body: { transformToByteArray: async () => new Uint8Array(b) } };
  },
} as unknown as S3Client;

const code = await runBatch({ OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', OCR_JOB_ID: jobId, OCR_MANIFEST_KEY: 'm.json', OCR_WORKERS: '1' },
  { s3, log: () => undefined, metrics: () => undefined });
if (code !== 0) throw new Error(`the worker exited ${code}`);
mkdirSync(out, { recursive: true });
const pretty = (key: string): string => `${JSON.stringify(JSON.parse(store.get(`out/results/${jobId}/results/${key}`)!.toString()), null, 1)}\n`;
writeFileSync(join(out, 'phototest.result.json'), pretty('00000.json'));
writeFileSync(join(out, 'phototest.textract.json'), pretty('00000.textract.json'));
writeFileSync(join(out, 'missing.textract.json'), pretty('00001.textract.json'));
console.log(`wrote ${out}`);
