/**
 * The native backend (ocrEngine 'tesseract'): Debian's tesseract command, one warm process per worker.
 * Needs the tesseract-ocr package (README: Debian packages the tests use; .ci/run installs it).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createEngine, type Engine, type OcrResult } from '../src/index.ts';
import { groupRssReader } from '../src/engine.ts';
import { cer } from '../src/cer.ts';
import { decodeImageFrame, rotateGrey, type GreyImage } from '../src/image.ts';
import { NATIVE_TESSERACT_COMMAND, NativeTesseract, prepareTessdata, readRecognition, readTsv } from '../src/native-tesseract.ts';
import { closePdf, openPdf, renderPage } from '../src/pdf.ts';
import { languageDataDir } from '../src/paths.ts';
import { parseOcrEngine } from '../src/options.ts';
import { processes, readRss } from '../src/proc.ts';
import { assertValid, fixture } from './helpers/common.ts';
import { pgm } from '../tools/generate.ts';
import { multiPageTiff } from '../tools/tiff.ts';

let engine: Engine;

async function run(e: Engine, bytes: Uint8Array, name: string, options = {}): Promise<OcrResult> {
  const r = await e.process(bytes, { name, options });
  assertValid(r);
  return r;
}

/**
 * Every live tesseract process: pid, state and process group (a zombie, state Z, has been killed:
 * only its exit status is left).
 */
function tesseractProcesses(): Array<{ pid: number; state: string; group: string }> {
  return processes().filter((p) => p.name === 'tesseract' && p.fields[0] !== 'Z').map((p) => ({ pid: p.pid, state: p.fields[0], group: p.fields[2] }));
}

/**
 * Pages of the corpus as the engine gives them to OCR, with their DPI: a scan (its own 300 dpi),
 * PDF pages rendered at 300 and at 150 dpi (a text-heavy page, a figure page, a form), and a scan
 * given with no DPI (tesseract estimates it from the text).
 */
async function corpusPages(): Promise<Array<{ image: GreyImage; dpi: number | undefined }>> {
  const pages: Array<{ image: GreyImage; dpi: number | undefined }> = [{ image: await decodeImageFrame(fixture('ocr/eurotext.tif'), 'image/tiff', 0, 1e9), dpi: 300 }];
  for (const [file, n, dpi] of [['TAMReview.pdf', 5, 300], ['160F-2019.pdf', 1, 300], ['TAMReview.pdf', 1, 150]] as const) {
    const pdf = await openPdf(fixture(`pdf/${file}`));
    pages.push({ image: (await renderPage(pdf, n, dpi, 1e9)).image, dpi });
    await closePdf(pdf);
  }
  pages.push({ image: await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9), dpi: undefined });
  return pages;
}

/** The scratch folders the engine made for its children (page files of the native backend). */
function childScratchFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-')).map((f) => join(tmpdir(), f));
}

/** The image repeated nx times across and ny times down: a page with that many times the text. */
function tile(img: GreyImage, nx: number, ny: number): GreyImage {
  const width = img.width * nx;
  const data = new Uint8Array(width * img.height * ny);
  for (let y = 0; y < img.height * ny; y++) {
    const row = img.data.subarray((y % img.height) * img.width, (y % img.height + 1) * img.width);
    for (let x = 0; x < nx; x++) data.set(row, y * width + x * img.width);
  }
  return { width, height: img.height * ny, data };
}

before(async () => {
  engine = createEngine({ workers: 2, timeoutSeconds: 120, ocrEngine: 'tesseract' });
  await engine.warm();
});
after(async () => { await engine.close(); });

