/**
 * A Textract request's result, as GetDocumentTextDetection answers it: read from the worker's
 * `NNNNN.textract.json` for the request's document (the whole response), or the job's failure when
 * it ended without one. Shared by Get (which pages it) and by the job state handler, which copies
 * the pages to an OutputConfig bucket and names the status in the completion message.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients, JobRecord, ProcessorConfig } from './jobs';
import { workerSummaryKey } from '../common/worker-contract';

type Json = { [key: string]: unknown };

/** GetDocumentTextDetection's page size: at most 1,000 blocks per call, and 1,000 by default. */
export const MAX_RESULTS_LIMIT = 1000;

/** What there is to answer for a request. */
export type TextractResult =
  /** The document has no result yet and its job is still going. */
  | { readonly kind: 'in-progress' }
  /** The request's job was not a Textract one (it has no Textract response). */
  | { readonly kind: 'not-textract' }
  /** The whole GetDocumentTextDetection response: the worker's, or FAILED when the job ended without one. */
  | { readonly kind: 'final'; readonly response: Json & { JobStatus: string; Blocks?: unknown[] } };

interface SummaryDocument {
  index: number;
  status: string;
  outputKeys?: { textract?: string };
}

export async function readRecord(clients: Pick<Clients, 'ddb'>, config: ProcessorConfig, jobId: string): Promise<JobRecord | undefined> {
  const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId }, ConsistentRead: true }));
  return got.Item as JobRecord | undefined;
}

export async function readJson(clients: Pick<Clients, 's3'>, config: ProcessorConfig, key: string): Promise<unknown> {
  const obj = await clients.s3.send(new GetObjectCommand({ Bucket: config.outputBucket, Key: key }));
  return JSON.parse(await obj.Body!.transformToString());
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/** The result of a single-document request: a gathered request's document in its shared job, or a job of its own. */
export async function readTextractResult(clients: Pick<Clients, 's3' | 'ddb'>, config: ProcessorConfig, record: JobRecord): Promise<TextractResult> {
  const batchJobId = record.gatheredInto ?? (record.state === 'GATHERING' ? undefined : record.jobId);
  const shared = record.gatheredInto !== undefined ? await readRecord(clients, config, record.gatheredInto) : record;
  let document: SummaryDocument | undefined;
  if (batchJobId !== undefined) {
    try {
      const summaryKey = workerSummaryKey(config.outputPrefix, batchJobId, record.childIndex ?? 0);
      const summary = await readJson(clients, config, summaryKey) as { documents?: SummaryDocument[] };
      document = summary.documents?.find((d) => d.index === (record.documentIndex ?? 0));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  if (!document) {
    const state = record.state === 'SUBMIT_FAILED' ? record.state : shared?.state ?? record.state;
    if (state === 'FAILED' || state === 'SUBMIT_FAILED' || state === 'SUCCEEDED') {
      const reason = (record.state === 'SUBMIT_FAILED' ? record.statusReason : shared?.statusReason) ?? 'the job ended without a result for the document';
      // A job that succeeded without this document's result still failed for this caller.
      return { kind: 'final', response: { JobStatus: 'FAILED', StatusMessage: state === 'SUCCEEDED' ? reason : `${state}: ${reason}` } };
    }
    return { kind: 'in-progress' };
  }
  const textractKey = document.outputKeys?.textract;
  if (!textractKey) return { kind: 'not-textract' };
  const whole = await readJson(clients, config, textractKey) as Json & { JobStatus: string; Blocks?: unknown[] };
  if (whole.JobStatus === 'FAILED') {
    const { Blocks: _none, ...failed } = whole;
    return { kind: 'final', response: failed as typeof whole };
  }
  return { kind: 'final', response: whole };
}

/** NextToken: opaque to the client; here the job and the offset of the next block. */
export function nextToken(jobId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ j: jobId, o: offset })).toString('base64url');
}

/** The offset a NextToken of this job names; undefined when it is not one of this job's tokens. */
export function offsetOfToken(token: string, jobId: string): number | undefined {
  if (token.length > 255) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { j?: unknown; o?: unknown };
    if (parsed.j === jobId && Number.isInteger(parsed.o) && (parsed.o as number) >= 0) return parsed.o as number;
  } catch { /* not one of ours */ }
  return undefined;
}

/** One page of a response, as GetDocumentTextDetection answers it: `pageSize` blocks from `offset`, and the token of the next page. */
export function responsePage(jobId: string, whole: Json & { Blocks?: unknown[] }, offset: number, pageSize: number): Json {
  if (whole.Blocks === undefined) return whole;
  const more = offset + pageSize < whole.Blocks.length;
  return {
    ...whole,
    Blocks: whole.Blocks.slice(offset, offset + pageSize),
    ...(more ? { NextToken: nextToken(jobId, offset + pageSize) } : {}),
  };
}
