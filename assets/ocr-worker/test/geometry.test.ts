/**
 * Word and line geometry: the boxes in the result agree with the references a user would check them
 * against. Scanned pages: native Tesseract's own word boxes (`tesseract IMAGE stdout tsv`, same model,
 * same page pixels), for both backends and for a page given sideways (auto-orientation undone).
 * Born-digital pages: Poppler's `pdftotext -bbox` words, also on a page with /Rotate 90.
 * Needs Debian's tesseract-ocr and poppler-utils (README: Debian packages the tests use).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, degrees } from 'pdf-lib';
import { createEngine, type Engine, type OcrResult } from '../src/index.ts';
import { iou, normalizeBox, ocrGeometry, unrotateBox, wordsFromTsv, type BoundingBox, type Word } from '../src/geometry.ts';
import { decodeImageFrame, orientPixels, rotateGrey, toPGM, toTIFF, type GreyImage } from '../src/image.ts';
import { NATIVE_TESSERACT_COMMAND, prepareTessdata } from '../src/native-tesseract.ts';
import { languageDataDir } from '../src/paths.ts';
import { closePdf, openPdf, renderPage } from '../src/pdf.ts';
import { textLayerGeometry } from '../src/textlayer-geometry.ts';
import { assertValid, fixture } from './helpers/common.ts';
import { multiPageTiff } from '../tools/tiff.ts';

/** A reference word: its text and box normalized to the page. */
interface RefWord { text: string; bbox: BoundingBox }

/**
 * Share of the reference words matched by a word of the result with the same text and a box
 * overlapping it at IoU >= 0.5. Both lists are in reading order: each reference word is looked for
 * among the result's next unmatched words near its place, so a repeated word ("the") matches its own
 * occurrence.
 */
function agreement(ours: Word[], reference: RefWord[]): { matched: number; total: number; share: number; meanIou: number } {
  const used = new Set<number>();
  let matched = 0, iouSum = 0;
  for (const ref of reference) {
    let best = -1, bestIou = 0.5;
    for (let i = 0; i < ours.length; i++) {
      // NFKC: Poppler keeps ligature characters (U+FB01) that pdf.js spells out
      if (used.has(i) || ours[i].text.normalize('NFKC') !== ref.text.normalize('NFKC')) continue;
      const v = iou(ours[i].bbox, ref.bbox);
      if (v >= bestIou) { best = i; bestIou = v; }
    }
    if (best >= 0) { used.add(best); matched++; iouSum += bestIou; }
  }
  return { matched, total: reference.length, share: reference.length ? matched / reference.length : 0, meanIou: matched ? iouSum / matched : 0 };
}

let scratch: string;
let tessdata: string;

/** Native Tesseract's words on `img` (the page pixels the engine gives it), normalized to the image. */
function tesseractWords(img: GreyImage): RefWord[] {
  const file = join(scratch, `ref-${Math.random().toString(36).slice(2)}.tif`);
  writeFileSync(file, toTIFF(img));
  const tsv = execFileSync(NATIVE_TESSERACT_COMMAND, [file, 'stdout', '--tessdata-dir', tessdata, '-l', 'eng', '--psm', '3', '--oem', '1',
    // the `tsv` config file's one setting (the config files sit in Debian's tessdata, not in this one)
    '-c', 'tessedit_create_tsv=1'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OMP_THREAD_LIMIT: '1' } });
  return wordsFromTsv(tsv).map((w) => ({ text: w.text, bbox: normalizeBox(w.left, w.top, w.width, w.height, img.width, img.height) }));
}

/** A page's /Rotate, as pdfinfo reports it. */
function pageRotation(file: string, n: number): number {
  const info = execFileSync('pdfinfo', ['-f', String(n), '-l', String(n), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return Number(new RegExp(`Page\\s+${n} rot:\\s+(\\d+)`).exec(info)?.[1] ?? 0);
}

/** Poppler's words on page `n` of a PDF file, normalized to the page as seen (its /Rotate applied). */
function pdftotextWords(file: string, n: number): RefWord[] {
  const html = execFileSync('pdftotext', ['-bbox', '-f', String(n), '-l', String(n), file, '-'], { encoding: 'utf8' });
  const page = /<page width="([\d.]+)" height="([\d.]+)"/.exec(html)!;
  let w = Number(page[1]), h = Number(page[2]);
  const words = [...html.matchAll(/<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)].map((m) => ({
    x0: Number(m[1]), y0: Number(m[2]), x1: Number(m[3]), y1: Number(m[4]),
    text: m[5].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'"),
  }));
  // pdftotext gives the unrotated page's size with coordinates on the page as seen
  if (pageRotation(file, n) % 180 !== 0) [w, h] = [h, w];
  return words.map((x) => ({ text: x.text, bbox: normalizeBox(x.x0, x.y0, x.x1 - x.x0, x.y1 - x.y0, w, h) }));
}

/** The page's words turned 90 or 180 degrees clockwise with the page. */
function turn(words: RefWord[], deg: 90 | 180): RefWord[] {
  return words.map(({ text, bbox: b }) => ({ text, bbox: deg === 90
    ? { left: 1 - b.top - b.height, top: b.left, width: b.height, height: b.width }
    : { left: 1 - b.left - b.width, top: 1 - b.top - b.height, width: b.width, height: b.height } }));
}

async function run(e: Engine, bytes: Uint8Array, name: string, options = {}): Promise<OcrResult> {
  const r = await e.process(bytes, { name, options });
  assertValid(r);
  assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r.error));
  return r;
}

