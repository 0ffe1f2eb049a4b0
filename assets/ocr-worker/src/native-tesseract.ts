/**
 * The optional native OCR backend (OCR_ENGINE=tesseract): the Debian `tesseract` command, one process
 * per page, one thread each. Same model files as tesseract.js (the @tesseract.js-data LSTM integer
 * models, decompressed once into TMPDIR), same page segmentation (PSM 3) and LSTM engine; native
 * Tesseract runs its int8 LSTM on the CPU's widest SIMD (AVX2/AVX-512, NEON) where tesseract.js is
 * held to WebAssembly's 128 bits: about 1.2-1.4x faster per page (bench/RESULTS.md).
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
import { pgmHeader, type GreyImage } from './image.ts';

/** The command the native backend runs; a Debian `tesseract-ocr` install puts it on PATH. */
export const NATIVE_TESSERACT_COMMAND = process.env.OCR_TESSERACT_COMMAND || 'tesseract';

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

/** Runs one page at a time per call; the caller (OcrPool) bounds how many run at once. */
export class NativeTesseract {
  readonly version: string;
  private readonly languages: string;
  private readonly tessdata: string;
  private readonly running = new Set<ChildProcess>();

  constructor(languages: string[], languageDir: string) {
    this.version = nativeTesseractVersion();
    this.tessdata = prepareTessdata(languages, languageDir);
    this.languages = languages.join('+');
  }

  /** OCR of one greyscale page (written to a temporary PGM file), page segmentation 3, LSTM only, one thread. */
  recognize(img: GreyImage, dpi: number | undefined): Promise<{ text: string; confidence: number }> {
    const work = mkdtempSync(join(os.tmpdir(), 'ocr-page-'));
    const outBase = join(work, 'page');
    // a file, not stdin: tesseract reads stdin a character at a time (measured: 6-10% more time per
    // page for an A4 page at 300 dpi)
    const image = join(work, 'page.pgm');
    // header and pixels written as they are (not concatenated into one more copy of the page)
    const fd = openSync(image, 'w');
    try {
      for (const part of [pgmHeader(img), img.data]) {
        // writeSync may write less than asked (it does not loop as writeFileSync does)
        for (let off = 0; off < part.byteLength;) off += writeSync(fd, part, off);
      }
    } finally {
      closeSync(fd);
    }
    const args = [image, outBase, '--tessdata-dir', this.tessdata, '-l', this.languages, '--psm', '3', '--oem', '1',
      ...(dpi ? ['--dpi', String(Math.round(dpi))] : []),
      // the TSV alone: text and confidences (see readTsv)
      '-c', 'tessedit_create_txt=0', '-c', 'tessedit_create_tsv=1'];
    return new Promise<{ text: string; confidence: number }>((resolve, reject) => {
      // OMP_THREAD_LIMIT=1: the pool runs one process per CPU; Tesseract's OpenMP would use them all
      const p = spawn(NATIVE_TESSERACT_COMMAND, args, { env: { ...process.env, OMP_THREAD_LIMIT: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      this.running.add(p);
      let stderr = '';
      p.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-2000); });
      p.on('error', (err) => reject(new OcrError('OCR_FAILED', `tesseract could not be started: ${err.message}`)));
      p.on('close', (code, signal) => {
        this.running.delete(p);
        if (code !== 0) {
          reject(new OcrError('OCR_FAILED', `tesseract failed (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(-3).join(' ')}`));
          return;
        }
        try {
          resolve(readTsv(readFileSync(`${outBase}.tsv`, 'utf8')));
        } catch (err) {
          reject(new OcrError('OCR_FAILED', `tesseract wrote no result: ${(err as Error).message}`));
        }
      });
    }).finally(() => rmSync(work, { recursive: true, force: true }));
  }

  /** Stops every running page (pool closed, or the child exiting). */
  killAll(): void {
    for (const p of this.running) p.kill('SIGKILL');
    this.running.clear();
  }
}
