/**
 * The font of a searchable PDF's text layer: one made per document with opentype.js, whose character
 * map covers exactly the characters the document's words use (any script: a standard PDF font
 * reaches Latin-1 only), every glyph empty and of the same width. The text is drawn invisible (render
 * mode 3) anyway; empty glyphs keep it invisible in viewers that ignore the render mode. Embedded
 * through pdf-lib's fontkit, the font gets a ToUnicode map, so the text is selected, searched and
 * copied as the characters it was made from. Nothing is downloaded: the font is built in memory.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// opentype.js: no type declarations; the few calls below are its documented Font/Glyph/Path API
const opentype = require('opentype.js') as any;

/** Font units per em, and each glyph's advance: half an em (about an average character). */
export const INVISIBLE_FONT = { UNITS_PER_EM: 1000, ADVANCE: 500, ASCENDER: 800, DESCENDER: -200 } as const;

/** The characters (code points) of `texts`, without whitespace and control characters, sorted. */
export function charactersOf(texts: Iterable<string>): number[] {
  const set = new Set<number>();
  for (const t of texts) {
    for (const ch of t) {
      const cp = ch.codePointAt(0)!;
      if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || /\s/u.test(ch)) continue;
      set.add(cp);
    }
  }
  return [...set].sort((a, b) => a - b);
}

/** An OpenType font (CFF outlines, as opentype.js writes them) with an empty glyph for each code point of `codePoints`. */
export function invisibleFont(codePoints: number[]): Uint8Array {
  const empty = (): unknown => new opentype.Path();
  const glyphs = [
    new opentype.Glyph({ name: '.notdef', unicode: 0, advanceWidth: INVISIBLE_FONT.ADVANCE, path: empty() }),
    new opentype.Glyph({ name: 'space', unicode: 0x20, advanceWidth: INVISIBLE_FONT.ADVANCE, path: empty() }),
    ...codePoints.filter((cp) => cp !== 0x20).map((cp) => new opentype.Glyph({ name: `u${cp.toString(16).toUpperCase()}`, unicode: cp, advanceWidth: INVISIBLE_FONT.ADVANCE, path: empty() })),
  ];
  const font = new opentype.Font({
    familyName: 'OcrTextLayer', styleName: 'Regular',
    unitsPerEm: INVISIBLE_FONT.UNITS_PER_EM, ascender: INVISIBLE_FONT.ASCENDER, descender: INVISIBLE_FONT.DESCENDER,
    glyphs,
  });
  return new Uint8Array(font.toArrayBuffer());
}