/** Figures printed for the README (node --test shows a test's diagnostics). */
function report(label: string, a: ReturnType<typeof agreement>): void {
  console.log(`# geometry agreement ${label}: ${a.matched}/${a.total} words (${(a.share * 100).toFixed(1)} %), mean IoU ${a.meanIou.toFixed(3)}`);
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'geometry-test-'));
  tessdata = prepareTessdata(['eng'], languageDataDir('eng'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('box arithmetic', () => {
  test('a box found on a turned image maps back onto the image as given, for every turn', () => {
    // a dark rectangle on a white 40 x 30 image: where rotateGrey puts it, unrotateBox brings back
    const w = 40, h = 30, box = { left: 5, top: 3, width: 12, height: 7 };
    const data = new Uint8Array(w * h).fill(255);
    for (let y = box.top; y < box.top + box.height; y++) for (let x = box.left; x < box.left + box.width; x++) data[y * w + x] = 0;
    for (const deg of [0, 90, 180, 270]) {
      const t = rotateGrey({ width: w, height: h, data }, deg);
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let y = 0; y < t.height; y++) for (let x = 0; x < t.width; x++) {
        if (t.data[y * t.width + x] === 0) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y); }
      }
      const found = { text: 'x', confidence: 90, left: x0, top: y0, width: x1 - x0 + 1, height: y1 - y0 + 1, line: '1.1.1' };
      const back = unrotateBox(found, deg, t.width, t.height);
      assert.deepEqual({ left: back.left, top: back.top, width: back.width, height: back.height }, box, `turned ${deg}`);
      // and normalized to the page as given
      const g = ocrGeometry([found], deg, t.width, t.height);
      assert.deepEqual(g.words[0].bbox, normalizeBox(box.left, box.top, box.width, box.height, w, h));
    }
  });

  test('every TIFF Orientation shows the stored 0th row and 0th column on the visual sides TIFF 6.0 names', () => {
    // TIFF 6.0, Orientation: "The 0th row represents the visual <row side> of the image, and the 0th
    // column represents the visual <column side>"
    const spec: Record<number, [string, string]> = {
      1: ['top', 'left'], 2: ['top', 'right'], 3: ['bottom', 'right'], 4: ['bottom', 'left'],
      5: ['left', 'top'], 6: ['right', 'top'], 7: ['right', 'bottom'], 8: ['left', 'bottom'],
    };
    // stored 3 x 2: row 0 is 1 2 3, column 0 is 1 4
    const stored = new Uint8Array([1, 2, 3, 4, 5, 6]);
    /** The pixels along one side of the shown image, from the end at side `from`. */
    const along = (img: { data: Uint8Array; width: number; height: number }, side: string, from: string): number[] => {
      const { width: w, height: h, data } = img;
      const line = side === 'top' || side === 'bottom'
        ? Array.from({ length: w }, (_, x) => data[(side === 'top' ? 0 : h - 1) * w + x])
        : Array.from({ length: h }, (_, y) => data[y * w + (side === 'left' ? 0 : w - 1)]);
      return from === 'right' || from === 'bottom' ? line.reverse() : line;
    };
    for (const [orientation, [rowSide, columnSide]] of Object.entries(spec)) {
      const shown = orientPixels(stored, 3, 2, Number(orientation));
      assert.deepEqual([shown.width, shown.height], Number(orientation) >= 5 ? [2, 3] : [3, 2], `orientation ${orientation}`);
      assert.deepEqual(along(shown, rowSide, columnSide), [1, 2, 3], `orientation ${orientation}: the 0th row`);
      assert.deepEqual(along(shown, columnSide, rowSide), [1, 4], `orientation ${orientation}: the 0th column`);
    }
  });

  test('TSV words keep reading order and group into lines by block, paragraph and line', () => {
    const tsv = [
      'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext',
      '5\t1\t1\t1\t1\t1\t10\t10\t30\t10\t91.5\tHello',
      '5\t1\t1\t1\t1\t2\t45\t10\t40\t10\t88\tworld',
      '5\t1\t1\t1\t2\t1\t10\t25\t20\t10\t95\tnext',
      '5\t1\t2\t1\t1\t1\t10\t60\t5\t5\t-1\t ',
      '5\t1\t3\t1\t1\t1\t10\t80\t20\t10\t70\tlast',
    ].join('\n');
    const g = ocrGeometry(wordsFromTsv(tsv), 0, 100, 100);
    assert.deepEqual(g.words.map((w) => w.text), ['Hello', 'world', 'next', 'last']);
    assert.deepEqual(g.lines.map((l) => [l.text, l.words]), [['Hello world', [0, 1]], ['next', [2]], ['last', [3]]]);
    assert.deepEqual(g.lines[0].bbox, { left: 0.1, top: 0.1, width: 0.75, height: 0.1 });
    assert.equal(g.lines[0].confidence, 89.8);
  });

  test('text items split into words within the run, through a rotated viewport', () => {
    // one run "ab cd" 100 units long at baseline (10, 20), font size 10, on a 200 x 100 page turned 90 degrees:
    // pdf.js' viewport for /Rotate 90 at scale 1 maps (x, y) to (y, x) (its transform [0, 1, 1, 0, 0, 0])
    const items = [{ str: 'ab cd', transform: [10, 0, 0, 10, 10, 20], width: 100, height: 10, fontName: 'F', hasEOL: true }];
    const g = textLayerGeometry(items, { F: { ascent: 0.8, descent: -0.2 } }, { width: 100, height: 200, transform: [0, 1, 1, 0, 0, 0] });
    assert.deepEqual(g.words.map((w) => w.text), ['ab', 'cd']);
    // "ab" takes 2 of 4.5 character widths of the run: x 10..54.4; y from 18 (descent) to 28 (ascent)
    assert.deepEqual(g.words[0].bbox, { left: 0.18, top: 0.05, width: 0.1, height: 0.2222 });
    assert.equal(g.lines.length, 1);
  });
});

