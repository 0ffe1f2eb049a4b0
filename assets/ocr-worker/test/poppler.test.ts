/**
 * Poppler as the PDF renderer (the native backend's default): pdftoppm draws the pages that go to OCR.
 * Needs Debian's poppler-utils and tesseract-ocr (.ci/run installs both).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, ConfigError } from '../src/batch.ts';
import { cer } from '../src/cer.ts';
import { createEngine, type Engine, type OcrResult } from '../src/index.ts';
import { decodeImageFrame } from '../src/image.ts';
import { parsePdfRenderer } from '../src/options.ts';
import { closePdf, openPdf, readTextLayer, renderPage } from '../src/pdf.ts';
import { popplerVersion, renderWithPoppler } from '../src/poppler.ts';
import { processes } from '../src/proc.ts';
import { parseServiceConfig, ServiceConfigError } from '../src/service/config.ts';
import { assertValid, FIXTURES, fixture } from './helpers/common.ts';
import { imagePdf, PdfWriter } from '../tools/pdfwriter.ts';

const expectations = JSON.parse(readFileSync(join(FIXTURES, 'expectations.json'), 'utf8'));
let engine: Engine;

async function run(e: Engine, bytes: Uint8Array, name: string, options = {}): Promise<OcrResult> {
  const r = await e.process(bytes, { name, options });
  assertValid(r);
  return r;
}

/** Runs `body` with environment variables set, then restores them. */
async function withEnv<T>(vars: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** A page whose drawing costs Poppler seconds: `n` filled squares of 300 x 300 pt (about 9 ms each at 300 dpi). */
function slowToDrawPdf(n: number): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  let ops = '';
  for (let i = 0; i < n; i++) ops += `${(i * 7) % 300} ${(i * 13) % 480} 300 300 re f\n`;
  const content = w.stream(ops);
  const page = w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Contents ${content} 0 R >>`);
  w.set(pagesId, `<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

/** A US Letter page cropped to 512 x 692 pt and turned 90°: the size both renderers must agree on. */
function rotatedCroppedPdf(): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const font = w.add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const content = w.stream('BT /F1 24 Tf 100 600 Td (Turned and cropped) Tj ET');
  const page = w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /CropBox [50 50 562 742] /Rotate 90 `
    + `/Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${content} 0 R >>`);
  w.set(pagesId, `<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

/**
 * Runs `body` with an engine (native backend) whose pdftoppm is a stand-in: it answers -v as Poppler
 * does (so that the engine starts), writes the arguments of every other call to a file (`calls()`
 * reads it), then runs the shell command `then`.
 */
async function withPdftoppmStandIn(then: string, body: (e: Engine, calls: () => string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pdftoppm-stand-in-'));
  const command = join(dir, 'pdftoppm');
  const log = join(dir, 'calls');
  writeFileSync(command, `#!/bin/sh\nif [ "$1" = -v ]; then echo "pdftoppm version 22.12.0" >&2; exit 0; fi\necho "$@" >> ${log}\n${then}\n`);
  chmodSync(command, 0o755);
  try {
    await withEnv({ OCR_PDFTOPPM_COMMAND: command }, async () => {
      const e = createEngine({ workers: 1, timeoutSeconds: 120, ocrEngine: 'tesseract' });
      try {
        await body(e, () => (existsSync(log) ? readFileSync(log, 'utf8') : ''));
      } finally { await e.close(); }
    });
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

/** Live pdftoppm processes (not zombies) and their process groups. */
function pdftoppmProcesses(): Array<{ pid: number; group: string }> {
  return processes().filter((p) => p.name === 'pdftoppm' && p.fields[0] !== 'Z').map((p) => ({ pid: p.pid, group: p.fields[2] }));
}

before(async () => {
  engine = createEngine({ workers: 2, timeoutSeconds: 120, ocrEngine: 'tesseract' });
  await engine.warm();
});
after(async () => { await engine.close(); });

describe('rendering a page with pdftoppm', () => {
  test('GIVEN a corpus page THEN Poppler draws it at the size pdf.js computes, to nearly the same pixels', async () => {
    const file = join(FIXTURES, 'pdf', 'TAMReview.pdf');
    const h = await openPdf(readFileSync(file));
    try {
      const byPdfjs = await renderPage(h, 5, 300, 36e6);
      assert.equal(byPdfjs.renderer, 'pdf.js');
      const byPoppler = await renderPage(h, 5, 300, 36e6, file);
      assert.equal(byPoppler.renderer, 'poppler');
      assert.equal(byPoppler.dpi, 300);
      assert.deepEqual([byPoppler.image.width, byPoppler.image.height], [byPdfjs.image.width, byPdfjs.image.height]);
      let diff = 0;
      for (let i = 0; i < byPdfjs.image.data.length; i++) diff += Math.abs(byPdfjs.image.data[i] - byPoppler.image.data[i]);
      const meanDiff = diff / byPdfjs.image.data.length;
      assert.ok(meanDiff < 8, `mean grey difference ${meanDiff.toFixed(2)} of 255: the same page drawn twice`);
    } finally { await closePdf(h); }
  });

  test('GIVEN a cropped page turned 90° THEN Poppler draws the crop box turned, as pdf.js does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'poppler-rotated-'));
    try {
      const file = join(dir, 'rotated.pdf');
      writeFileSync(file, rotatedCroppedPdf());
      const h = await openPdf(readFileSync(file));
      const byPdfjs = await renderPage(h, 1, 150, 36e6);
      const byPoppler = await renderPage(h, 1, 150, 36e6, file);
      await closePdf(h);
      assert.equal(byPoppler.renderer, 'poppler');
      assert.deepEqual([byPoppler.image.width, byPoppler.image.height], [byPdfjs.image.width, byPdfjs.image.height]);
      assert.ok(byPoppler.image.width > byPoppler.image.height, 'landscape after the turn');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  test('GIVEN a page Poppler cannot draw as asked THEN renderWithPoppler says so (null) instead of returning other pixels', async () => {
    const file = join(FIXTURES, 'pdf', 'basicapi.pdf');
    const h = await openPdf(readFileSync(file));
    const { width, height } = (await renderPage(h, 1, 300, 36e6)).image;
    await closePdf(h);
    const size = { width, height };
    assert.ok(await renderWithPoppler(file, 1, 300, size), 'page 1 is drawn');
    assert.equal(await renderWithPoppler(file, 9, 300, size), null, 'no page 9: pdftoppm exits 99');
    assert.equal(await renderWithPoppler(file, 1, 300, { width: 1000, height: 1000 }), null, 'another size than pdf.js computed');
    assert.equal(await renderWithPoppler(join(FIXTURES, 'pdf', 'missing.pdf'), 1, 300, size), null);
    assert.match(popplerVersion(), /^\d+\.\d+/);
  });
});

describe('the engine with Poppler', () => {
  test('GIVEN the native backend THEN Poppler renders its OCR pages by default, and the result names both', async () => {
    const r = await run(engine, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '1-2' });
    assert.equal(r.engine.pdfRenderer, 'poppler');
    assert.match(r.engine.poppler ?? '', /^\d+\.\d+/);
    assert.deepEqual(r.pages.map((p) => [p.method, p.renderer]), [['text-layer', undefined], ['ocr', 'poppler']]);
    assert.match(r.pages[1].text, /Technology Acceptance Model/);
  });

  test('GIVEN pages drawn by Poppler THEN OCR reads them as well as pages drawn by pdf.js (CER against the text layer)', async () => {
    const h = await openPdf(fixture('pdf/TAMReview.pdf'));
    const truth = (await readTextLayer(h, 1)).text;
    await closePdf(h);
    const byPdfjs = createEngine({ workers: 2, timeoutSeconds: 120, ocrEngine: 'tesseract', pdfRenderer: 'pdf.js' });
    try {
      const a = await run(engine, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '1', forceOcr: true });
      const b = await run(byPdfjs, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '1', forceOcr: true });
      assert.equal(a.pages[0].renderer, 'poppler');
      assert.equal(b.pages[0].renderer, 'pdf.js');
      assert.equal(b.engine.poppler, undefined);
      const [ca, cb] = [cer(a.text, truth), cer(b.text, truth)];
      process.stderr.write(`# TAMReview p1 CER: Poppler ${ca.toFixed(4)}, pdf.js ${cb.toFixed(4)}\n`);
      assert.ok(ca <= 0.03, `CER ${ca}`);
      assert.ok(ca <= cb + 0.01, `Poppler's pages read no worse: ${ca} against ${cb}`);
    } finally { await byPdfjs.close(); }
    const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
    const scan = await run(engine, imagePdf(img, 150), 'scan.pdf', { dpi: 300 });
    assert.equal(scan.pages[0].renderer, 'poppler');
    assert.ok(cer(scan.text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.03);
  });

  test('GIVEN a document opened with its password THEN pdf.js renders it (pdftoppm would need the password on its command line)', async () => {
    await withPdftoppmStandIn('exec pdftoppm "$@"', async (e, calls) => {
      const r = await run(e, fixture('pdf/saslprep-r6.pdf'), 'saslprep-r6.pdf', { password: expectations.pdf['saslprep-r6.pdf'].password, forceOcr: true });
      assert.equal(r.status, 'SUCCEEDED');
      assert.ok(r.pages.length > 0 && r.pages.every((p) => p.method === 'ocr' && p.renderer === 'pdf.js'), JSON.stringify(r.pages.map((p) => p.renderer)));
      assert.equal(calls(), '', 'pdftoppm never saw the document');
      const plain = await run(e, fixture('pdf/two_paragraphs.pdf'), 'two_paragraphs.pdf', { forceOcr: true });
      assert.equal(plain.pages[0].renderer, 'poppler');
      assert.match(calls(), /-f 1 -l 1/, 'the stand-in passes other documents to pdftoppm');
    });
  });

  test('GIVEN pdftoppm failing on every page THEN pdf.js draws them and the pages are read all the same', async () => {
    // fails every page as pdftoppm does on a PDF it cannot read
    await withPdftoppmStandIn('exit 99', async (e, calls) => {
      const r = await run(e, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '2' });
      assert.equal(r.status, 'SUCCEEDED');
      assert.equal(r.pages[0].renderer, 'pdf.js');
      assert.match(r.pages[0].text, /Technology Acceptance Model/);
      assert.match(calls(), /-f 2 -l 2/, 'pdftoppm was asked for page 2 first');
    });
  });

  test('GIVEN no pdftoppm THEN the engine fails at start with a message naming the package and the way out', async () => {
    await withEnv({ OCR_PDFTOPPM_COMMAND: '/nonexistent/pdftoppm' }, async () => {
      const broken = createEngine({ workers: 1, ocrEngine: 'tesseract', warmTimeoutSeconds: 30 });
      try {
        await assert.rejects(broken.warm(), /poppler-utils.*OCR_PDF_RENDERER=pdf\.js/);
      } finally { await broken.close(); }
      // tesseract.js renders with pdf.js unless told otherwise: no pdftoppm needed
      const js = createEngine({ workers: 1, warmTimeoutSeconds: 60 });
      try { await js.warm(); } finally { await js.close(); }
    });
  });

  test('GIVEN a page that keeps pdftoppm busy past the time limit THEN it is killed with the document and leaves no file behind', async () => {
    const othersGroups = new Set(pdftoppmProcesses().map((p) => p.group));
    const before = new Set(readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-')));
    const short = createEngine({ workers: 1, timeoutSeconds: 2, ocrEngine: 'tesseract' });
    try {
      await short.warm();
      const scratch = readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-') && !before.has(f)).map((f) => join(tmpdir(), f));
      assert.equal(scratch.length, 1);
      let seen: Array<{ pid: number; group: string }> = [];
      let documentFile = false;
      const watch = setInterval(() => {
        const now = pdftoppmProcesses().filter((p) => !othersGroups.has(p.group));
        if (now.length) seen = now;
        if (existsSync(scratch[0]) && readdirSync(scratch[0]).some((f) => /^document-.*\.pdf$/.test(f))) documentFile = true;
      }, 20);
      const r = await run(short, slowToDrawPdf(3000), 'slow-to-draw.pdf');
      clearInterval(watch);
      assert.equal(r.error?.code, 'TIMEOUT');
      assert.ok(seen.length > 0, 'pdftoppm was drawing when the limit struck');
      assert.ok(documentFile, 'the document was written to the child\'s scratch folder for pdftoppm');
      await new Promise((res) => setTimeout(res, 300));
      const groups = new Set(seen.map((p) => p.group));
      assert.deepEqual(pdftoppmProcesses().filter((p) => groups.has(p.group)), [], 'pdftoppm was killed with the child');
      assert.equal(existsSync(scratch[0]), false, 'the scratch folder, with the document in it, went with the child');
      // the next document, in the suite's engine: its file is removed once it is done
      const next = await run(engine, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '2', forceOcr: true });
      assert.equal(next.pages[0].renderer, 'poppler');
      const left = readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-'))
        .flatMap((f) => readdirSync(join(tmpdir(), f)).filter((x) => x.startsWith('document-')));
      assert.deepEqual(left, [], 'no document file is left once the document is done');
    } finally { await short.close(); }
  });
});

describe('configuration', () => {
  test('the renderer follows the backend unless named, and a bad name is refused with its source named', () => {
    assert.equal(parsePdfRenderer(undefined, 'OCR_PDF_RENDERER', 'tesseract'), 'poppler');
    assert.equal(parsePdfRenderer('', 'OCR_PDF_RENDERER', 'tesseract.js'), 'pdf.js');
    assert.equal(parsePdfRenderer('pdf.js', 'OCR_PDF_RENDERER', 'tesseract'), 'pdf.js');
    assert.equal(parsePdfRenderer('poppler', 'OCR_PDF_RENDERER', 'tesseract.js'), 'poppler');
    assert.throws(() => parsePdfRenderer('mupdf', '--pdf-renderer', 'tesseract'), /--pdf-renderer must be one of 'pdf.js', 'poppler', got 'mupdf'/);
    assert.throws(() => createEngine({ pdfRenderer: 'ghostscript' as never }), /pdfRenderer must be one of/);
    const batchEnv = { OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', OCR_JOB_ID: 'j', OCR_INPUT_KEY: 'a.pdf' };
    assert.equal(parseConfig({ ...batchEnv, OCR_ENGINE: 'tesseract' }).pdfRenderer, 'poppler');
    assert.equal(parseConfig(batchEnv).pdfRenderer, 'pdf.js');
    assert.throws(() => parseConfig({ ...batchEnv, OCR_PDF_RENDERER: 'mupdf' }), (err: Error) => err instanceof ConfigError && /OCR_PDF_RENDERER/.test(err.message));
    assert.equal(parseServiceConfig({ OCR_STORAGE: 'local', OCR_ENGINE: 'tesseract' }).pdfRenderer, 'poppler');
    assert.throws(() => parseServiceConfig({ OCR_STORAGE: 'local', OCR_PDF_RENDERER: 'mupdf' }), (err: Error) => err instanceof ServiceConfigError && /OCR_PDF_RENDERER/.test(err.message));
  });
});
