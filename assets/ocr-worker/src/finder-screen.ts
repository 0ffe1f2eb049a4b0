/**
 * A fast test for QR finder patterns (the three nested squares in a QR code's corners) in a binarised
 * image, used to skip the QR search on pages that cannot hold a code.
 *
 * Why: the QR search runs on every OCR page. On a 300-dpi A4 page without a code, its five ZXing
 * attempts took 0.3–0.4 s of CPU (about a tenth of native Tesseract's time for the same page), and
 * every one of them failed at its first step: ZXing's FinderPatternFinder found fewer than three
 * finder-pattern candidates, so the detector gave up (a QR code decodes only from three).
 *
 * What it checks: what ZXing's FinderPatternFinder checks, on ZXing's own bitmap, on more rows.
 * ZXing records a candidate when (1) a row holds five consecutive runs dark/light/dark/light/dark in
 * proportions 1:1:3:1:1 (`foundPatternCross`), (2) the column through the middle of the third run
 * holds the same, with bounded run lengths and a total close to the row's (`crossCheckVertical`), and
 * (3) so does the row through the centre found in (2) (`crossCheckHorizontal`). ZXing looks at every
 * third row (every second after a find); this screen at every row, with (2) and (3) transcribed, so it
 * finds every candidate ZXing would: when it finds none, ZXing's detector finds no code in that bitmap.
 * Both colours are checked in one pass: light-on-dark runs are what ZXing sees in the complemented
 * bitmap (inverted codes). A test pins this against ZXing itself on corpus photos and pages.
 *
 * Cost: one pass over the bitmap's 32-bit words (runs of one colour are skipped a word at a time):
 * about 2 ms for a bitmap of a 300-dpi A4 text page, 10–25 ms for a scan, whose noise makes many
 * short runs.
 */

import type { Bitmap } from './binarize.ts';

/** ZXing's `foundPatternCross`: runs r[k..k+4] within half a module of 1:1:3:1:1. */
export function crossRatio(r: ArrayLike<number>, k = 0): boolean {
  const a = r[k], b = r[k + 1], c = r[k + 2], d = r[k + 3], e = r[k + 4];
  if (a === 0 || b === 0 || c === 0 || d === 0 || e === 0) return false;
  const total = a + b + c + d + e;
  if (total < 7) return false;
  const module = total / 7, variance = module / 2;
  return Math.abs(module - a) < variance && Math.abs(module - b) < variance && Math.abs(3 * module - c) < 3 * variance &&
    Math.abs(module - d) < variance && Math.abs(module - e) < variance;
}

/**
 * ZXing's `crossCheckVertical` / `crossCheckHorizontal` along one line: from `start`, counts runs of
 * `colour`, the other colour and `colour` again towards both ends (`pixel(i)` for i in 0..length-1),
 * each bounded by `maxCount` (the row's middle run) as ZXing bounds them; running off the line inside
 * the centre or the inner ring fails. The total must differ from the row's by less than
 * `toleranceFifths` fifths of it (ZXing: 2 vertically, 1 horizontally). Returns the centre along the line, or NaN.
 */
function crossCheck(pixel: (i: number) => number, length: number, start: number, colour: number, maxCount: number,
  originalTotal: number, toleranceFifths: number): number {
  const runs = [0, 0, 0, 0, 0];
  let i = start;
  while (i >= 0 && pixel(i) === colour) { runs[2]++; i--; }
  if (i < 0) return NaN;
  while (i >= 0 && pixel(i) !== colour && runs[1] <= maxCount) { runs[1]++; i--; }
  if (i < 0 || runs[1] > maxCount) return NaN;
  while (i >= 0 && pixel(i) === colour && runs[0] <= maxCount) { runs[0]++; i--; }
  if (runs[0] > maxCount) return NaN;
  i = start + 1;
  while (i < length && pixel(i) === colour) { runs[2]++; i++; }
  if (i === length) return NaN;
  while (i < length && pixel(i) !== colour && runs[3] < maxCount) { runs[3]++; i++; }
  if (i === length || runs[3] >= maxCount) return NaN;
  while (i < length && pixel(i) === colour && runs[4] < maxCount) { runs[4]++; i++; }
  if (runs[4] >= maxCount) return NaN;
  const total = runs[0] + runs[1] + runs[2] + runs[3] + runs[4];
  if (5 * Math.abs(total - originalTotal) >= toleranceFifths * originalTotal) return NaN;
  return crossRatio(runs) ? centreFromEnd(runs, 0, i) : NaN;
}

/** ZXing's `centerFromEnd`: the middle of the third of five runs r[k..k+4] that end at `end`. */
function centreFromEnd(r: ArrayLike<number>, k: number, end: number): number {
  return end - r[k + 4] - r[k + 3] - r[k + 2] / 2;
}

export interface FinderCandidates {
  /** Dark-on-light candidates (what ZXing looks for in this bitmap). */
  dark: boolean;
  /** Light-on-dark candidates (what ZXing looks for in the complemented bitmap: inverted codes). */
  light: boolean;
}

/**
 * Which colours of finder-pattern candidate the bitmap holds. `stopAtFirst` returns as soon as one is
 * found (the screen); otherwise both colours are settled (for tests).
 */
export function finderCandidates(bitmap: Bitmap, stopAtFirst = true): FinderCandidates {
  const { width, height, rowSize, bits } = bitmap;
  const found: FinderCandidates = { dark: false, light: false };
  const runs = new Int32Array(width + 1), ends = new Int32Array(width + 1);
  for (let y = 0; y < height; y++) {
    // run lengths of row y, from its words: `differ` marks the pixels from x on that are not `colour`
    const base = y * rowSize, firstColour = bits[base] & 1;
    let colour = firstColour, n = 0, x = 0, start = 0;
    while (x < width) {
      const p = x & 31, word = bits[base + (x >> 5)];
      const differ = (colour ? ~word : word) >>> p;
      const step = differ === 0 ? 32 - p : 31 - Math.clz32(differ & -differ);
      if (x + step >= width) break;
      x += step;
      if (differ !== 0) { runs[n] = x - start; ends[n++] = x; start = x; colour ^= 1; }
    }
    runs[n] = width - start; ends[n++] = width;
    for (let k = 0; k + 5 <= n; k++) {
      if (!crossRatio(runs, k)) continue;
      const c = firstColour ^ (k & 1);
      if (c === 1 ? found.dark : found.light) continue;
      // ZXing's handlePossibleCenter: the column through the middle run, then the row through the
      // centre found in that column (its diagonal check applies only to PURE_BARCODE, never used here)
      const maxCount = runs[k + 2], total = runs[k] + runs[k + 1] + runs[k + 2] + runs[k + 3] + runs[k + 4];
      const column = Math.floor(centreFromEnd(runs, k, ends[k + 4]));
      const word = column >> 5, bit = column & 31;
      const centreY = crossCheck((i) => (bits[i * rowSize + word] >>> bit) & 1, height, y, c, maxCount, total, 2);
      if (Number.isNaN(centreY)) continue;
      const row = Math.floor(centreY) * rowSize;
      const centreX = crossCheck((i) => (bits[row + (i >> 5)] >>> (i & 31)) & 1, width, column, c, maxCount, total, 1);
      if (Number.isNaN(centreX)) continue;
      if (c === 1) found.dark = true; else found.light = true;
      if (stopAtFirst || (found.dark && found.light)) return found;
    }
  }
  return found;
}