describe('scanned pages with native Tesseract', () => {
  for (const [name, bound] of [['phototest', 0.02], ['eurotext', 0.03]] as const) {
    test(`${name}.tif: CER <= ${bound}, the result names the backend and its version`, async () => {
      const r = await run(engine, fixture(`ocr/${name}.tif`), `${name}.tif`);
      assert.equal(r.status, 'SUCCEEDED');
      assert.equal(r.pages[0].method, 'ocr');
      assert.equal(r.engine.ocr, 'tesseract');
      assert.match(r.engine.tesseract ?? '', /^\d+\.\d+/);
      assert.equal(r.engine.tesseractJs, undefined);
      assert.ok(!r.text.includes('\f'), 'no page separator from the tesseract command');
      const c = cer(r.text, fixture(`ocr/${name}.txt`).toString('utf8'));
      process.stderr.write(`# native CER ${name} = ${c.toFixed(4)}, confidence ${r.pages[0].confidence}\n`);
      assert.ok(c <= bound, `CER ${c}`);
      assert.ok((r.pages[0].confidence ?? 0) >= 80, `confidence ${r.pages[0].confidence}`);
    });
  }

  test('same model as tesseract.js: both backends read eurotext.tif to nearly the same text', async () => {
    const js = createEngine({ workers: 1, timeoutSeconds: 120 });
    try {
      const a = await run(js, fixture('ocr/eurotext.tif'), 'eurotext.tif');
      const b = await run(engine, fixture('ocr/eurotext.tif'), 'eurotext.tif');
      assert.equal(a.engine.ocr, 'tesseract.js');
      const between = cer(b.text, a.text);
      process.stderr.write(`# CER native vs tesseract.js on eurotext = ${between.toFixed(4)}\n`);
      assert.ok(between <= 0.01, `the backends differ by CER ${between}`);
    } finally { await js.close(); }
  });

  test('auto-orientation works with the native backend (phototest upside down)', async () => {
    const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
    const r = await run(engine, pgm(rotateGrey(img, 180)), 'phototest-180.pgm');
    assert.equal(r.pages[0].rotation, 180);
    assert.ok(cer(r.text, fixture('ocr/phototest.txt').toString('utf8')) <= 0.03);
  });

  test('TAMReview.pdf: the garbage text layer of page 2 goes to native OCR, page 1 keeps its text layer', async () => {
    const r = await run(engine, fixture('pdf/TAMReview.pdf'), 'TAMReview.pdf', { pages: '1-2' });
    assert.deepEqual(r.pages.map((p) => p.method), ['text-layer', 'ocr']);
    assert.match(r.pages[1].text, /Technology Acceptance Model/);
  });
});

describe('bounds with native Tesseract processes', () => {
  test('GIVEN a document over its time limit while tesseract runs WHEN it is stopped THEN no tesseract process outlives it, nor its page files', async () => {
    const othersGroups = new Set(tesseractProcesses().map((p) => p.group)); // the suite's engine's processes
    const othersScratch = new Set(childScratchFolders());
    const short = createEngine({ workers: 2, timeoutSeconds: 2, ocrEngine: 'tesseract' });
    try {
      await short.warm();
      const warm = tesseractProcesses().filter((p) => !othersGroups.has(p.group));
      assert.equal(warm.length, 2, 'one warm tesseract process per worker, started before the first page');
      const scratch = childScratchFolders().filter((f) => !othersScratch.has(f));
      assert.equal(scratch.length, 1, 'the child has a scratch folder of its own');
      // two pages of 2 x 2 eurotext scans (about four seconds of OCR each): when the 2 s limit strikes,
      // both tesseract processes have seconds of work left, so a process that escaped the kill would
      // still be running (not a zombie) when it is looked for
      const scan = await decodeImageFrame(fixture('ocr/eurotext.tif'), 'image/tiff', 0, 1e9);
      const page = tile(scan, 2, 2);
      const killedGroups = new Set(warm.map((p) => p.group));
      let recognising = 0;
      const watch = setInterval(() => {
        recognising = Math.max(recognising, tesseractProcesses().filter((p) => killedGroups.has(p.group) && p.state === 'R').length);
      }, 20);
      const r = await run(short, multiPageTiff([page, page]), 'two-large-pages.tif');
      clearInterval(watch);
      assert.equal(r.error?.code, 'TIMEOUT');
      assert.ok(recognising > 0, 'tesseract was recognising when the limit struck');
      // SIGKILL to the process group is delivered at once; give the kernel a moment. Only the killed
      // group is looked at: the replacement child leads a new group with warm processes of its own.
      await new Promise((res) => setTimeout(res, 300));
      const survivors = tesseractProcesses().filter((p) => killedGroups.has(p.group));
      assert.deepEqual(survivors, [], 'tesseract processes were killed with the child');
      // the killed child could not remove the page files it was reading: its parent removed the folder
      assert.equal(existsSync(scratch[0]), false, `${scratch[0]} was removed with the child`);
      const next = await run(short, fixture('pdf/two_paragraphs.pdf'), 'two_paragraphs.pdf');
      assert.equal(next.status, 'SUCCEEDED');
    } finally { await short.close(); }
  });

  test('GIVEN a process group WHEN its memory is read THEN the members count, not only the leader', async () => {
    // a small shell leading its own group, and a node process in it holding 200 MiB
    const hold = 'const b = Buffer.alloc(200 * 1048576, 1); process.stdout.write("ready\\n"); setTimeout(() => b, 60000);';
    const leader = spawn('sh', ['-c', `"${process.execPath}" -e '${hold}' & wait`], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise<void>((res) => leader.stdout!.once('data', () => res()));
      const own = readRss(leader.pid!);
      const group = groupRssReader(leader.pid!)();
      assert.ok(own < 50 * 1048576, `the shell alone holds ${own} bytes`);
      assert.ok(group >= 200 * 1048576, `the group holds ${group} bytes`);
    } finally { process.kill(-leader.pid!, 'SIGKILL'); }
  });
});

