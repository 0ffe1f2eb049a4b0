/**
 * hOCR output: made from the result's geometry, it agrees with native Tesseract's own hOCR of the same
 * page (word text and pixel boxes), and the CLI writes it as DIR/<name>.hocr. Needs Debian's tesseract-ocr.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEngine, outputBytes, type Engine, type OcrResult } from '../src/index.ts';
import { decodeImageFrame, toTIFF } from '../src/image.ts';
import { NATIVE_TESSERACT_COMMAND, prepareTessdata } from '../src/native-tesseract.ts';
import { languageDataDir } from '../src/paths.ts';
import { assertValid, fixture, PKG } from './helpers/common.ts';

let scratch: string;
let engine: Engine;

/** The words of an hOCR document: text and bbox (pixels), in document order; and its page boxes. */
function hocrWords(hocr: string): { pages: string[]; words: Array<{ text: string; box: number[] }> } {
  const unescape = (s: string): string => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  return {
    pages: [...hocr.matchAll(/class=['"]ocr_page['"][^>]*title=(['"])(.*?)\1/g)].map((m) => /bbox \d+ \d+ \d+ \d+/.exec(m[2])![0]),
    words: [...hocr.matchAll(/<span class=['"]ocrx_word['"][^>]*title=['"]bbox (\d+) (\d+) (\d+) (\d+)[^>]*>([^<]*)<\/span>/g)]
      .map((m) => ({ text: unescape(m[5]), box: m.slice(1, 5).map(Number) })),
  };
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'hocr-test-'));
  engine = createEngine({ workers: 1, timeoutSeconds: 120 });
});
after(async () => {
  await engine.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('hOCR of a scan agrees with Tesseract\'s own hOCR: same words, boxes within a pixel', async () => {
  const bytes = fixture('ocr/phototest.tif');
  const r = await engine.process(bytes, { name: 'phototest.tif', options: { outputs: ['json', 'hocr'] } });
  assertValid(r);
  const ours = hocrWords(Buffer.from(outputBytes(r, 'hocr')!).toString('utf8'));
  assert.equal(ours.words.length, r.pages[0].words!.length);

  const img = await decodeImageFrame(bytes, 'image/tiff', 0, 1e9);
  const file = join(scratch, 'page.tif');
  writeFileSync(file, toTIFF(img));
  const theirs = hocrWords(execFileSync(NATIVE_TESSERACT_COMMAND, [file, 'stdout', '--tessdata-dir', prepareTessdata(['eng'], languageDataDir('eng')),
    '-l', 'eng', '--psm', '3', '--oem', '1', '-c', 'tessedit_create_hocr=1'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, OMP_THREAD_LIMIT: '1' } }));
  assert.deepEqual(ours.pages, theirs.pages);
  const same = theirs.words.filter((t, i) => ours.words[i]?.text === t.text && ours.words[i].box.every((v, k) => Math.abs(v - t.box[k]) <= 1)).length;
  console.log(`# hOCR agreement with tesseract's hOCR: ${same}/${theirs.words.length} words`);
  assert.ok(same / theirs.words.length >= 0.95, `${same}/${theirs.words.length}`);
});

test('hOCR of a born-digital PDF: a page per processed page, sized at the render resolution', async () => {
  const r = await engine.process(fixture('pdf/basicapi.pdf'), { name: 'basicapi.pdf', options: { outputs: ['json', 'hocr'], geometry: false } });
  assertValid(r);
  assert.equal(r.pages[0].words, undefined, 'geometry: false still leaves the words out of the JSON');
  const h = hocrWords(Buffer.from(outputBytes(r, 'hocr')!).toString('utf8'));
  // A4 at 300 dpi
  assert.deepEqual(h.pages, ['bbox 0 0 2480 3508', 'bbox 0 0 2480 3508', 'bbox 0 0 2480 3508']);
  assert.ok(h.words.some((w) => w.text === 'Chapter'));
});

test('bin/ocr --hocr DIR writes DIR/<name without extension>.hocr', () => {
  const dir = join(scratch, 'cli');
  const r = spawnSync(join(PKG, 'bin', 'ocr'), ['--workers', '1', '--hocr', dir, join(PKG, 'samples', 'born-digital.pdf')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout.trim()) as OcrResult;
  const hocr = readFileSync(join(dir, 'born-digital.hocr'), 'utf8');
  assert.equal(result.outputs![0].bytes, Buffer.byteLength(hocr));
  assert.deepEqual(hocrWords(hocr).words.map((w) => w.text), result.pages.flatMap((p) => p.words!.map((w) => w.text)));
});
