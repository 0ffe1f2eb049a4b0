/**
 * The whole (unpaged) GetDocumentTextDetection response for one document's result: what the
 * service pages through for its Get, and what a Batch job writes as the `textract` output
 * (`results/NNNNN.textract.json`), so that a reader of it never builds blocks itself.
 */
import type { OcrResult } from '../result.ts';
import { documentBlocks, type Block } from './blocks.ts';

export type TextractJobStatus = 'SUCCEEDED' | 'PARTIAL_SUCCESS' | 'FAILED';

export interface TextractWarning { ErrorCode: string; Pages: number[] }

/** GetDocumentTextDetection's response for a finished document, with every block (no NextToken). */
export interface TextractResponse {
  JobStatus: TextractJobStatus;
  StatusMessage?: string;
  Warnings?: TextractWarning[];
  DocumentMetadata: { Pages: number };
  Blocks: Block[];
  DetectDocumentTextModelVersion: string;
}

/** Pages that failed inside a finished document: Textract's PARTIAL_SUCCESS with its Warnings. */
function warnings(result: OcrResult): TextractWarning[] {
  const byCode = new Map<string, number[]>();
  for (const p of result.pages) {
    if (!p.error) continue;
    byCode.set(p.error.code, [...byCode.get(p.error.code) ?? [], p.pageNumber]);
  }
  return [...byCode].map(([ErrorCode, Pages]) => ({ ErrorCode, Pages }));
}

/**
 * The response for `result`; block ids are derived from `blockIdSeed` (the job's id on the service,
 * the Batch job and document index in a Batch job) and each block's place, so they are stable.
 */
export function textractResponse(result: OcrResult, blockIdSeed: string): TextractResponse {
  const DetectDocumentTextModelVersion = result.engine.version;
  if (result.status === 'FAILED') {
    return {
      JobStatus: 'FAILED', StatusMessage: `${result.error?.code ?? 'FAILED'}: ${result.error?.message ?? ''}`,
      DocumentMetadata: { Pages: result.pageCount }, Blocks: [], DetectDocumentTextModelVersion,
    };
  }
  const pageWarnings = warnings(result);
  return {
    JobStatus: pageWarnings.length > 0 ? 'PARTIAL_SUCCESS' : 'SUCCEEDED',
    ...(pageWarnings.length > 0 ? { Warnings: pageWarnings } : {}),
    DocumentMetadata: { Pages: result.pageCount },
    Blocks: documentBlocks(blockIdSeed, result.pages),
    DetectDocumentTextModelVersion,
  };
}

/**
 * `response` in pages of `pageBlocks` blocks, one at a time: what a Batch job writes as
 * `NNNNN.textract/1`, `/2`, ... (at least one page, so a response without blocks has its one empty
 * page). Every page repeats the response's other fields, as every GetDocumentTextDetection page does,
 * so that a Get call is answered from the one or two pages its blocks are in.
 */
export function* responsePages(response: TextractResponse, pageBlocks: number): Generator<TextractResponse> {
  for (let offset = 0; offset === 0 || offset < response.Blocks.length; offset += pageBlocks) {
    yield { ...response, Blocks: response.Blocks.slice(offset, offset + pageBlocks) };
  }
}

/** How many pages `responsePages` makes of `blockCount` blocks. */
export function responsePageCount(blockCount: number, pageBlocks: number): number {
  return Math.max(1, Math.ceil(blockCount / pageBlocks));
}
