/**
 * Searchable PDFs: what Poppler reads back from them (pdftotext: the result's text, CER <= 2 %;
 * pdftotext -bbox: each word where the result's box says), what they keep of the input (a PDF's pages
 * and images untouched, an image at its own pixels), and the classified errors when none can be written.
 * Needs Debian's poppler-utils (pdftotext, pdfimages, pdfinfo) and tesseract-ocr (the CLI test uses
 * the native backend).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PDFDocument, degrees } from 'pdf-lib';
import { createEngine, outputBytes, type Engine, type OcrResult, type PageResult } from '../src/index.ts';
import { cer } from '../src/cer.ts';
import { iou, normalizeBox, type BoundingBox } from '../src/geometry.ts';
import { decodeImageFrame, decodePNM, orientPixels, rotateGrey, type GreyImage } from '../src/image.ts';
import { searchablePdf } from '../src/searchable-pdf.ts';
import { INTERNAL_ENV } from '../src/contract.ts';
import { assertValid, fixture, PKG } from './helpers/common.ts';
import { multiPageTiff } from '../tools/tiff.ts';
import { greyToJpeg, greyToPng } from '../tools/grey-canvas.ts';

let scratch: string;
let engine: Engine;
let phototest: GreyImage;
let eurotext: GreyImage;

/** Processes a document asking for its searchable PDF; writes it to the scratch folder. */
async function withPdf(bytes: Uint8Array, name: string, options = {}): Promise<{ result: OcrResult; file: string | null }> {
  const result = await engine.process(bytes, { name, options: { outputs: ['json', 'pdf'], ...options } });
  assertValid(result);
  const pdf = outputBytes(result, 'pdf');
  if (!pdf) return { result, file: null };
  const file = join(scratch, `${name}.out.pdf`);
  writeFileSync(file, pdf);
  return { result, file };
}