describe('configuration', () => {
  test('a missing tesseract command fails at start with a message naming the package', async () => {
    const before = process.env.OCR_TESSERACT_COMMAND;
    process.env.OCR_TESSERACT_COMMAND = '/nonexistent/tesseract';
    const broken = createEngine({ workers: 1, ocrEngine: 'tesseract', warmTimeoutSeconds: 30 });
    try {
      await assert.rejects(broken.warm(), /tesseract-ocr/);
    } finally {
      if (before === undefined) delete process.env.OCR_TESSERACT_COMMAND; else process.env.OCR_TESSERACT_COMMAND = before;
      await broken.close();
    }
  });

  test('engine names are validated with the source named', () => {
    assert.equal(parseOcrEngine(undefined, 'OCR_ENGINE'), 'tesseract.js');
    assert.equal(parseOcrEngine('tesseract', 'OCR_ENGINE'), 'tesseract');
    assert.throws(() => parseOcrEngine('tesseract-native', 'OCR_ENGINE'), /OCR_ENGINE must be one of 'tesseract.js', 'tesseract', got 'tesseract-native'/);
    assert.throws(() => createEngine({ ocrEngine: 'ocrad' as never }), /ocrEngine must be one of/);
  });

  test('language data is decompressed once per version of the source files, never reused stale', () => {
    const langDir = mkdtempSync(join(tmpdir(), 'ocr-langs-'));
    try {
      const gz = join(langDir, 'xyz.traineddata.gz');
      writeFileSync(gz, gzipSync(Buffer.from('model version 1')));
      const first = prepareTessdata(['xyz'], langDir);
      assert.equal(readFileSync(join(first, 'xyz.traineddata'), 'utf8'), 'model version 1');
      assert.equal(prepareTessdata(['xyz'], langDir), first, 'the same source gives the same folder');
      writeFileSync(gz, gzipSync(Buffer.from('model version 2, longer')));
      utimesSync(gz, new Date(), new Date(statSync(gz).mtimeMs + 5000));
      const second = prepareTessdata(['xyz'], langDir);
      assert.notEqual(second, first);
      assert.equal(readFileSync(join(second, 'xyz.traineddata'), 'utf8'), 'model version 2, longer');
      rmSync(first, { recursive: true, force: true });
      rmSync(second, { recursive: true, force: true });
    } finally {
      rmSync(langDir, { recursive: true, force: true });
    }
  });

  test('TSV: confidence is the mean of the word confidences; text is laid out by line, paragraph and block', () => {
    const header = 'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
    const word = (block: number, par: number, line: number, conf: number, text: string): string => `5\t1\t${block}\t${par}\t${line}\t1\t0\t0\t10\t10\t${conf}\t${text}`;
    const tsv = [
      header,
      '1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t',
      word(1, 1, 1, 90.5, 'Hello'), word(1, 1, 1, 79.5, 'world'), word(1, 1, 2, 85, 'again'),
      word(1, 2, 1, 85, 'Second'), word(1, 2, 1, 85, 'paragraph'),
      word(2, 1, 1, 95, ' '), // an image region's placeholder: no text, no confidence
      word(3, 1, 1, 85, 'Block'),
    ].join('\n');
    assert.deepEqual(readTsv(tsv), { text: 'Hello world\nagain\n\nSecond paragraph\n\nBlock\n', confidence: 85 });
    assert.deepEqual(readTsv(''), { text: '', confidence: 0 });
    assert.deepEqual(readTsv(header), { text: '', confidence: 0 });
  });

  test('TSV: the text equals tesseract\'s own txt output on corpus pages (scans, a figure page, a form)', async () => {
    const tessdata = prepareTessdata(['eng'], languageDataDir('eng'));
    const work = mkdtempSync(join(tmpdir(), 'tsv-vs-txt-'));
    try {
      const pages = (await corpusPages()).filter((p) => p.dpi === 300).map((p) => p.image);
      for (const [i, page] of pages.entries()) {
        writeFileSync(join(work, `${i}.pgm`), pgm(page));
        execFileSync(NATIVE_TESSERACT_COMMAND, [join(work, `${i}.pgm`), join(work, String(i)), '--tessdata-dir', tessdata, '--psm', '3', '--oem', '1', '--dpi', '300',
          '-c', 'tessedit_create_txt=1', '-c', 'tessedit_create_tsv=1', '-c', 'page_separator='], { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, stdio: 'ignore' });
        const txt = readFileSync(join(work, `${i}.txt`), 'utf8');
        const fromTsv = readTsv(readFileSync(join(work, `${i}.tsv`), 'utf8')).text;
        assert.ok(txt.length > 300, `page ${i} has text`);
        // txt may end with one more newline, after a trailing image region
        assert.equal(fromTsv.trimEnd(), txt.trimEnd(), `page ${i}`);
      }
    } finally { rmSync(work, { recursive: true, force: true }); }
  });

});