describe('OCR pages agree with native Tesseract\'s word boxes', () => {
  let js: Engine;
  let native: Engine;
  before(() => {
    js = createEngine({ workers: 1, timeoutSeconds: 120 });
    native = createEngine({ workers: 1, timeoutSeconds: 120, ocrEngine: 'tesseract' });
  });
  after(async () => { await js.close(); await native.close(); });

  for (const file of ['phototest.tif', 'eurotext.tif']) {
    test(`${file}: both backends, text equal and IoU >= 0.5 for >= 95 % of the words`, async () => {
      const bytes = fixture(`ocr/${file}`);
      const reference = tesseractWords(await decodeImageFrame(bytes, 'image/tiff', 0, 1e9));
      assert.ok(reference.length > 50, `${reference.length} reference words`);
      for (const [label, e, floor] of [['tesseract.js', js, 0.95], ['tesseract', native, 0.99]] as const) {
        const r = await run(e, bytes, file);
        const a = agreement(r.pages[0].words!, reference);
        report(`${file} ${label}`, a);
        assert.ok(a.share >= floor, `${label}: ${a.matched}/${a.total} words agree`);
        // the page's text is its words' texts, line by line
        assert.equal(r.pages[0].lines!.map((l) => l.text).join(' '), r.pages[0].text.split(/\s+/).join(' '));
      }
    });
  }

  // upside down, the engine's auto-orientation turns the page (Tesseract reads it only upright); sideways,
  // Tesseract's own layout analysis finds the vertical lines: either way the boxes are on the page as given
  for (const deg of [180, 90] as const) {
    test(`a page given turned ${deg} degrees: boxes on the page as given, agreeing with Tesseract on the upright page turned likewise`, async () => {
      const upright = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
      const reference = turn(tesseractWords(upright), deg);
      for (const [label, e] of [['tesseract.js', js], ['tesseract', native]] as const) {
        const r = await run(e, toPGM(rotateGrey(upright, deg)), `phototest-${deg}.pgm`);
        if (deg === 180) assert.equal(r.pages[0].rotation, 180, 'auto-orientation turned it');
        const a = agreement(r.pages[0].words!, reference);
        report(`phototest turned ${deg} ${label} (rotation ${r.pages[0].rotation})`, a);
        assert.ok(a.share >= 0.95, `${label}: ${a.matched}/${a.total} words agree`);
      }
    });
  }

  // a scanner or fax that stores the page sideways (or mirrored) and says so in the TIFF's Orientation tag:
  // the engine reads the page as a viewer shows it, and the boxes are on that page
  for (const [orientation, undo] of [[6, 8], [7, 7]] as const) {
    test(`a TIFF with Orientation ${orientation}: boxes on the page as shown, agreeing with Tesseract on the upright page`, async () => {
      const upright = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
      const stored = orientPixels(upright.data, upright.width, upright.height, undo);
      const r = await run(native, multiPageTiff([stored], 300, orientation), `phototest-orientation-${orientation}.tif`);
      assert.equal(r.pages[0].rotation ?? 0, 0, 'no turn was needed to read it');
      const a = agreement(r.pages[0].words!, tesseractWords(upright));
      report(`phototest with TIFF Orientation ${orientation}`, a);
      assert.ok(a.share >= 0.99, `${a.matched}/${a.total} words agree`);
    });
  }

  test('a PDF page rendered for OCR at a lowered resolution (maxPagePixels): boxes on the page, agreeing with Tesseract on the same pixels', async () => {
    // TAMReview.pdf page 2: born-digital but its text layer is garbage, so it goes to OCR
    const bytes = fixture('pdf/TAMReview.pdf');
    const options = { pages: '2', maxPagePixels: 2_000_000 };
    const r = await run(native, bytes, 'TAMReview.pdf', options);
    const page = r.pages[0];
    assert.equal(page.method, 'ocr');
    assert.ok(page.dpi! < 300, `rendered at ${page.dpi} dpi`);
    // the engine drew it with Poppler (the native backend's renderer); the reference reads pdf.js'
    // drawing of the same page at the same resolution: nearly, not exactly, the same pixels
    const pdf = await openPdf(bytes);
    const rendered = await renderPage(pdf, 2, page.dpi!, Infinity);
    await closePdf(pdf);
    const a = agreement(page.words!, tesseractWords(rendered.image));
    report(`TAMReview.pdf page 2 at ${page.dpi} dpi`, a);
    assert.ok(a.total > 100 && a.share >= 0.95, `${a.matched}/${a.total} words agree`);
  });

  test('geometry: false leaves words and lines out', async () => {
    const r = await run(native, fixture('ocr/phototest.tif'), 'phototest.tif', { geometry: false });
    assert.equal(r.pages[0].words, undefined);
    assert.equal(r.pages[0].lines, undefined);
    assert.match(r.pages[0].text, /lot of 12 point text/);
  });
});

