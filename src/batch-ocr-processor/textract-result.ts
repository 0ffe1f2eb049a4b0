/**
 * A Textract request's result, as GetDocumentTextDetection answers it: read from the worker's
 * `NNNNN.textract.json` for the request's document (the whole response), or the job's failure when
 * it ended without one. The job state handler reads the whole response (it copies every page to an
 * OutputConfig bucket and names the status in the completion message); Get reads only the one or two
 * page objects of 1,000 blocks (`NNNNN.textract/1`, `/2`, ...) its answer is in, and the whole
 * response only for results written before the worker wrote pages.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients, JobRecord, ProcessorConfig } from './jobs';
import { WorkerResultLayout, workerSummaryKey, workerTextractPageKey } from '../common/worker-contract';

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
  /** The page objects of the Textract response: how many, and the blocks in all (workers that write them). */
  textractPages?: { count?: unknown; blocks?: unknown };
}

type WholeResponse = Json & { JobStatus: string; Blocks?: unknown[] };

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

/** Where a request's result is: nothing final yet, a failure without a result, or its document in a worker's summary. */
type Located =
  | Exclude<TextractResult, { kind: 'final' }>
  | { readonly kind: 'final'; readonly response: WholeResponse }
  | { readonly kind: 'document'; readonly document: SummaryDocument; readonly textractKey: string; readonly batchJobId: string };

async function locateResult(clients: Pick<Clients, 's3' | 'ddb'>, config: ProcessorConfig, record: JobRecord): Promise<Located> {
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
  if (!document || batchJobId === undefined) {
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
  return { kind: 'document', document, textractKey, batchJobId };
}

/** A FAILED response answers without blocks, as Textract's does. */
function withoutBlocksIfFailed(response: WholeResponse): WholeResponse {
  if (response.JobStatus !== 'FAILED') return response;
  const { Blocks: _none, ...failed } = response;
  return failed as WholeResponse;
}

/** What there is to answer for one Get call: as `TextractResult`, with the one page Get returns instead of the whole response. */
export type TextractAnswer = Exclude<TextractResult, { kind: 'final' }> | { readonly kind: 'final'; readonly page: Json };

/** The summary's page figures, when they are whole numbers that agree with each other; else the page objects are not used. */
function pagingOf(document: SummaryDocument): { count: number; blocks: number } | undefined {
  const { count, blocks } = document.textractPages ?? {};
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(blocks) || (blocks as number) < 0) return undefined;
  const expected = Math.max(1, Math.ceil((blocks as number) / WorkerResultLayout.TEXTRACT_PAGE_BLOCKS));
  return count === expected ? { count, blocks: blocks as number } : undefined;
}

/**
 * One Get call's answer for a single-document request: `pageSize` blocks from block `offset`, with
 * the NextToken of the next ones, the same answer `responsePage` gives from the whole response. It
 * reads the page object the offset is in and, when the answer runs past its end, the next one (a
 * page object holds as many blocks as the largest MaxResults, so never more than two); results
 * without page objects are answered from the whole response.
 */
export async function readTextractAnswer(
  clients: Pick<Clients, 's3' | 'ddb'>, config: ProcessorConfig, record: JobRecord, jobId: string, offset: number, pageSize: number,
): Promise<TextractAnswer> {
  const located = await locateResult(clients, config, record);
  if (located.kind === 'in-progress' || located.kind === 'not-textract') return located;
  if (located.kind === 'final') return { kind: 'final', page: responsePage(jobId, located.response, offset, pageSize) };
  const paging = pagingOf(located.document);
  if (!paging) {
    const whole = withoutBlocksIfFailed(await readJson(clients, config, located.textractKey) as WholeResponse);
    return { kind: 'final', page: responsePage(jobId, whole, offset, pageSize) };
  }
  const perObject = WorkerResultLayout.TEXTRACT_PAGE_BLOCKS;
  // An offset past the last block reads the last page object: its fields, and no blocks.
  const first = Math.min(Math.floor(offset / perObject) + 1, paging.count);
  const end = Math.min(offset + pageSize, paging.blocks);
  const last = Math.min(Math.max(first, Math.ceil(end / perObject)), paging.count);
  const index = located.document.index;
  const objects = await Promise.all(Array.from({ length: last - first + 1 }, (_, i) =>
    readJson(clients, config, workerTextractPageKey(config.outputPrefix, located.batchJobId, index, first + i)) as Promise<WholeResponse>));
  const head = withoutBlocksIfFailed(objects[0]);
  if (head.Blocks === undefined) return { kind: 'final', page: head };
  const blocks = objects.length === 1 ? head.Blocks : objects.flatMap((o) => o.Blocks ?? []);
  const start = offset - (first - 1) * perObject;
  return {
    kind: 'final',
    page: {
      ...head,
      Blocks: blocks.slice(start, start + pageSize),
      ...(offset + pageSize < paging.blocks ? { NextToken: nextToken(jobId, offset + pageSize) } : {}),
    },
  };
}

/**
 * NextToken: opaque to the client; here the job and the offset of the next block in the whole
 * response. Page objects hold a fixed number of blocks, so the offset names the page object
 * (`offset / TEXTRACT_PAGE_BLOCKS + 1`) and the block in it (the remainder); a token is the same
 * whether the answer came from the page objects or the whole response, and tokens handed out before
 * the worker wrote page objects stay valid.
 */
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
