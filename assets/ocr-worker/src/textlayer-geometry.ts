/**
 * Word geometry of a text-layer page from pdf.js' text items: each item (a run of text in one font
 * along one baseline) is split into words at whitespace, as the page's text is, and each word's box
 * is the part of the item's box its characters take, from the font's ascent to its descent, mapped
 * through the page's viewport (its crop box, with the page's /Rotate applied) and normalized to it.
 *
 * pdf.js gives a run's width, not each glyph's: a word's share of it is estimated from typical
 * relative widths of its characters (narrow i, l, punctuation; wide m, w, capitals), which keeps
 * words of a long run where they are on the page to within a fraction of a character.
 */
import { groupLines, normalizeBox, type PageGeometry, type Word } from './geometry.ts';

/** The parts of a pdf.js text item and text style this reads. */
export interface TextItem { str?: string; transform?: number[]; width?: number; height?: number; fontName?: string; hasEOL?: boolean }
export interface TextStyle { ascent?: number; descent?: number; vertical?: boolean }

/** A viewport: its size in pixels and the transform from PDF user space to it (pdf.js PageViewport). */
export interface ViewportLike { width: number; height: number; transform: number[] }

/** Relative advance of a character: a rough proportional-font width class (1 = an average lower-case letter). */
export function charWeight(c: string): number {
  if (/\s/.test(c)) return 0.5;
  if (/[ijlI.,:;'!|`]/.test(c)) return 0.5;
  if (/[ftr()[\]{}"\-/\\]/.test(c)) return 0.7;
  if (/[mwMW@%]/.test(c)) return 1.5;
  if (/[A-Z&]/.test(c)) return 1.25;
  if (/[0-9]/.test(c)) return 1;
  // CJK and other full-width characters take a full em, about twice a Latin letter
  if (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(c)) return 2;
  return 1;
}

function apply(t: number[], x: number, y: number): [number, number] {
  return [t[0] * x + t[2] * y + t[4], t[1] * x + t[3] * y + t[5]];
}

/**
 * Words and lines of a page's text items. `styles` are pdf.js' text styles by font name (their
 * ascent and descent place the box around the baseline); lines end where pdf.js marks an end of line.
 */
export function textLayerGeometry(items: TextItem[], styles: Record<string, TextStyle>, viewport: ViewportLike): PageGeometry {
  const words: Word[] = [];
  const keys: string[] = [];
  let line = 0;
  for (const it of items) {
    const str = typeof it.str === 'string' ? it.str : '';
    const tx = it.transform;
    if (str.trim() && tx && tx.length === 6) {
      const style = styles[it.fontName ?? ''] ?? {};
      const ascent = Number.isFinite(style.ascent) && style.ascent! > 0 ? style.ascent! : 0.8;
      const descent = Number.isFinite(style.descent) && style.descent! < 0 ? style.descent! : -0.2;
      // the run's direction and its "up", unit vectors in user space; its length and font size
      const [a, b, c, d, e, f] = tx;
      const size = Math.hypot(c, d) || Math.hypot(a, b) || 1;
      const ux = Math.hypot(a, b) ? a / Math.hypot(a, b) : 1, uy = Math.hypot(a, b) ? b / Math.hypot(a, b) : 0;
      const vx = Math.hypot(c, d) ? c / Math.hypot(c, d) : -uy, vy = Math.hypot(c, d) ? d / Math.hypot(c, d) : ux;
      const length = Number(it.width) || 0;
      const chars = Array.from(str);
      const total = chars.reduce((s, ch) => s + charWeight(ch), 0) || 1;
      let along = 0;
      let i = 0;
      while (i < chars.length) {
        if (/\s/.test(chars[i])) { along += charWeight(chars[i]); i++; continue; }
        let j = i, weight = 0;
        while (j < chars.length && !/\s/.test(chars[j])) weight += charWeight(chars[j++]);
        const s0 = (along / total) * length, s1 = ((along + weight) / total) * length;
        along += weight;
        // the word's four corners in user space, then in the viewport
        const corners = [[s0, descent], [s1, descent], [s0, ascent], [s1, ascent]].map(([s, t]) =>
          apply(viewport.transform, e + s * ux + t * size * vx, f + s * uy + t * size * vy));
        const xs = corners.map((p) => p[0]), ys = corners.map((p) => p[1]);
        const left = Math.min(...xs), top = Math.min(...ys);
        words.push({ text: chars.slice(i, j).join(''), confidence: 100,
          bbox: normalizeBox(left, top, Math.max(...xs) - left, Math.max(...ys) - top, viewport.width, viewport.height) });
        keys.push(String(line));
        i = j;
      }
    }
    if (it.hasEOL) line++;
  }
  return { words, lines: groupLines(words, keys) };
}