describe('text-layer pages agree with pdftotext -bbox', () => {
  let e: Engine;
  before(() => { e = createEngine({ workers: 1, timeoutSeconds: 120 }); });
  after(() => e.close());

  for (const [file, floor] of [['basicapi.pdf', 0.9], ['two_paragraphs.pdf', 0.9], ['160F-2019.pdf', 0.85], ['standard_fonts.pdf', 0.85]] as const) {
    test(`${file}: text equal and IoU >= 0.5 for >= ${floor * 100} % of pdftotext's words`, async () => {
      const path = join(scratch, file);
      writeFileSync(path, fixture(`pdf/${file}`));
      const r = await run(e, fixture(`pdf/${file}`), file);
      let matched = 0, total = 0, iouSum = 0;
      for (const p of r.pages.filter((x) => x.method === 'text-layer')) {
        const a = agreement(p.words!, pdftotextWords(path, p.pageNumber));
        matched += a.matched; total += a.total; iouSum += a.meanIou * a.matched;
      }
      const all = { matched, total, share: matched / total, meanIou: iouSum / matched };
      report(file, all);
      assert.ok(total > 0 && all.share >= floor, `${matched}/${total} words agree`);
    });
  }

  test('a page with /Rotate 90: boxes on the page as seen', async () => {
    const doc = await PDFDocument.load(fixture('pdf/basicapi.pdf'));
    doc.getPage(0).setRotation(degrees(90));
    const bytes = await doc.save();
    const path = join(scratch, 'rotated.pdf');
    writeFileSync(path, bytes);
    const r = await run(e, bytes, 'rotated.pdf', { pages: '1' });
    const a = agreement(r.pages[0].words!, pdftotextWords(path, 1));
    report('basicapi.pdf page 1 /Rotate 90', a);
    assert.ok(a.share >= 0.9, `${a.matched}/${a.total} words agree`);
    // the words run down the page: each box taller than wide
    assert.ok(r.pages[0].words!.filter((w) => w.text.length > 2).every((w) => w.bbox.height > w.bbox.width));
  });
});