describe('warm tesseract processes', () => {
  test('a warm process reads every page as a fresh `tesseract --dpi` process does, whatever the page\'s DPI', async () => {
    const tessdata = prepareTessdata(['eng'], languageDataDir('eng'));
    const native = new NativeTesseract(['eng'], languageDataDir('eng'));
    const work = mkdtempSync(join(tmpdir(), 'warm-vs-fresh-'));
    try {
      const proc = native.process();
      const pid = proc.pid;
      for (const [i, { image, dpi }] of (await corpusPages()).entries()) {
        writeFileSync(join(work, `${i}.pgm`), pgm(image));
        const fresh = readRecognition(execFileSync(NATIVE_TESSERACT_COMMAND, [join(work, `${i}.pgm`), 'stdout', '--tessdata-dir', tessdata, '--psm', '3', '--oem', '1',
          ...(dpi ? ['--dpi', String(dpi)] : []), '-c', 'tessedit_create_txt=0', '-c', 'tessedit_create_tsv=1'],
        { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
        assert.ok(fresh.text.length > 100, `page ${i} has text`);
        // text, confidence and every word's box
        assert.deepEqual(await native.recognize(proc, image, dpi), fresh, `page ${i} at ${dpi ?? 'no'} dpi`);
      }
      assert.equal(proc.pid, pid, 'one process read every page');
    } finally {
      native.killAll();
      rmSync(work, { recursive: true, force: true });
    }
  });

  test('GIVEN a process that dies during a page THEN that page fails, the next one starts a new process; a process is replaced after its quota of pages', async () => {
    const scratchRoot = mkdtempSync(join(tmpdir(), 'warm-scratch-'));
    const before = process.env.OCR_SCRATCH_DIR;
    process.env.OCR_SCRATCH_DIR = scratchRoot;
    const native = new NativeTesseract(['eng'], languageDataDir('eng'), 2);
    try {
      const scan = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
      const proc = native.process();
      const first = proc.pid!;
      assert.match((await native.recognize(proc, scan, 300)).text, /quick brown dog/);
      // a page of 3 x 3 scans takes seconds: kill the process while it reads it
      const long = native.recognize(proc, tile(scan, 3, 3), 300);
      setTimeout(() => process.kill(first, 'SIGKILL'), 300);
      await assert.rejects(long, (err: Error & { code?: string }) => err.code === 'OCR_FAILED' && /signal SIGKILL/.test(err.message));
      assert.match((await native.recognize(proc, scan, 300)).text, /quick brown dog/);
      const second = proc.pid!;
      assert.notEqual(second, first, 'a new process took over');
      assert.match((await native.recognize(proc, scan, 300)).text, /quick brown dog/);
      assert.equal(proc.pid, second, 'two pages per process here');
      assert.match((await native.recognize(proc, scan, 300)).text, /quick brown dog/);
      assert.notEqual(proc.pid, second, 'replaced after two pages');
      const pages = readdirSync(scratchRoot);
      assert.equal(pages.length, 1, 'one folder of page files');
      assert.deepEqual(readdirSync(join(scratchRoot, pages[0])), ['end-of-page.tif'], 'page files are removed once read');
    } finally {
      native.killAll();
      if (before === undefined) delete process.env.OCR_SCRATCH_DIR; else process.env.OCR_SCRATCH_DIR = before;
    }
    assert.deepEqual(readdirSync(scratchRoot), [], 'killAll removes the page files folder');
    rmSync(scratchRoot, { recursive: true, force: true });
  });
});