/** A page's text as Poppler extracts it: in its reading order, or with `raw` in the order the text is drawn. */
function pdftotext(file: string, page: number, raw = false): string {
  return execFileSync('pdftotext', [...(raw ? ['-raw'] : []), '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** A page's /Rotate, as pdfinfo reports it. */
function pageRotation(file: string, n: number): number {
  const info = execFileSync('pdfinfo', ['-f', String(n), '-l', String(n), file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return Number(new RegExp(`Page\\s+${n} rot:\\s+(\\d+)`).exec(info)?.[1] ?? 0);
}

/** Poppler's words on a page, normalized to the page as seen. */
function bboxWords(file: string, page: number): Array<{ text: string; bbox: BoundingBox }> {
  const html = execFileSync('pdftotext', ['-bbox', '-f', String(page), '-l', String(page), file, '-'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const size = /<page width="([\d.]+)" height="([\d.]+)"/.exec(html)!;
  let w = Number(size[1]), h = Number(size[2]);
  const words = [...html.matchAll(/<word xMin="([\d.-]+)" yMin="([\d.-]+)" xMax="([\d.-]+)" yMax="([\d.-]+)">([^<]*)<\/word>/g)]
    .map((m) => ({ x0: Number(m[1]), y0: Number(m[2]), x1: Number(m[3]), y1: Number(m[4]), text: m[5].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'") }));
  if (pageRotation(file, page) % 180 !== 0) [w, h] = [h, w]; // pdftotext gives the unrotated size, coordinates on the page as seen
  return words.map((x) => ({ text: x.text, bbox: normalizeBox(x.x0, x.y0, x.x1 - x.x0, x.y1 - x.y0, w, h) }));
}

/**
 * The searchable PDF's page reads back as the result's page: text within CER 2 %, and at least 95 %
 * of the words Poppler finds on it overlap the result's box for that word (same text, IoU >= 0.5).
 */
function assertReadsBack(file: string, outPage: number, page: PageResult, raw = false): void {
  const text = pdftotext(file, outPage, raw);
  const c = cer(text, page.text);
  console.log(`# searchable PDF page ${outPage}: CER ${(c * 100).toFixed(2)} % over ${page.text.length} characters`);
  assert.ok(c <= 0.02, `CER ${c} reading back page ${outPage}: ${text.slice(0, 200)}`);
  const found = bboxWords(file, outPage);
  const words = page.words!;
  const placed = found.filter((f) => words.some((w) => w.text === f.text && iou(w.bbox, f.bbox) >= 0.5)).length;
  console.log(`# searchable PDF page ${outPage}: ${placed}/${found.length} words where the result's boxes are`);
  assert.ok(found.length > 0 && placed / found.length >= 0.95, `${placed}/${found.length} words in place`);
}

/**
 * The text layer's font is declared as the font program it embeds (a CFF-based OpenType font: a
 * CIDFontType0 with FontFile3), so Poppler reads it without "Mismatch between font type and embedded
 * font file".
 */
function assertTextFontDeclared(file: string): void {
  const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' }).split('\n').filter((l) => l.startsWith('OcrTextLayer'));
  assert.equal(fonts.length, 1, `one text layer font in ${file}`);
  assert.match(fonts[0], /CID Type 0C \(OT\)\s+Identity-H\s+yes\s+no\s+yes/);
  const extraction = spawnSync('pdftotext', [file, '-'], { encoding: 'utf8' });
  assert.equal(extraction.status, 0);
  assert.doesNotMatch(extraction.stderr, /Mismatch|Error/i);
}

/** A JPEG with an EXIF APP1 segment holding only an Orientation tag (1-8). */
function withExifOrientation(jpeg: Buffer, orientation: number): Buffer {
  // big-endian TIFF header, one IFD entry: tag 0x0112 Orientation, SHORT, count 1, the value
  const tiff = Buffer.from([0x4d, 0x4d, 0, 0x2a, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const length = payload.length + 2;
  return Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xe1, length >> 8, length & 0xff]), payload, jpeg.subarray(2)]);
}

before(async () => {
  scratch = mkdtempSync(join(tmpdir(), 'searchable-pdf-test-'));
  engine = createEngine({ workers: 1, timeoutSeconds: 180 });
  phototest = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
  eurotext = await decodeImageFrame(fixture('ocr/eurotext.tif'), 'image/tiff', 0, 1e9);
});
after(async () => {
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
});

describe('image inputs: one page per image, the image at its own pixels, the text over it', () => {
  test('TIFF, PNG and JPEG', async () => {
    for (const [name, bytes] of [['phototest.tif', fixture('ocr/phototest.tif')], ['eurotext.png', greyToPng(eurotext)], ['phototest.jpg', greyToJpeg(phototest)]] as const) {
      const { result, file } = await withPdf(bytes, name);
      assert.deepEqual(result.outputs, [{ format: 'pdf', bytes: readFileSync(file!).length, error: null }]);
      assertReadsBack(file!, 1, result.pages[0]);
      assertTextFontDeclared(file!);
      // the image as it was: its pixel size, one image on the one page
      const images = execFileSync('pdfimages', ['-list', file!], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean);
      const img = name.startsWith('eurotext') ? eurotext : phototest;
      assert.equal(images.length, 1, name);
      assert.deepEqual(images[0].trim().split(/\s+/).slice(3, 5).map(Number), [img.width, img.height], name);
    }
  });

  // a phone photo: the pixels stored sideways or upside down, an EXIF Orientation saying how to show them
  for (const [orientation, stored] of [[6, 270], [8, 90], [3, 180]] as const) {
    test(`a JPEG with EXIF Orientation ${orientation}: the page shows the image as the viewer would, the text where it is on it`, async () => {
      const { result, file } = await withPdf(withExifOrientation(greyToJpeg(rotateGrey(phototest, stored)), orientation), `photo-exif-${orientation}.jpg`);
      assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result.error));
      assertReadsBack(file!, 1, result.pages[0]);
      // the JPEG kept as it is (its pixels as stored), turned by the page
      const images = execFileSync('pdfimages', ['-list', file!], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean);
      assert.equal(images[0].trim().split(/\s+/)[8], 'jpeg');
      assert.equal(pageRotation(file!, 1), (360 - stored) % 360);
      // drawn as a viewer shows the page: the upright scan, under the text that reads back in place above
      const shown = decodePNM(execFileSync('pdftoppm', ['-gray', '-r', '300', '-f', '1', '-l', '1', file!], { maxBuffer: 1 << 26 }));
      assert.deepEqual([shown.width, shown.height], [phototest.width, phototest.height]);
      let diff = 0;
      for (let i = 0; i < shown.data.length; i++) diff += Math.abs(shown.data[i] - phototest.data[i]);
      assert.ok(diff / shown.data.length < 8, `mean difference ${diff / shown.data.length} from the upright scan`);
    });
  }

  test('a JPEG with EXIF Orientation 2 (mirrored): the pixels as shown, the text where it is on them', async () => {
    const mirrored = { ...phototest, data: new Uint8Array(phototest.data.length) };
    for (let y = 0; y < phototest.height; y++) {
      for (let x = 0; x < phototest.width; x++) mirrored.data[y * phototest.width + x] = phototest.data[y * phototest.width + phototest.width - 1 - x];
    }
    const { result, file } = await withPdf(withExifOrientation(greyToJpeg(mirrored), 2), 'photo-exif-2.jpg');
    assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result.error));
    assertReadsBack(file!, 1, result.pages[0]);
    assert.equal(pageRotation(file!, 1), 0);
    const shown = decodePNM(execFileSync('pdftoppm', ['-gray', '-r', '300', '-f', '1', '-l', '1', file!], { maxBuffer: 1 << 26 }));
    // JPEG's losses against the stored pixels shown mirrored back: far from the stored pixels themselves
    let diff = 0, asStored = 0;
    for (let i = 0; i < shown.data.length; i++) { diff += Math.abs(shown.data[i] - phototest.data[i]); asStored += Math.abs(mirrored.data[i] - phototest.data[i]); }
    assert.ok(diff < asStored / 3, `mean difference ${diff / shown.data.length} from the upright scan, ${asStored / shown.data.length} from the stored pixels`);
  });

  test('a TIFF with Orientation 6 (stored sideways): the page shows the frame as a viewer would, the text where it is on it', async () => {
    const stored = orientPixels(phototest.data, phototest.width, phototest.height, 8);
    const { result, file } = await withPdf(multiPageTiff([stored], 300, 6), 'sideways.tif');
    assert.equal(result.status, 'SUCCEEDED', JSON.stringify(result.error));
    assertReadsBack(file!, 1, result.pages[0]);
    // drawn pixel for pixel as the same scan stored upright
    const upright = await withPdf(multiPageTiff([phototest], 300), 'upright.tif');
    const render = (f: string): GreyImage => decodePNM(execFileSync('pdftoppm', ['-gray', '-r', '300', '-f', '1', '-l', '1', f], { maxBuffer: 1 << 26 }));
    const shown = render(file!);
    assert.deepEqual([shown.width, shown.height], [phototest.width, phototest.height]);
    assert.ok(Buffer.from(shown.data).equals(Buffer.from(render(upright.file!).data)), 'renders as the upright scan');
  });

  test('a fax TIFF (204 x 196 dpi) stored sideways: the page is sized by each axis\' own resolution, as shown', async () => {
    const stored = orientPixels(phototest.data, phototest.width, phototest.height, 8);
    const { file } = await withPdf(multiPageTiff([stored], { x: 204, y: 196 }, 6), 'fax.tif');
    const info = execFileSync('pdfinfo', [file!], { encoding: 'utf8' });
    const [, w, h] = /Page size:\s+([\d.]+) x ([\d.]+)/.exec(info)!.map(Number);
    // the width shown is the stored height, at the stored vertical resolution (196); the height shown the stored width, at 204
    assert.equal(Math.round(w * 196 / 72), phototest.width);
    assert.equal(Math.round(h * 204 / 72), phototest.height);
  });

  test('a multi-page TIFF: one page per frame, each sized by its resolution', async () => {
    const tiff = multiPageTiff([phototest, eurotext], 200);
    const { result, file } = await withPdf(tiff, 'two-pages.tif');
    const info = execFileSync('pdfinfo', ['-f', '1', '-l', '2', file!], { encoding: 'utf8' });
    assert.match(info, /Pages:\s+2/);
    // 200 dpi: a pixel is 72/200 pt
    const sizes = [...info.matchAll(/Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.deepEqual(sizes.map(([w, h]) => [Math.round(w * 200 / 72), Math.round(h * 200 / 72)]), [[phototest.width, phototest.height], [eurotext.width, eurotext.height]]);
    assertReadsBack(file!, 1, result.pages[0]);
    assertReadsBack(file!, 2, result.pages[1]);
  });
});

describe('PDF inputs: the original with a text layer on its OCR\'d pages', () => {
  test('scanned pages (one with /Rotate 90) gain the text; a born-digital page and every image stay as they were', async () => {
    // a PDF made of two scans (the second page turned 90 degrees by /Rotate) and a born-digital page
    const doc = await PDFDocument.create();
    for (const [img, rotate] of [[phototest, 0], [eurotext, 90]] as const) {
      const png = await doc.embedPng(greyToPng(img));
      const page = doc.addPage([img.width * 72 / 300, img.height * 72 / 300]);
      page.drawImage(png, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
      page.setRotation(degrees(rotate));
    }
    const [born] = await doc.copyPages(await PDFDocument.load(fixture('pdf/two_paragraphs.pdf')), [0]);
    doc.addPage(born);
    const input = await doc.save();
    const inputFile = join(scratch, 'mixed.pdf');
    writeFileSync(inputFile, input);

    const { result, file } = await withPdf(input, 'mixed.pdf');
    assert.deepEqual(result.pages.map((p) => p.method), ['ocr', 'ocr', 'text-layer']);
    assertReadsBack(file!, 1, result.pages[0]);
    assertReadsBack(file!, 2, result.pages[1]);
    // the born-digital page reads as before; the images are the same images, not re-rasterized
    assert.equal(pdftotext(file!, 3), pdftotext(inputFile, 3));
    const list = (f: string): string[] => execFileSync('pdfimages', ['-list', f], { encoding: 'utf8' }).split('\n').slice(2).filter(Boolean)
      .map((l) => l.trim().split(/\s+/).filter((_, i) => i !== 10 && i !== 11).join(' ')); // without object numbers
    assert.deepEqual(list(file!), list(inputFile));
    assert.match(execFileSync('pdfinfo', [file!], { encoding: 'utf8' }), /Pages:\s+3/);
    const added = readFileSync(file!).length - input.length;
    console.log(`# searchable PDF of a 3-page PDF: ${input.length} -> ${readFileSync(file!).length} bytes`);
    assert.ok(added < 20_000, `the text layer added ${added} bytes`);
  });

  test('pages OCR\'d over an unreadable text layer: only their OCR text is found, and they look as they did', async () => {
    // TAMReview.pdf: page 1's text layer is read; pages 2 and 3 draw their text with fonts that map to no Unicode
    const input = fixture('pdf/TAMReview.pdf');
    const inputFile = join(scratch, 'TAMReview.pdf');
    writeFileSync(inputFile, input);
    const { result, file } = await withPdf(input, 'TAMReview.pdf', { maxPages: 3 });
    assert.deepEqual(result.pages.map((p) => [p.method, p.textLayer?.used]), [['text-layer', true], ['ocr', false], ['ocr', false]]);
    assert.equal(pdftotext(file!, 1), pdftotext(inputFile, 1));
    assertTextFontDeclared(file!);
    for (const n of [2, 3]) {
      // the input's own extraction of the page is far from what the page says
      assert.ok(cer(pdftotext(inputFile, n), result.pages[n - 1].text) > 0.5);
      // in the order drawn: Poppler's reading order puts the labels of page 2's figure in another order than the result
      assertReadsBack(file!, n, result.pages[n - 1], true);
      const render = (f: string) => execFileSync('pdftoppm', ['-gray', '-r', '72', '-f', String(n), '-l', String(n), f], { maxBuffer: 1 << 26 });
      assert.ok(render(file!).equals(render(inputFile)), `page ${n} looks as it did`);
    }
  });

  test('an encrypted PDF: the JSON result, and the searchable PDF refused (OUTPUT_REFUSED)', async () => {
    const { result, file } = await withPdf(fixture('pdf/empty_protected.pdf'), 'empty_protected.pdf');
    assert.equal(result.status, 'SUCCEEDED');
    assert.equal(file, null);
    assert.equal(result.outputs![0].error!.code, 'OUTPUT_REFUSED');
  });

  test('a document that cannot be read: its JSON result says why, and why it has no searchable PDF', async () => {
    const { result, file } = await withPdf(fixture('pdf/bug1020226.pdf'), 'bug1020226.pdf');
    assert.equal(result.status, 'FAILED');
    assert.equal(file, null);
    assert.equal(result.outputs![0].error!.code, 'OUTPUT_FAILED');
    assert.match(result.outputs![0].error!.message, /INVALID_PDF/);
  });

  test('geometry: false with a searchable PDF: the PDF has the text, the JSON result no words', async () => {
    const { result, file } = await withPdf(greyToPng(phototest), 'nogeometry.png', { geometry: false });
    assert.equal(result.pages[0].words, undefined);
    assert.ok(cer(pdftotext(file!, 1), result.pages[0].text) <= 0.02);
  });
});

describe('the text layer', () => {
  test('text in any script is selectable: Greek, Cyrillic, CJK, Arabic read back as written', async () => {
    const texts = ['Ελληνικά', 'Кириллица', '日本語の文章', 'مرحبا', 'naïve', 'ﬁrst'];
    const page: PageResult = {
      pageNumber: 1, method: 'ocr', text: texts.join('\n'), confidence: 90, qrCodes: [], error: null, durationMs: 0,
      words: texts.map((text, i) => ({ text, confidence: 90, bbox: { left: 0.1, top: 0.1 + i * 0.12, width: 0.5, height: 0.08 } })),
      lines: texts.map((text, i) => ({ text, confidence: 90, bbox: { left: 0.1, top: 0.1 + i * 0.12, width: 0.5, height: 0.08 }, words: [i] })),
    };
    const file = join(scratch, 'scripts.pdf');
    writeFileSync(file, await searchablePdf(greyToPng(phototest), 'image/png', [page], 10_000_000));
    // Poppler marks a right-to-left run with bidi embedding characters (U+202A-U+202E), not part of the text
    const back = pdftotext(file, 1).replace(/[\u202a-\u202e]/g, '').split('\n').map((l) => l.trim()).filter(Boolean);
    assert.deepEqual(back.map((l) => l.normalize('NFKC')), texts.map((t) => t.normalize('NFKC')));
    const fonts = execFileSync('pdffonts', [file], { encoding: 'utf8' });
    assert.match(fonts.split('\n')[2], /Identity-H\s+yes\s+no\s+yes/, 'embedded, with a ToUnicode map');
  });

  test('an output larger than its bound fails with OUTPUT_FAILED', async () => {
    await assert.rejects(searchablePdf(greyToPng(phototest), 'image/png', [], 1000), (err: any) => err.code === 'OUTPUT_FAILED' && /above the limit/.test(err.message));
  });
});

describe('writing the outputs is bounded like the rest of the document', () => {
  test('GIVEN writing the outputs overruns the time limit WHEN the process is stopped THEN the JSON result stands and each output fails with why', async () => {
    // the child stalls before writing the outputs (fault injection): the pages are read in well under
    // the limit (a text-layer PDF), the outputs never come before it
    process.env[INTERNAL_ENV.TEST_OUTPUT_STALL_MS] = '600000';
    const stalled = createEngine({ workers: 1, timeoutSeconds: 15 });
    try {
      await stalled.warm(); // the child takes the environment when it starts
      delete process.env[INTERNAL_ENV.TEST_OUTPUT_STALL_MS];
      const reference = await engine.process(fixture('pdf/two_paragraphs.pdf'), { name: 'two_paragraphs.pdf', options: { geometry: false } });
      const r = await stalled.process(fixture('pdf/two_paragraphs.pdf'), { name: 'two_paragraphs.pdf', options: { outputs: ['json', 'pdf', 'hocr'], geometry: false } });
      assertValid(r);
      assert.equal(r.status, 'SUCCEEDED');
      assert.equal(r.error, null);
      assert.equal(r.text, reference.text);
      assert.deepEqual(r.pages.map((p) => ({ ...p, durationMs: 0 })), reference.pages.map((p) => ({ ...p, durationMs: 0 })));
      assert.equal(r.pages[0].words, undefined, 'geometry: false holds for the kept result too');
      assert.deepEqual(r.outputs?.map((o) => [o.format, o.error?.code, o.bytes]), [['pdf', 'OUTPUT_FAILED', undefined], ['hocr', 'OUTPUT_FAILED', undefined]]);
      for (const o of r.outputs!) assert.match(o.error!.message, /TIMEOUT.*time limit of 15 s/);
      assert.equal(outputBytes(r, 'pdf'), undefined);
      // the stopped process is replaced: the next document is read as usual
      const next = await stalled.process(fixture('ocr/phototest.tif'), { name: 'phototest.tif' });
      assert.equal(next.status, 'SUCCEEDED');
    } finally {
      delete process.env[INTERNAL_ENV.TEST_OUTPUT_STALL_MS];
      await stalled.close();
    }
  });
});

test('bin/ocr --searchable-pdf DIR writes DIR/<name without extension>.pdf beside the JSON lines', () => {
  const dir = join(scratch, 'cli-out');
  const r = spawnSync(join(PKG, 'bin', 'ocr'), ['--workers', '1', '--ocr-engine', 'tesseract', '--searchable-pdf', dir, join(PKG, 'samples', 'scanned-page.tif')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim()) as OcrResult;
  const file = join(dir, 'scanned-page.pdf');
  assert.ok(existsSync(file));
  assert.equal(result.outputs![0].bytes, readFileSync(file).length);
  assertReadsBack(file, 1, result.pages[0]);
});

test('bin/ocr --searchable-pdf with an encrypted PDF: its JSON line, no file, and why on stderr', () => {
  const dir = join(scratch, 'cli-refused');
  const input = join(scratch, 'locked.pdf');
  writeFileSync(input, fixture('pdf/empty_protected.pdf'));
  const r = spawnSync(join(PKG, 'bin', 'ocr'), ['--workers', '1', '--ocr-engine', 'tesseract', '--searchable-pdf', dir, input], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim()) as OcrResult;
  assert.equal(result.status, 'SUCCEEDED');
  assert.equal(result.outputs![0].error!.code, 'OUTPUT_REFUSED');
  assert.ok(!existsSync(join(dir, 'locked.pdf')));
  assert.match(r.stderr, /locked\.pdf: no pdf written: OUTPUT_REFUSED: The PDF is encrypted/);
});

test('bin/ocr --searchable-pdf with two FILEs of one name: a usage error before any is read, nothing written', () => {
  const dir = join(scratch, 'cli-clash');
  const r = spawnSync(join(PKG, 'bin', 'ocr'), ['--searchable-pdf', dir, 'a/scan.pdf', 'b/scan.tif'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /a\/scan\.pdf and b\/scan\.tif would both write scan\.pdf/);
  assert.equal(r.stdout, '');
  assert.ok(!existsSync(dir));
});
