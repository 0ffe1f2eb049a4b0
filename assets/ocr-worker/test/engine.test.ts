import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEngine, type Engine, type OcrResult } from '../src/index.ts';
import { cer } from '../src/cer.ts';
import { decodeImageFrame, rotateGrey } from '../src/image.ts';
import { assertValid, fixture, FIXTURES } from './helpers/common.ts';
import { imagePdf, textPdf } from '../tools/pdfwriter.ts';
import { pgm, qrPage } from '../tools/generate.ts';
import { greyCanvas } from '../tools/grey-canvas.ts';

let engine: Engine;
const expectations = JSON.parse(readFileSync(join(FIXTURES, 'expectations.json'), 'utf8'));

async function run(bytes: Uint8Array, name: string, options = {}): Promise<OcrResult> {
  const r = await engine.process(bytes, { name, options });
  assertValid(r);
  return r;
}

before(async () => {
  engine = createEngine({ workers: 2, timeoutSeconds: 120 });
  assert.equal(engine.isReady(), false);
  await engine.warm();
  assert.equal(engine.isReady(), true, 'warm-up is observable');
});
after(async () => { await engine.close(); });

describe('scanned pages (OCR)', () => {
  for (const [name, bound] of [['phototest', 0.02], ['eurotext', 0.03]] as const) {
    test(`${name}.tif: CER <= ${bound}`, async () => {
      const r = await run(fixture(`ocr/${name}.tif`), `${name}.tif`);
      assert.equal(r.status, 'SUCCEEDED');
      assert.equal(r.mediaType, 'image/tiff');
      assert.equal(r.pages[0].method, 'ocr');
      const c = cer(r.text, fixture(`ocr/${name}.txt`).toString('utf8'));
      process.stderr.write(`# CER ${name} = ${c.toFixed(4)}\n`);
      assert.ok(c <= bound, `CER ${c}`);
    });
  }
  for (const deg of [90, 180, 270]) {
    test(`phototest rotated ${deg}°: auto-orientation keeps CER <= 0.03`, async () => {
      const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
      const r = await run(pgm(rotateGrey(img, deg)), `phototest-${deg}.pgm`);
      const c = cer(r.text, fixture('ocr/phototest.txt').toString('utf8'));
      process.stderr.write(`# CER phototest rotated ${deg} = ${c.toFixed(4)} (turned ${r.pages[0].rotation})\n`);
      assert.ok(c <= 0.03, `CER ${c}`);
    });
  }
  test('a scanned page inside a PDF is rendered and OCRed', async () => {
    const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
    const r = await run(imagePdf(img, 150), 'scan.pdf', { dpi: 300 });
    assert.equal(r.pages[0].method, 'ocr');
    assert.equal(r.pages[0].dpi, 300);
    assert.ok(cer(r.text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.03);
  });
});

describe('PDF corpus: text layer or OCR, errors classified', () => {
  for (const [file, exp] of Object.entries<any>(expectations.pdf)) {
    if (file === 'TAMReview.pdf') continue;
    test(`${file} (${exp.kind})`, async () => {
      const r = await run(fixture(`pdf/${file}`), file);
      assert.equal(r.status, exp.status, JSON.stringify(r.error));
      if (exp.error) assert.equal(r.error?.code, exp.error);
      if (exp.methods) assert.equal(r.pages.map((p) => p.method[0]).join(''), exp.methods);
      if (exp.text) assert.equal(r.text, exp.text);
      for (const [n, code] of Object.entries<string>(exp.pageErrors ?? {})) {
        assert.equal(r.pages.find((p) => p.pageNumber === Number(n))?.error?.code, code);
      }
    });
  }
  test('TAMReview.pdf: garbage text layer goes to OCR, good pages use the text layer', async () => {
    const r = await run(fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '1-3,22-23' });
    assert.equal(r.pageCount, 23);
    assert.deepEqual(r.pages.map((p) => [p.pageNumber, p.method]), [[1, 'text-layer'], [2, 'ocr'], [3, 'ocr'], [22, 'ocr'], [23, 'text-layer']]);
    assert.match(r.pages[1].text, /Technology Acceptance Model/i);
    assert.ok((r.pages[1].confidence ?? 0) > 80);
  });
  test('saslprep-r6.pdf opens with its password; a wrong one is INCORRECT_PASSWORD', async () => {
    const ok = await run(fixture('pdf/saslprep-r6.pdf'), 'saslprep-r6.pdf', { password: expectations.pdf['saslprep-r6.pdf'].password });
    assert.equal(ok.status, 'SUCCEEDED');
    const bad = await run(fixture('pdf/saslprep-r6.pdf'), 'saslprep-r6.pdf', { password: 'nope' });
    assert.equal(bad.error?.code, 'INCORRECT_PASSWORD');
  });
  test('page range and max pages', async () => {
    const r = await run(fixture('pdf/standard_fonts.pdf'), 'standard_fonts.pdf', { pages: '2-', maxPages: 3 });
    assert.deepEqual(r.pages.map((p) => p.pageNumber), [2, 3, 4]);
    assert.equal(r.pageCount, 14);
    const none = await run(fixture('pdf/standard_fonts.pdf'), 'standard_fonts.pdf', { pages: '50-60' });
    assert.equal(none.error?.code, 'NO_PAGES');
  });
});

