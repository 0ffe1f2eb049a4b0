/**
 * Word and line geometry of a page: where each word is, normalized to the page as the user sees it
 * (0..1 from the top-left corner, the convention of Amazon Textract's BoundingBox), in reading order.
 *
 * OCR pages get theirs from Tesseract's own word boxes (its TSV output, which both backends produce),
 * mapped back through the rotation auto-orientation applied; normalizing by the size of the image
 * Tesseract read undoes any downscaling. Text-layer pages get theirs from pdf.js' text items
 * (textlayer-geometry.ts).
 */

/** A box normalized to the page: fractions of its width and height, from its top-left corner. */
export interface BoundingBox { left: number; top: number; width: number; height: number }

export interface Word {
  text: string;
  /** 0..100: Tesseract's word confidence (OCR pages); 100 for text-layer words. */
  confidence: number;
  bbox: BoundingBox;
}

export interface Line {
  text: string;
  /** Mean confidence of its words. */
  confidence: number;
  bbox: BoundingBox;
  /** Indices of its words in the page's `words`. */
  words: number[];
}

export interface PageGeometry { words: Word[]; lines: Line[] }

/** A word in pixels of the image Tesseract read, with the line it belongs to. */
export interface PixelWord {
  text: string;
  confidence: number;
  left: number;
  top: number;
  width: number;
  height: number;
  /** Identifies its line within the page (Tesseract's block, paragraph and line numbers). */
  line: string;
}

/** Decimal places kept in normalized coordinates: 1e-4 of an A4 page at 300 dpi is a quarter pixel. */
const PLACES = 1e4;

function round(x: number): number {
  return Math.round(x * PLACES) / PLACES;
}

/**
 * The words of Tesseract's TSV output (level 5 rows), in its reading order. Rows with blank text
 * (Tesseract's placeholders for image regions) are skipped, as its text output skips them.
 */
export function wordsFromTsv(tsv: string): PixelWord[] {
  const out: PixelWord[] = [];
  for (const row of tsv.split('\n')) {
    const f = row.split('\t');
    // level, page_num, block_num, par_num, line_num, word_num, left, top, width, height, conf, text
    if (f.length < 12 || f[0] !== '5') continue;
    const text = f.slice(11).join('\t').trim();
    if (text === '') continue;
    const conf = Number(f[10]);
    out.push({
      text,
      confidence: Number.isFinite(conf) && conf >= 0 ? conf : 0,
      left: Number(f[6]), top: Number(f[7]), width: Number(f[8]), height: Number(f[9]),
      line: `${f[2]}.${f[3]}.${f[4]}`,
    });
  }
  return out;
}

/**
 * Maps a box found on an image turned `degrees` clockwise (rotateGrey) back onto the image before it
 * was turned; `width` and `height` are the turned image's size.
 */
export function unrotateBox(w: PixelWord, degrees: number, width: number, height: number): PixelWord {
  const d = ((degrees % 360) + 360) % 360;
  if (d === 0) return w;
  if (d === 180) return { ...w, left: width - w.left - w.width, top: height - w.top - w.height };
  // turned 90 cw, a point (x, y) of the original lands at (H - y, x), H the original's height (= the
  // turned image's width); turned 270 cw, at (y, W - x), W the original's width (= the turned height)
  if (d === 90) return { ...w, left: w.top, top: width - w.left - w.width, width: w.height, height: w.width };
  return { ...w, left: height - w.top - w.height, top: w.left, width: w.height, height: w.width };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

/** A pixel box as a normalized one, clipped to the page. */
export function normalizeBox(left: number, top: number, width: number, height: number, pageWidth: number, pageHeight: number): BoundingBox {
  const l = clamp01(left / pageWidth), t = clamp01(top / pageHeight);
  const r = clamp01((left + width) / pageWidth), b = clamp01((top + height) / pageHeight);
  return { left: round(l), top: round(t), width: round(r - l), height: round(b - t) };
}

/** The smallest box holding all of `boxes` (normalized). */
export function unionBox(boxes: BoundingBox[]): BoundingBox {
  let l = Infinity, t = Infinity, r = -Infinity, b = -Infinity;
  for (const x of boxes) {
    l = Math.min(l, x.left); t = Math.min(t, x.top);
    r = Math.max(r, x.left + x.width); b = Math.max(b, x.top + x.height);
  }
  return { left: round(l), top: round(t), width: round(r - l), height: round(b - t) };
}

/**
 * Groups words (in reading order, each with the key of its line) into lines: consecutive words
 * with the same key form one line, its text their texts joined by a space.
 */
export function groupLines(words: Word[], lineKeys: string[]): Line[] {
  const lines: Line[] = [];
  let key: string | null = null;
  for (let i = 0; i < words.length; i++) {
    if (lineKeys[i] !== key || lines.length === 0) {
      lines.push({ text: '', confidence: 0, bbox: words[i].bbox, words: [] });
      key = lineKeys[i];
    }
    lines[lines.length - 1].words.push(i);
  }
  for (const line of lines) {
    const ws = line.words.map((i) => words[i]);
    line.text = ws.map((w) => w.text).join(' ');
    line.confidence = Math.round((ws.reduce((s, w) => s + w.confidence, 0) / ws.length) * 10) / 10;
    line.bbox = unionBox(ws.map((w) => w.bbox));
  }
  return lines;
}

/**
 * The geometry of an OCR page from the words Tesseract found on an image `width` x `height` pixels
 * that had been turned `rotation` degrees clockwise from the page as the user sees it.
 */
export function ocrGeometry(pixelWords: PixelWord[], rotation: number, width: number, height: number): PageGeometry {
  const turned = rotation % 180 !== 0;
  const pageWidth = turned ? height : width, pageHeight = turned ? width : height;
  const words: Word[] = [];
  const keys: string[] = [];
  for (const pw of pixelWords) {
    const w = unrotateBox(pw, rotation, width, height);
    words.push({
      text: w.text,
      confidence: Math.round(w.confidence * 10) / 10,
      bbox: normalizeBox(w.left, w.top, w.width, w.height, pageWidth, pageHeight),
    });
    keys.push(w.line);
  }
  return { words, lines: groupLines(words, keys) };
}

/** Intersection over union of two boxes (any one unit). */
export function iou(a: BoundingBox, b: BoundingBox): number {
  const ix = Math.max(0, Math.min(a.left + a.width, b.left + b.width) - Math.max(a.left, b.left));
  const iy = Math.max(0, Math.min(a.top + a.height, b.top + b.height) - Math.max(a.top, b.top));
  const inter = ix * iy;
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}
