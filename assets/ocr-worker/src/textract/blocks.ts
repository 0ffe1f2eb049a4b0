/**
 * A result's pages as Textract `Block`s: per page one PAGE, its LINEs and their WORDs, with
 * `Geometry` (BoundingBox and the four-point Polygon, normalized to the page as the result's boxes
 * are), `Confidence`, `Relationships` of type CHILD (page → lines, line → words) and `Page`.
 *
 * Block ids are UUIDs derived from the job and the block's place, so that every call for the same
 * job (each page of GetDocumentTextDetection's pagination) names a block the same way.
 */
import { createHash } from 'node:crypto';
import type { BoundingBox as Box, Word } from '../geometry.ts';
import type { PageResult } from '../result.ts';

/** What of a result page the blocks are made from. */
type GeometryPage = Pick<PageResult, 'pageNumber' | 'words' | 'lines'>;

export interface BlockBoundingBox { Width: number; Height: number; Left: number; Top: number }
export interface Point { X: number; Y: number }
export interface Block {
  BlockType: 'PAGE' | 'LINE' | 'WORD';
  Id: string;
  Page: number;
  Geometry: { BoundingBox: BlockBoundingBox; Polygon: Point[] };
  Confidence?: number;
  Text?: string;
  TextType?: 'PRINTED';
  Relationships?: Array<{ Type: 'CHILD'; Ids: string[] }>;
}

const WHOLE_PAGE: Box = { left: 0, top: 0, width: 1, height: 1 };

/** A UUID (version 8, RFC 9562's custom layout) from a SHA-256 of the name. */
export function blockId(name: string): string {
  const h = createHash('sha256').update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const hex = h.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

function geometry(b: Box): Block['Geometry'] {
  const right = b.left + b.width;
  const bottom = b.top + b.height;
  return {
    BoundingBox: { Width: b.width, Height: b.height, Left: b.left, Top: b.top },
    Polygon: [{ X: b.left, Y: b.top }, { X: right, Y: b.top }, { X: right, Y: bottom }, { X: b.left, Y: bottom }],
  };
}

/** The blocks of one page, PAGE first, then each LINE followed by its WORDs (Textract's order). */
export function pageBlocks(jobId: string, page: GeometryPage): Block[] {
  const words = page.words ?? [];
  const lines = page.lines ?? [];
  const id = (kind: string, i: number): string => blockId(`${jobId}/${page.pageNumber}/${kind}/${i}`);
  const wordIds = words.map((_, i) => id('word', i));
  const lineBlocks: Block[] = [];
  const inLine = new Set<number>();
  for (const [i, line] of lines.entries()) {
    const children = line.words.filter((w) => w >= 0 && w < words.length);
    children.forEach((w) => inLine.add(w));
    lineBlocks.push({
      BlockType: 'LINE', Id: id('line', i), Page: page.pageNumber, Geometry: geometry(line.bbox),
      Confidence: line.confidence, Text: line.text,
      ...(children.length > 0 ? { Relationships: [{ Type: 'CHILD' as const, Ids: children.map((w) => wordIds[w]) }] } : {}),
    });
    for (const w of children) lineBlocks.push(wordBlock(words[w], wordIds[w], page.pageNumber));
  }
  // a word no line claims still belongs to the page's text: it is listed after the lines
  const loose = words.flatMap((w, i) => (inLine.has(i) ? [] : [wordBlock(w, wordIds[i], page.pageNumber)]));
  const pageChildren = [...lineBlocks.filter((b) => b.BlockType === 'LINE').map((b) => b.Id), ...loose.map((b) => b.Id)];
  const pageBlock: Block = {
    BlockType: 'PAGE', Id: id('page', 0), Page: page.pageNumber, Geometry: geometry(WHOLE_PAGE),
    ...(pageChildren.length > 0 ? { Relationships: [{ Type: 'CHILD' as const, Ids: pageChildren }] } : {}),
  };
  return [pageBlock, ...lineBlocks, ...loose];
}

function wordBlock(word: Word, id: string, page: number): Block {
  return {
    BlockType: 'WORD', Id: id, Page: page, Geometry: geometry(word.bbox),
    Confidence: word.confidence, Text: word.text, TextType: 'PRINTED',
  };
}

/** Every page's blocks, in page order. */
export function documentBlocks(jobId: string, pages: GeometryPage[]): Block[] {
  return pages.flatMap((p) => pageBlocks(jobId, p));
}
