/**
 * The optional native OCR backend (OCR_ENGINE=tesseract): the Debian `tesseract` command, one warm
 * process per pool slot, one thread each. Same model files as tesseract.js (the @tesseract.js-data
 * LSTM integer models, decompressed once into TMPDIR), same page segmentation (PSM 3) and LSTM engine;
 * native Tesseract runs its int8 LSTM on the CPU's widest SIMD (AVX2/AVX-512, NEON) where tesseract.js
 * is held to WebAssembly's 128 bits: about 1.2-1.4x faster per page (bench/RESULTS.md).
 *
 * The processes are children of the engine's child process and belong to its process group, so the
 * engine counts their memory against the document's limit and kills them with it on overrun.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { OcrError } from './errors.ts';
import { wordsFromTsv, type PixelWord } from './geometry.ts';
import { tiffHeader, toTIFF, type GreyImage } from './image.ts';
import { scratchRoot } from './paths.ts';
import { COMMON_ENV, PROGRAM_ENV } from './contract.ts';

/** The command the native backend runs; a Debian `tesseract-ocr` install puts it on PATH. */
export const NATIVE_TESSERACT_COMMAND = process.env[COMMON_ENV.TESSERACT_COMMAND] || 'tesseract';

let cachedVersion: string | null = null;