describe('generated documents', () => {
  const lines = ['Invoice 2024-117 for ACME Widgets Ltd.', 'Total amount due: 1,234.56 EUR', 'Thank you for your business.'];
  test('born-digital PDF: exact text from the text layer', async () => {
    const r = await run(textPdf([lines, ['Second page here.']]), 'gen.pdf');
    assert.equal(r.status, 'SUCCEEDED');
    assert.deepEqual(r.pages.map((p) => p.method), ['text-layer', 'text-layer']);
    assert.equal(r.pages[0].text, lines.join('\n'));
    assert.equal(r.pages[1].text, 'Second page here.');
    assert.equal(r.pages[0].confidence, null);
  });
  test('QR codes at several sizes on one page, exact text', async () => {
    const codes = [
      { text: 'https://example.com/a?id=1', x: 100, y: 100, module: 3 },
      { text: 'SMALL-CODE-42', x: 900, y: 150, module: 5 },
      { text: 'Grüße, 日本語 and a longer payload to make a bigger symbol version 1234567890', x: 200, y: 900, module: 10 },
    ];
    const r = await run(pgm(qrPage(1700, 2200, codes)), 'qr-page.pgm');
    assert.deepEqual(r.qrCodes.map((q) => q.text).sort(), codes.map((c) => c.text).sort());
    assert.ok(r.qrCodes.every((q) => q.format === 'QR_CODE' && q.pageNumber === 1));
  });
  test('JPEG, WebP and PNG versions of a scan are detected from their content and read', async () => {
    const canvas = greyCanvas(await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9));
    for (const [fmt, type] of [['jpeg', 'image/jpeg'], ['webp', 'image/webp'], ['png', 'image/png']] as const) {
      const bytes = await canvas.encode(fmt as any, 90 as any);
      const r = await run(bytes, `scan.${fmt === 'jpeg' ? 'pdf' : 'bin'}`); // misleading names on purpose
      assert.equal(r.mediaType, type);
      assert.ok(cer(r.text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.03, fmt);
    }
  });
  test('unsupported, empty and too large inputs are classified', async () => {
    assert.equal((await run(Buffer.from('just some text\n'), 'a.txt')).error?.code, 'UNSUPPORTED_MEDIA_TYPE');
    assert.equal((await run(Buffer.alloc(0), 'empty.pdf')).error?.code, 'EMPTY_INPUT');
    const small = createEngine({ workers: 1, maxDocumentBytes: 10 });
    try {
      assert.equal((await small.process(fixture('pdf/two_paragraphs.pdf'), { name: 'x.pdf' })).error?.code, 'TOO_LARGE');
    } finally { await small.close(); }
    const fake = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 0)]);
    assert.equal((await run(fake, 'broken.png')).error?.code, 'INVALID_IMAGE');
  });
});

