/**
 * hOCR (the layout format Tesseract writes with its `hocr` output): one XHTML document per document,
 * an `ocr_page` per processed page, its `ocr_line`s and their `ocrx_word`s, each with its `bbox` in
 * pixels of the page as seen and its confidence (`x_wconf`), made from the same word geometry as the
 * JSON result. A page's pixel size is that of the image OCR read (OCR pages) or its size at the
 * document's render resolution (text-layer pages).
 * Format: https://kba.github.io/hocr-spec/1.2/
 */
import type { BoundingBox } from './geometry.ts';
import type { PageResult } from './result.ts';

/** A page's size in pixels, for the boxes' coordinates. */
export interface PagePixels { width: number; height: number }

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function bbox(b: BoundingBox, size: PagePixels): string {
  const x0 = Math.round(b.left * size.width), y0 = Math.round(b.top * size.height);
  const x1 = Math.round((b.left + b.width) * size.width), y1 = Math.round((b.top + b.height) * size.height);
  return `bbox ${x0} ${y0} ${x1} ${y1}`;
}

/**
 * The hOCR of a document's pages (those without words, a failed page or one read with geometry
 * off, are empty `ocr_page`s). `system` names the engine in the `ocr-system` meta element.
 */
export function toHocr(pages: PageResult[], sizes: ReadonlyMap<number, PagePixels>, system: string, languages: string[]): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">',
    `<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="${escapeXml(languages[0] ?? 'en')}" lang="${escapeXml(languages[0] ?? 'en')}">`,
    '<head>',
    '<title></title>',
    '<meta http-equiv="Content-Type" content="text/html;charset=utf-8"/>',
    `<meta name="ocr-system" content="${escapeXml(system)}"/>`,
    '<meta name="ocr-capabilities" content="ocr_page ocr_line ocrx_word ocrp_wconf"/>',
    '</head>',
    '<body>',
  ];
  for (const p of pages) {
    const size = sizes.get(p.pageNumber) ?? { width: 0, height: 0 };
    const n = p.pageNumber;
    out.push(`<div class="ocr_page" id="page_${n}" title="bbox 0 0 ${size.width} ${size.height}; ppageno ${n - 1}">`);
    const words = p.words ?? [];
    (p.lines ?? []).forEach((line, li) => {
      const spans = line.words.map((wi) => {
        const w = words[wi];
        return `<span class="ocrx_word" id="word_${n}_${wi + 1}" title="${bbox(w.bbox, size)}; x_wconf ${Math.round(w.confidence)}">${escapeXml(w.text)}</span>`;
      });
      out.push(`<span class="ocr_line" id="line_${n}_${li + 1}" title="${bbox(line.bbox, size)}">${spans.join(' ')}</span>`);
    });
    out.push('</div>');
  }
  out.push('</body>', '</html>', '');
  return out.join('\n');
}
