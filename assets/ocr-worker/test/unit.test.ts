import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMediaType, ERROR_CODES, parsePageRange, validateResult, availableCpus } from '../src/index.ts';
import { selectPages } from '../src/options.ts';
import { judgeTextLayer } from '../src/textlayer.ts';
import { cer } from '../src/cer.ts';
import { languageDataDir, languageDataFolder } from '../src/paths.ts';
import { memoryVerdict } from '../src/engine.ts';
import { decodeImageFrame, downscaleGrey, rgbaToGrey, rotateGrey, toTIFF } from '../src/image.ts';
import { fixture } from './helpers/common.ts';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// utif2 is CommonJS
const UTIF = createRequire(import.meta.url)('utif2') as { decode(buf: Uint8Array): Array<Record<string, unknown>> };

test('media type comes from the content, not the name', () => {
  assert.equal(detectMediaType(fixture('pdf/two_paragraphs.pdf')), 'application/pdf');
  assert.equal(detectMediaType(fixture('ocr/phototest.tif')), 'image/tiff');
  assert.equal(detectMediaType(fixture('qr/qrcode-2-1.png')), 'image/png');
  assert.equal(detectMediaType(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0])), 'image/jpeg');
  assert.throws(() => detectMediaType(Buffer.from('hello world, plain text')), { code: 'UNSUPPORTED_MEDIA_TYPE' });
  assert.throws(() => detectMediaType(Buffer.alloc(0)), { code: 'EMPTY_INPUT' });
});

test('page ranges and max pages', () => {
  assert.deepEqual(selectPages(10, { pages: '1-3,5' }), [1, 2, 3, 5]);
  assert.deepEqual(selectPages(10, { pages: '8-' }), [8, 9, 10]);
  assert.deepEqual(selectPages(10, { maxPages: 2 }), [1, 2]);
  assert.deepEqual(selectPages(10, { pages: '2-9', maxPages: 3 }), [2, 3, 4]);
  assert.throws(() => parsePageRange('3-1'));
  assert.throws(() => parsePageRange('a'));
});

test('text layer quality criteria', () => {
  assert.equal(judgeTextLayer('The first paragraph.\nThe second paragraph.', false).good, true);
  assert.equal(judgeTextLayer('', false).good, false);
  assert.equal(judgeTextLayer('\u0002\u0003\u0004\u0005 \u0003\u0006\u0004\u0007\b ab', false).good, false);
  assert.equal(judgeTextLayer('Chapter 1 ............................................ 2', false).good, true);
  assert.equal(judgeTextLayer('Scanned by ACME', true).good, false, 'sparse text over images goes to OCR');
  assert.equal(judgeTextLayer('あいうえお', false).good, true);
});

test('CER folds whitespace', () => {
  assert.equal(cer('a  b\nc', 'a b c'), 0);
  assert.equal(cer('abd', 'abc'), 1 / 3);
});

test('rotation round trip', () => {
  const img = { width: 3, height: 2, data: new Uint8Array([1, 2, 3, 4, 5, 6]) };
  for (const d of [90, 180, 270]) {
    const r = rotateGrey(rotateGrey(img, d), 360 - d);
    assert.deepEqual([...r.data], [...img.data]);
  }
  assert.deepEqual([...rotateGrey(img, 90).data], [4, 1, 5, 2, 6, 3]);
});