describe('QR photos from the corpus (exact match)', () => {
  const files = readdirSync(join(FIXTURES, 'qr')).filter((f) => f.endsWith('.png'));
  test(`${files.length} photos`, async () => {
    let ok = 0;
    for (const f of files) {
      const r = await run(fixture(`qr/${f}`), f, { autoOrient: false });
      const want = fixture(`qr/${f.replace('.png', '.txt')}`).toString('utf8');
      if (r.qrCodes.some((q) => q.text === want)) ok++;
      else process.stderr.write(`# QR miss ${f}\n`);
    }
    process.stderr.write(`# QR exact ${ok}/${files.length}\n`);
    assert.ok(ok / files.length >= 0.95, `${ok}/${files.length}`);
  });
});

describe('multi-page TIFF', () => {
  test('every page is decoded and OCRed (page 2 upside down)', async () => {
    const { multiPageTiff } = await import('../tools/tiff.ts');
    const a = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
    const b = await decodeImageFrame(fixture('ocr/eurotext.tif'), 'image/tiff', 0, 1e9);
    const r = await run(multiPageTiff([a, rotateGrey(b, 180), a]), 'three.tif', { pages: '1-2' });
    assert.equal(r.pageCount, 3);
    assert.equal(r.pages.length, 2);
    assert.ok(cer(r.pages[0].text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.02);
    assert.ok(cer(r.pages[1].text, fixture('ocr/eurotext.txt').toString('utf8')) <= 0.03);
    assert.equal(r.pages[1].rotation, 180);
  });
});

describe('several documents at once', () => {
  test('a document queued behind others reports its wait apart (queuedMs), not as its own time (durationMs)', async () => {
    // one slot, which holds two documents at most: the first takes it, the second joins it once the
    // first has handed out its pages, the third must wait until one of the two is done
    const started = performance.now();
    const timed = (bytes: Uint8Array, name: string) => engine.process(bytes, { name }).then((r) => ({ r, elapsed: performance.now() - started }));
    const [a, b, c] = await Promise.all([
      timed(fixture('ocr/phototest.tif'), 'first'),
      timed(fixture('pdf/two_paragraphs.pdf'), 'joins'),
      timed(fixture('ocr/phototest.tif'), 'waits'),
    ]);
    for (const { r } of [a, b, c]) { assertValid(r); assert.equal(r.status, 'SUCCEEDED'); }
    assert.ok(a.r.queuedMs! <= 5, `the first document started at once (queued ${a.r.queuedMs} ms)`);
    const firstDone = Math.min(a.r.durationMs + a.r.queuedMs!, b.r.durationMs + b.r.queuedMs!);
    assert.ok(c.r.queuedMs! >= firstDone - 10, `the third waited until one of the others was done (queued ${c.r.queuedMs} ms, the first done after ${firstDone} ms)`);
    for (const { r, elapsed } of [a, b, c]) {
      // the two parts add up to what the caller waited, so the wait is not also in durationMs
      assert.ok(Math.abs(r.durationMs + r.queuedMs! - elapsed) <= 50, `${r.source}: ${r.durationMs} + ${r.queuedMs} ms against ${Math.round(elapsed)} ms`);
    }
  });

  test('concurrency 2: two bounded children, each with its own worker', async () => {
    const multi = createEngine({ workers: 2, concurrency: 2 });
    try {
      await multi.warm();
      assert.equal(multi.isReady(), true);
      assert.equal(multi.state, 'ready');
      const docs = [fixture('ocr/phototest.tif'), fixture('pdf/two_paragraphs.pdf'), fixture('qr/qrcode-2-1.png')];
      const busy = multi.process(docs[0], { name: 'a' });
      const results = await Promise.all([busy, multi.process(docs[1], { name: 'b' }), multi.process(docs[2], { name: 'c' })]);
      for (const r of results) { assertValid(r); assert.equal(r.status, 'SUCCEEDED'); }
      assert.deepEqual(results.map((r) => r.source), ['a', 'b', 'c']);
      assert.ok(cer(results[0].text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.02);
    } finally { await multi.close(); }
    assert.equal(multi.state, 'closed');
  });
});
