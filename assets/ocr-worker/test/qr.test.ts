import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { hybridBinarize, type Bitmap } from '../src/binarize.ts';
import { finderCandidates } from '../src/finder-screen.ts';
import { decodeImageFrame, downscaleGrey, type GreyImage } from '../src/image.ts';
import { closePdf, openPdf, renderPage } from '../src/pdf.ts';
import { decodeBarcodes } from '../src/qr.ts';
import { fixture, FIXTURES } from './helpers/common.ts';
import { placeOnPage, qrPage } from '../tools/generate.ts';

const require = createRequire(import.meta.url);
const ZX = require('@zxing/library');
// ZXing's own finder-pattern search, the reference the screen must never miss a candidate of
const ZXingFinderPatternFinder = require('@zxing/library/cjs/core/qrcode/detector/FinderPatternFinder').default;

const source = (img: GreyImage): any =>
  new ZX.RGBLuminanceSource(new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength), img.width, img.height);
const asBitmap = (m: any): Bitmap => ({ width: m.getWidth(), height: m.getHeight(), rowSize: m.getRowSize(), bits: m.bits });
const complement = (b: Bitmap): Bitmap => ({ ...b, bits: b.bits.map((w) => ~w) });

/** How many finder-pattern candidates ZXing's FinderPatternFinder records in a bitmap (TRY_HARDER, as the QR search runs). */
function zxingCandidates(b: Bitmap): number {
  const finder = new ZXingFinderPatternFinder(new ZX.BitMatrix(b.width, b.height, b.rowSize, b.bits));
  try { finder.find(new Map([[ZX.DecodeHintType.TRY_HARDER, true]])); } catch { /* fewer than three: candidates still recorded */ }
  return finder.getPossibleCenters().length;
}

async function renderAt300(file: string, page: number): Promise<GreyImage> {
  const h = await openPdf(new Uint8Array(fixture(`pdf/${file}`)));
  try { return (await renderPage(h, page, 300, 36e6)).image; } finally { await closePdf(h); }
}

function noise(width: number, height: number, seed: number): GreyImage {
  // pseudo-random pixels mixed with flat stretches, so that both kinds of block occur
  const data = new Uint8Array(width * height);
  let s = seed;
  for (let i = 0; i < data.length; i++) {
    s = (s * 1103515245 + 12345) >>> 0;
    data[i] = (s >>> 16) & 1 ? (s >>> 8) & 255 : (i % 7 < 3 ? 20 : 230);
  }
  return { width, height, data };
}

const codes = [
  { text: 'https://example.com/a?id=1', x: 100, y: 100, module: 3 },
  { text: 'SMALL-CODE-42', x: 900, y: 150, module: 5 },
  { text: 'a longer payload to make a bigger symbol version 1234567890', x: 200, y: 900, module: 10 },
];

describe('QR search on pages: binarisation, finder-pattern screen', () => {
  const photos: Array<{ name: string; img: GreyImage; text: string }> = [];
  let scanPage: GreyImage, formPage: GreyImage;
  before(async () => {
    for (const f of readdirSync(join(FIXTURES, 'qr')).filter((x) => x.endsWith('.png')).sort()) {
      photos.push({ name: f, img: await decodeImageFrame(fixture(`qr/${f}`), 'image/png', 0, 1e9), text: fixture(`qr/${f.replace('.png', '.txt')}`).toString('utf8') });
    }
    scanPage = await renderAt300('TAMReview.pdf', 1); // a scanned page of text
    formPage = await renderAt300('160F-2019.pdf', 1); // a born-digital form: lines, boxes, small print
  });

  test('hybrid binarisation: the bits ZXing computes, for the image and for its negative', () => {
    const images = [...photos.map((p) => p.img), scanPage, qrPage(600, 500, codes.slice(0, 2)),
      noise(40, 40, 1), noise(41, 57, 2), noise(333, 257, 3), noise(1001, 77, 4)];
    for (const img of images) {
      const ours = hybridBinarize(img)!;
      const zxing = new ZX.HybridBinarizer(source(img)).getBlackMatrix();
      const zxingNegative = new ZX.HybridBinarizer(new ZX.InvertedLuminanceSource(source(img))).getBlackMatrix();
      assert.deepEqual(ours.image.bits, zxing.bits, `${img.width}x${img.height}`);
      assert.deepEqual(ours.negative.bits, zxingNegative.bits, `${img.width}x${img.height} negative`);
      assert.equal(ours.image.rowSize, zxing.getRowSize());
    }
    // below 40 px ZXing uses its global binarizer instead: not ours to imitate
    assert.equal(hybridBinarize(noise(39, 100, 5)), null);
  });

  test('finder screen: every candidate ZXing records, in both colours; none on text pages', () => {
    let zxingPositive = 0;
    const pages = [...photos.map((p) => p.img), qrPage(1700, 2200, codes), scanPage];
    for (const img of pages) {
      const hybrid = hybridBinarize(img)!;
      const bitmaps = [hybrid.image, hybrid.negative, asBitmap(new ZX.GlobalHistogramBinarizer(source(img)).getBlackMatrix())];
      for (const b of bitmaps) {
        const ours = finderCandidates(b, false);
        if (zxingCandidates(b) > 0) { zxingPositive++; assert.ok(ours.dark, `${img.width}x${img.height}: ZXing found a candidate the screen missed`); }
        if (zxingCandidates(complement(b)) > 0) assert.ok(ours.light, `${img.width}x${img.height}: ZXing found a light-on-dark candidate the screen missed`);
      }
    }
    assert.ok(zxingPositive >= photos.length, `the comparison is not vacuous (${zxingPositive} bitmaps with ZXing candidates)`);
    // the point of the screen: text pages hold none, in any bitmap the search decodes from
    for (const page of [scanPage, formPage]) {
      const hybrid = hybridBinarize(page)!;
      const half = hybridBinarize(downscaleGrey(page, 2))!;
      for (const b of [hybrid.image, hybrid.negative, half.image, asBitmap(new ZX.GlobalHistogramBinarizer(source(page)).getBlackMatrix())]) {
        assert.deepEqual(finderCandidates(b, false), { dark: false, light: false });
      }
    }
  });

  test('screened search reads what every attempt reads: corpus photos on pages, several codes on one page', () => {
    let read = 0;
    for (const p of photos) {
      const blank = { width: scanPage.width, height: scanPage.height };
      const placements = [
        placeOnPage(p.img, blank, 300, 400),
        placeOnPage(p.img, scanPage, 1200, 1800), // among scanned text
        placeOnPage(p.img, blank, 300, 400, true), // light on dark
      ];
      for (const [i, page] of placements.entries()) {
        const all = decodeBarcodes(page, { screen: false }).map((h) => h.text);
        const screened = decodeBarcodes(page).map((h) => h.text);
        assert.deepEqual(screened, all, `${p.name}, placement ${i}`);
        if (screened.includes(p.text)) read++;
      }
    }
    assert.ok(read >= photos.length * 2, `codes were read (${read}), so the comparison is not vacuous`);
    const several = decodeBarcodes(qrPage(1700, 2200, codes)).map((h) => h.text);
    assert.deepEqual(several.sort(), codes.map((c) => c.text).sort());
  });
});
