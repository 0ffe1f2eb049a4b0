/**
 * Text-layer quality check. A born-digital PDF page's text layer is used instead of OCR only when
 * it passes ALL of these criteria (documented in README.md, "Text layer quality"):
 *
 *  1. It has at least MIN_CHARS non-whitespace characters.
 *  2. At most MAX_BAD_RATIO of its non-whitespace characters are "bad": C0/C1 control characters,
 *     U+FFFD (replacement), private-use code points, or unpaired surrogates. Fonts without a
 *     ToUnicode map (TAMReview.pdf pages 2+) come out as glyph ids, i.e. control characters.
 *  3. At least MIN_ALNUM_RATIO of its non-whitespace characters (runs of one repeated punctuation
 *     character, e.g. dot leaders, counted once) are letters or digits in any script.
 *  4. When the page draws images and has fewer than SPARSE_TEXT_CHARS characters of text, the text is
 *     assumed to be a stamp or header over a scan and the page is OCRed.
 */
export const TEXT_LAYER_CRITERIA = {
  MIN_CHARS: 1,
  MAX_BAD_RATIO: 0.3,
  MIN_ALNUM_RATIO: 0.2,
  SPARSE_TEXT_CHARS: 40,
} as const;

export interface TextLayerVerdict {
  good: boolean;
  reason: string;
  chars: number;
  badRatio: number;
  alnumRatio: number;
}

// eslint-disable-next-line no-control-regex
const BAD = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffd\ue000-\uf8ff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/u;

export function judgeTextLayer(text: string, pageHasImages: boolean): TextLayerVerdict {
  const chars = Array.from(text.replace(/\s+/g, ''));
  const n = chars.length;
  if (n < TEXT_LAYER_CRITERIA.MIN_CHARS) return { good: false, reason: 'no text layer', chars: 0, badRatio: 0, alnumRatio: 0 };
  let bad = 0;
  for (const c of chars) if (BAD.test(c)) bad++;
  const badRatio = bad / n;
  const collapsed = Array.from(text.replace(/\s+/g, '').replace(/([^\p{L}\p{N}])\1+/gu, '$1'));
  let alnum = 0;
  for (const c of collapsed) if (/[\p{L}\p{N}]/u.test(c)) alnum++;
  const alnumRatio = collapsed.length ? alnum / collapsed.length : 0;
  const base = { chars: n, badRatio: round(badRatio), alnumRatio: round(alnumRatio) };
  if (badRatio > TEXT_LAYER_CRITERIA.MAX_BAD_RATIO) return { good: false, reason: `garbage text layer (${pct(badRatio)} control/unmapped characters)`, ...base };
  if (alnumRatio < TEXT_LAYER_CRITERIA.MIN_ALNUM_RATIO) return { good: false, reason: `implausible text layer (${pct(alnumRatio)} letters/digits)`, ...base };
  if (pageHasImages && n < TEXT_LAYER_CRITERIA.SPARSE_TEXT_CHARS) return { good: false, reason: `sparse text over images (${n} characters)`, ...base };
  return { good: true, reason: 'text layer passes the quality check', ...base };
}

function round(x: number): number { return Math.round(x * 1000) / 1000; }
function pct(x: number): string { return `${Math.round(x * 100)}%`; }