/** "5.3.0" from `tesseract --version`; a clear error when the command is missing. */
export function nativeTesseractVersion(): string {
  if (cachedVersion) return cachedVersion;
  let out: string;
  try {
    out = execFileSync(NATIVE_TESSERACT_COMMAND, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  } catch (err) {
    throw new OcrError('INTERNAL_ERROR', `OCR engine 'tesseract' needs the ${NATIVE_TESSERACT_COMMAND} command (Debian package tesseract-ocr), `
      + `which could not be run: ${(err as Error).message.split('\n')[0]}. Use OCR engine 'tesseract.js' or install it.`);
  }
  const m = /tesseract\s+v?(\d+\.\d+[^\s]*)/i.exec(out);
  if (!m) throw new OcrError('INTERNAL_ERROR', `Unexpected output of ${NATIVE_TESSERACT_COMMAND} --version: ${out.slice(0, 200)}`);
  cachedVersion = m[1];
  return cachedVersion;
}

/**
 * A tessdata folder in TMPDIR holding <lang>.traineddata for every language, decompressed from the
 * same .traineddata.gz files in `languageDir` that tesseract.js loads (native Tesseract reads no gzip;
 * OcrPool has checked that they are there). The folder is named
 * after the source files (path, size, modification time), so new language data never meets a stale
 * copy; files are written under a temporary name and renamed, so concurrent children never read a
 * partial one.
 */
export function prepareTessdata(languages: string[], languageDir: string): string {
  const sources = languages.map((lang) => ({ lang, source: join(languageDir, `${lang}.traineddata.gz`) }));
  const stamp = createHash('sha256').update(sources.map(({ source }) => {
    const st = statSync(source);
    return `${source}:${st.size}:${st.mtimeMs}`;
  }).join('|')).digest('hex').slice(0, 16);
  const dir = join(os.tmpdir(), `ocr-tessdata-${process.getuid?.() ?? 'user'}`, stamp);
  mkdirSync(dir, { recursive: true });
  for (const { lang, source } of sources) {
    const target = join(dir, `${lang}.traineddata`);
    if (existsSync(target)) continue;
    const partial = `${target}.${process.pid}.partial`;
    writeFileSync(partial, gunzipSync(readFileSync(source)));
    renameSync(partial, target);
  }
  return dir;
}

/**
 * Text and mean word confidence (0..100) from Tesseract's TSV output: the one output the backend asks
 * for (a second, `txt`, would cost about 3 % more tesseract CPU per page, measured). The text is laid
 * out as Tesseract's own `txt` output: words of a line joined by spaces, lines by a newline,
 * paragraphs and blocks by a blank line, a newline at the end; rows with blank text (Tesseract's
 * placeholders for image regions) are skipped, as `txt` skips them (tested against `txt` on the
 * corpus pages). The confidence is the mean over those words, as tesseract.js' MeanTextConf gives it.
 */
export function readTsv(tsv: string): { text: string; confidence: number } {
  let text = '';
  let previous: string[] | null = null;
  let sum = 0;
  let n = 0;
  for (const line of tsv.split('\n')) {
    const f = line.split('\t');
    // level 5 = word: page, block, paragraph, line, word numbers; left, top, width, height; conf; text
    if (f.length < 12 || f[0] !== '5') continue;
    const word = f.slice(11).join('\t');
    if (word.trim() === '') continue;
    const place = [f[2], f[3], f[4]]; // block, paragraph, line
    if (previous) {
      if (place[0] !== previous[0] || place[1] !== previous[1]) text += '\n\n';
      else if (place[2] !== previous[2]) text += '\n';
      else text += ' ';
    }
    text += word;
    previous = place;
    const conf = Number(f[10]);
    if (Number.isFinite(conf) && conf >= 0) { sum += conf; n++; }
  }
  return { text: previous ? text + '\n' : '', confidence: n === 0 ? 0 : Math.round(sum / n) };
}

/** What one recognition gives: the text, its mean word confidence and the words with their pixel boxes. */
export interface Recognition { text: string; confidence: number; words: PixelWord[] }

/** Text, confidence (readTsv) and words (wordsFromTsv) of one page's TSV. */
export function readRecognition(tsv: string): Recognition {
  return { ...readTsv(tsv), words: wordsFromTsv(tsv) };
}

/** Writes a whole buffer (writeSync may write less than asked; it does not loop as writeFileSync does). */
function writeAll(fd: number, part: Uint8Array): void {
  for (let off = 0; off < part.byteLength;) off += writeSync(fd, part, off);
}

/**
 * Pages one tesseract process reads before a fresh one replaces it. Tesseract frees each page's data
 * when it is done with it (measured: a process holds 32 MiB before its first page, 86 MiB after 8
 * corpus pages at 300 dpi, 90 MiB after 40), so this only bounds whatever a long run might still
 * accumulate; a new process costs one model load (about 0.1 s of CPU), 0.05 % of 200 pages' OCR.
 */
export const PAGES_PER_PROCESS = 200;

/**
 * One warm `tesseract` process: Tesseract's `stream_filelist` mode reads the names of image files on
 * its stdin, one per line, and recognises each as it arrives, so the model is loaded once per process
 * instead of once per page (about 0.1 s of CPU per page, 3-4 % of an A4 page's OCR: measured with
 * `tesseract` on a 32 x 32 page). Its output is TSV on stdout, each row carrying its page's number in
 * this stream (page_num). A page's rows end when the next page's begin, so every page is followed by
 * an end-of-page marker: a 1 x 1 white image, which costs about a millisecond and whose first row says
 * that the page before it is complete. One page at a time: the pool gives a process one page, then waits.
 */
export class TesseractProcess {
  private proc: ChildProcess | null = null;
  /** Files given to the current process, markers included: the page_num of the last one. */
  private given = 0;
  private waiting: { page: number; marker: number; rows: string[]; resolve: (r: Recognition) => void; reject: (e: Error) => void } | null = null;
  private partialLine = '';
  private stderrTail = '';

  private readonly args: string[];
  private readonly endOfPageFile: string;
  private readonly pagesPerProcess: number;

  constructor(args: string[], endOfPageFile: string, pagesPerProcess = PAGES_PER_PROCESS) {
    this.args = args;
    this.endOfPageFile = endOfPageFile;
    this.pagesPerProcess = pagesPerProcess;
  }

  /** The running process' id (undefined between processes). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Starts the process (its model loads while the engine renders the first page). */
  start(): void {
    if (this.proc) return;
    // OMP_THREAD_LIMIT=1: the pool runs one process per CPU; Tesseract's OpenMP would use them all
    const p = spawn(NATIVE_TESSERACT_COMMAND, this.args, { env: { ...process.env, [PROGRAM_ENV.OMP_THREAD_LIMIT]: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc = p;
    this.given = 0;
    this.partialLine = '';
    this.stderrTail = '';
    p.stdout!.setEncoding('utf8');
    // output a stopped process had still buffered must not reach its successor's page
    p.stdout!.on('data', (chunk: string) => { if (this.proc === p) this.onOutput(chunk); });
    p.stderr!.on('data', (d: Buffer) => { if (this.proc === p) this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-2000); });
    // writing to a process that has just exited fails with EPIPE: its 'close' below reports why
    p.stdin!.on('error', () => undefined);
    p.on('error', (err) => this.ended(p, `tesseract could not be started: ${err.message}`));
    p.on('close', (code, signal) => this.ended(p, `tesseract exited (code ${code}, signal ${signal}): ${this.stderrTail.trim().split('\n').slice(-3).join(' ')}`));
  }

  /** Text, confidence and words of the page in `file` (a TIFF: its resolution is the page's DPI). */
  recognize(file: string): Promise<Recognition> {
    if (this.waiting) return Promise.reject(new OcrError('INTERNAL_ERROR', 'a tesseract process was given a second page at once'));
    if (this.proc && this.given >= 2 * this.pagesPerProcess) this.stop();
    this.start();
    const page = ++this.given;
    const marker = ++this.given;
    return new Promise((resolve, reject) => {
      this.waiting = { page, marker, rows: [], resolve, reject };
      this.proc!.stdin!.write(`${file}\n${this.endOfPageFile}\n`);
    });
  }

  private onOutput(chunk: string): void {
    const lines = (this.partialLine + chunk).split('\n');
    this.partialLine = lines.pop()!;
    const w = this.waiting;
    if (!w) return; // a marker's own rows
    for (const line of lines) {
      // level, page_num, block, paragraph, line, word, left, top, width, height, conf, text
      const tab = line.indexOf('\t');
      const pageNum = Number(line.slice(tab + 1, line.indexOf('\t', tab + 1)));
      if (pageNum === w.page) w.rows.push(line);
      else if (pageNum === w.marker) {
        this.waiting = null;
        w.resolve(readRecognition(w.rows.join('\n')));
        return; // what follows in this chunk is the marker's own output
      }
    }
  }

  /** The process `p` has ended: a page it was reading fails; the next page starts a new process. */
  private ended(p: ChildProcess, message: string): void {
    if (this.proc !== p) return;
    this.proc = null;
    const w = this.waiting;
    this.waiting = null;
    w?.reject(new OcrError('OCR_FAILED', message));
  }

  /** Kills the process (a page it was reading fails). */
  stop(): void {
    const p = this.proc;
    if (!p) return;
    p.kill('SIGKILL');
    this.ended(p, 'tesseract was stopped');
  }
}

/**
 * The native backend: the pool asks it for one warm TesseractProcess per slot, and for each page
 * writes the page file those processes read.
 */
export class NativeTesseract {
  readonly version: string;
  private readonly args: string[];
  private readonly scratch: string;
  private readonly endOfPageFile: string;
  private readonly processes: TesseractProcess[] = [];
  private readonly pagesPerProcess: number;
  private files = 0;

  constructor(languages: string[], languageDir: string, pagesPerProcess = PAGES_PER_PROCESS) {
    this.pagesPerProcess = pagesPerProcess;
    this.version = nativeTesseractVersion();
    const tessdata = prepareTessdata(languages, languageDir);
    this.scratch = mkdtempSync(join(scratchRoot(), 'ocr-pages-'));
    this.endOfPageFile = join(this.scratch, 'end-of-page.tif');
    writeFileSync(this.endOfPageFile, toTIFF({ width: 1, height: 1, data: new Uint8Array([255]) }, 300));
    // no --dpi: each page file carries its own resolution; the TSV alone (text, confidences and word
    // boxes, see readRecognition)
    this.args = ['-', 'stdout', '--tessdata-dir', tessdata, '-l', languages.join('+'), '--psm', '3', '--oem', '1',
      '-c', 'stream_filelist=true', '-c', 'tessedit_create_txt=0', '-c', 'tessedit_create_tsv=1'];
  }

  /** A warm process for one pool slot, started now so that its model is loaded before the first page. */
  process(): TesseractProcess {
    const p = new TesseractProcess(this.args, this.endOfPageFile, this.pagesPerProcess);
    p.start();
    this.processes.push(p);
    return p;
  }

  /** OCR of one greyscale page on `proc`: page segmentation 3, LSTM only, one thread. */
  async recognize(proc: TesseractProcess, img: GreyImage, dpi: number | undefined): Promise<Recognition> {
    // a file, not a pipe: tesseract reads images from stdin a character at a time (measured: 6-10 %
    // more time per A4 page); header and pixels written as they are, not concatenated into one more copy
    const file = join(this.scratch, `page-${this.files++}.tif`);
    const fd = openSync(file, 'w');
    try {
      writeAll(fd, tiffHeader(img, dpi));
      writeAll(fd, img.data);
    } finally {
      closeSync(fd);
    }
    try {
      return await proc.recognize(file);
    } finally {
      rmSync(file, { force: true });
    }
  }

  /** Stops every process and removes the page files (pool closed, or the child exiting: synchronous). */
  killAll(): void {
    for (const p of this.processes) p.stop();
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