test('RGBA to grey: BT.601 luma, transparent pixels towards white, the same from aligned and unaligned buffers', () => {
  // white, black, pure red/green/blue, a grey, transparent black, half-transparent black, opaque white again
  const pixels = [[255, 255, 255, 255], [0, 0, 0, 255], [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [128, 128, 128, 255], [0, 0, 0, 0], [0, 0, 0, 128], [255, 255, 255, 255]];
  const expected = [255, 0, 76, 149, 28, 128, 255, 127, 255];
  const aligned = new Uint8ClampedArray(pixels.flat());
  assert.deepEqual([...rgbaToGrey(aligned, 9, 1).data], expected);
  // the same pixels one byte into a buffer: no 32-bit view is possible, the result must not change
  const shifted = new Uint8ClampedArray(pixels.length * 4 + 1);
  shifted.set(aligned, 1);
  assert.deepEqual([...rgbaToGrey(shifted.subarray(1), 3, 3).data], expected);
  // as rows of 3: a blank (all opaque white) row between rows with ink, aligned and unaligned
  const rows = [[0, 0, 0, 255], [255, 255, 255, 255], [10, 20, 30, 255], ...Array(3).fill([255, 255, 255, 255]), [255, 255, 255, 255], [0, 0, 0, 0], [128, 128, 128, 255]];
  const rowsExpected = [0, 255, 18, 255, 255, 255, 255, 255, 128];
  assert.deepEqual([...rgbaToGrey(new Uint8ClampedArray(rows.flat()), 3, 3).data], rowsExpected);
  const rowsShifted = new Uint8ClampedArray(rows.length * 4 + 1);
  rowsShifted.set(rows.flat(), 1);
  assert.deepEqual([...rgbaToGrey(rowsShifted.subarray(1), 3, 3).data], rowsExpected);
});

test('CPU count honours cgroup limits and is at least 1', () => {
  const n = availableCpus();
  assert.ok(n >= 1);
  try {
    const [q, p] = readFileSync('/sys/fs/cgroup/cpu.max', 'utf8').trim().split(/\s+/);
    if (q !== 'max') assert.ok(n <= Math.ceil(Number(q) / Number(p)));
  } catch { /* no cgroup v2 here */ }
});

test('schema: error codes are a closed list; a FAILED result must carry an error', () => {
  const base = {
    schemaVersion: '1.0', source: 'x', sha256: 'a'.repeat(64), engine: { version: '1', languages: ['eng'] },
    status: 'FAILED', mediaType: null, pageCount: 0, pages: [], text: '', qrCodes: [], durationMs: 1,
  };
  assert.deepEqual(validateResult({ ...base, error: { code: 'TIMEOUT', message: 'x' } }), []);
  assert.notDeepEqual(validateResult({ ...base, error: { code: 'NOPE', message: 'x' } }), []);
  assert.notDeepEqual(validateResult({ ...base, error: null }), []);
  const schema = JSON.parse(readFileSync(new URL('../schema/result.schema.json', import.meta.url), 'utf8'));
  assert.deepEqual(schema.definitions.error.properties.code.enum, [...ERROR_CODES]);
});

test('validator: a page\'s words and lines (names, normalized boxes, line word indices) and what the schema cannot say about them', () => {
  const box = (left: number, top: number, width: number, height: number) => ({ left, top, width, height });
  const words = [{ text: 'Hello', confidence: 96, bbox: box(0.1, 0.1, 0.2, 0.05) }, { text: 'world', confidence: 90, bbox: box(0.35, 0.1, 0.2, 0.05) }];
  const line = { text: 'Hello world', confidence: 93, bbox: box(0.1, 0.1, 0.45, 0.05), words: [0, 1] };
  const result = (page: object) => ({
    schemaVersion: '1.1', source: 'x', sha256: 'a'.repeat(64), engine: { version: '1', languages: ['eng'] }, status: 'SUCCEEDED',
    mediaType: 'image/png', pageCount: 1, text: 'Hello world', qrCodes: [], error: null, durationMs: 1,
    pages: [{ pageNumber: 1, method: 'ocr', text: 'Hello world', confidence: 93, qrCodes: [], error: null, durationMs: 1, words, lines: [line], ...page }],
  });
  assert.deepEqual(validateResult(result({})), []);
  assert.deepEqual(validateResult(result({ words: undefined, lines: undefined })), [], 'geometry left out');
  const problems = (page: object): string => validateResult(result(page)).join('\n');
  // the schema: exactly these names, boxes normalized to 0..1, confidences 0..100
  assert.match(problems({ words: [{ ...words[0], box: words[0].bbox }, words[1]] }), /must NOT have additional properties|must have required property 'bbox'/);
  assert.match(problems({ words: [{ ...words[0], bbox: { x: 0.1, y: 0.1, w: 0.2, h: 0.05 } }, words[1]] }), /bbox/);
  assert.match(problems({ words: [{ ...words[0], bbox: box(12, 40, 80, 20) }, words[1]] }), /bbox\/left must be <= 1/);
  assert.match(problems({ words: [{ ...words[0], confidence: 0.96 * 200 }, words[1]] }), /confidence must be <= 100/);
  assert.match(problems({ lines: [{ ...line, words: [] }] }), /lines\/0\/words must NOT have fewer than 1 items/);
  // beyond the schema
  assert.match(problems({ lines: undefined }), /words but no lines/);
  assert.match(problems({ lines: [{ ...line, words: [1, 0] }] }), /do not list each of the page's 2 words once, in order/);
  assert.match(problems({ lines: [{ ...line, words: [0, 1, 2] }] }), /do not list each/);
  assert.equal(problems({ lines: [{ ...line, text: 'Hello', words: [0], bbox: words[0].bbox }, { ...line, text: 'world', words: [1], bbox: words[0].bbox }] }),
    '/pages/0/lines/1/bbox does not hold its words\' boxes');
  assert.match(problems({ lines: [{ ...line, text: 'Hello  world' }] }), /lines\/0\/text is not its words' texts/);
  assert.match(problems({ words: [words[0], { ...words[1], bbox: box(0.9, 0.1, 0.2, 0.05) }] }), /words\/1\/bbox reaches past the page/);
});

test('memory verdicts: a document is blamed only when it is alone in a child that is not already dying', () => {
  const MiB = 1048576;
  assert.equal(memoryVerdict(800 * MiB, 900 * MiB, 1, undefined), 'within');
  assert.equal(memoryVerdict(900 * MiB, 900 * MiB, 2, undefined), 'within');
  assert.equal(memoryVerdict(905 * MiB, 900 * MiB, 1, undefined), 'over');
  assert.equal(memoryVerdict(905 * MiB, 900 * MiB, 2, undefined), 'rerun-alone');
  // the race CI caught: the child was killed for both documents, the other one has left the slot
  // (one document counted), and /proc still shows the dying child's RSS: not this document's fault
  assert.equal(memoryVerdict(905 * MiB, 900 * MiB, 1, 'shared'), 'awaiting-exit');
  assert.equal(memoryVerdict(1200 * MiB, 900 * MiB, 1, 7), 'awaiting-exit');
});

test('downscale by 2 (the fast path) and by 3: each output pixel is the floor of its block\'s mean', () => {
  const width = 101, height = 67; // odd: the last column and row are dropped
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  for (const f of [2, 3]) {
    const out = downscaleGrey({ width, height, data }, f);
    assert.equal(out.width, Math.floor(width / f));
    assert.equal(out.height, Math.floor(height / f));
    for (let y = 0; y < out.height; y++) {
      for (let x = 0; x < out.width; x++) {
        let sum = 0;
        for (let dy = 0; dy < f; dy++) for (let dx = 0; dx < f; dx++) sum += data[(y * f + dy) * width + x * f + dx];
        assert.equal(out.data[y * out.width + x], Math.floor(sum / (f * f)), `factor ${f} at ${x},${y}`);
      }
    }
  }
});

test('the OCR page file: an uncompressed TIFF that a TIFF reader decodes to the same pixels, with the page\'s DPI when known', async () => {
  const width = 37, height = 23; // odd sizes: no row padding may creep in
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const img = { width, height, data };
  for (const dpi of [300, 149.6, undefined]) {
    const file = toTIFF(img, dpi);
    assert.equal(detectMediaType(file), 'image/tiff');
    const decoded = await decodeImageFrame(file, 'image/tiff', 0, 1e9);
    assert.deepEqual({ width: decoded.width, height: decoded.height }, { width, height });
    assert.deepEqual(Buffer.from(decoded.data), Buffer.from(data), `pixels at ${dpi} dpi`);
    // utif2 (an independent reader) gives every field as an array
    const [ifd] = UTIF.decode(file);
    assert.deepEqual([ifd.t258, ifd.t259, ifd.t262, ifd.t277], [[8], [1], [1], [1]], 'grey, 8 bits, uncompressed');
    if (dpi) {
      const res = [Math.round(dpi), 1]; // a rational: numerator, denominator
      assert.deepEqual([ifd.t282, ifd.t283, ifd.t296], [[res], [res], [2]], 'resolution in pixels per inch');
    } else {
      assert.equal(ifd.t282, undefined, 'no resolution when the DPI is unknown (tesseract estimates it)');
    }
  }
});

test('languageDataFolder: languages whose data share a folder are read from it, nothing is linked (several packages: the image test)', () => {
  assert.equal(languageDataFolder(['eng']), languageDataDir('eng'));
  assert.equal(languageDataFolder(['eng', 'eng']), languageDataDir('eng'));
});
