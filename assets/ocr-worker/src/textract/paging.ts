/**
 * GetDocumentTextDetection's answer for a finished job, page by page: what Get returns for one call
 * (MaxResults blocks from NextToken's offset) and what OutputConfig writes as the objects `1`, `2`, ...
 * (each one Get page of the largest size), so that the two are the same answers.
 */
import type { OcrResult } from '../result.ts';
import type { DocumentItem } from '../service/stores.ts';
import { invalidParameter } from './protocol.ts';
import { textractResponse, type TextractResponse } from './response.ts';

/** GetDocumentTextDetection's page size: at most 1,000 blocks per call, and 1,000 by default. */
export const MAX_RESULTS_LIMIT = 1000;

/** A finished job's whole answer, before paging: with blocks, or FAILED without them. */
export type FinishedAnswer =
  | TextractResponse
  | { JobStatus: 'FAILED'; StatusMessage: string; DocumentMetadata?: { Pages: number }; Warnings?: undefined };

/**
 * The whole answer for a finished job: from its result, or, when it FAILED before the engine read it
 * (no result: the object is missing, attempts ran out), from the status item's error.
 */
export function finishedAnswer(jobId: string, result: OcrResult | undefined, item: Pick<DocumentItem, 'error_code' | 'error_message'>): FinishedAnswer {
  if (!result) {
    return { JobStatus: 'FAILED', StatusMessage: `${item.error_code ?? 'FAILED'}: ${item.error_message ?? 'the document could not be read'}` };
  }
  const whole = textractResponse(result, jobId);
  if (whole.JobStatus === 'FAILED') {
    const { Blocks: _none, DetectDocumentTextModelVersion: _version, ...failed } = whole;
    return failed as FinishedAnswer;
  }
  return whole;
}

/** Textract's NextToken: opaque to the client; here the job and the offset of the next block. */
export function nextToken(jobId: string, offset: number): string {
  return Buffer.from(JSON.stringify({ j: jobId, o: offset })).toString('base64url');
}

/** The block offset a NextToken of this job stands for (0 without one). */
export function offsetOf(token: unknown, jobId: string): number {
  if (token === undefined) return 0;
  if (typeof token !== 'string' || token.length > 255) throw invalidParameter('NextToken is not a token this job returned.');
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { j?: unknown; o?: unknown };
    if (parsed.j === jobId && Number.isInteger(parsed.o) && (parsed.o as number) >= 0) return parsed.o as number;
  } catch { /* not ours */ }
  throw invalidParameter('NextToken is not a token this job returned.');
}

/** One Get call's answer: `pageSize` blocks from `offset`, with a NextToken when more follow. */
export function answerPage(answer: FinishedAnswer, jobId: string, offset: number, pageSize: number): Record<string, unknown> {
  if (!('Blocks' in answer)) return { ...answer };
  const more = offset + pageSize < answer.Blocks.length;
  return {
    ...answer,
    Blocks: answer.Blocks.slice(offset, offset + pageSize),
    ...(more ? { NextToken: nextToken(jobId, offset + pageSize) } : {}),
  };
}

/** Every Get page of the largest size, in order: the objects OutputConfig writes. */
export function allAnswerPages(answer: FinishedAnswer, jobId: string): Array<Record<string, unknown>> {
  if (!('Blocks' in answer)) return [answerPage(answer, jobId, 0, MAX_RESULTS_LIMIT)];
  const pages: Array<Record<string, unknown>> = [];
  // a job without blocks still has its one (empty) page
  for (let offset = 0; offset === 0 || offset < answer.Blocks.length; offset += MAX_RESULTS_LIMIT) {
    pages.push(answerPage(answer, jobId, offset, MAX_RESULTS_LIMIT));
  }
  return pages;
}
