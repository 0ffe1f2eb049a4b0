/**
 * Local CLI: bin/ocr [--lang eng+deu] [--ocr-engine tesseract.js|tesseract] [--pdf-renderer pdf.js|poppler] [--dpi 300] [--max-pages N] [--pages 1-3,5] [--password X]
 *   [--timeout-seconds N] [--memory-mb N] [--workers N] FILE...
 * One JSON result per line on stdout; progress on stderr. Exit 0 if all SUCCEEDED, 1 if any FAILED,
 * 2 on usage error.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, extname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine, failedResult } from './engine.ts';
import { outputBytes } from './engine-result.ts';
import { OcrError, type ErrorInfo } from './errors.ts';
import { oneAhead } from './one-ahead.ts';
import { DEFAULTS, parseOcrEngine, parsePageRange, parsePdfRenderer, type OcrEngineName, type PdfRendererName } from './options.ts';
import { missingLanguageData } from './paths.ts';
import type { OcrResult } from './result.ts';
import { COMMON_ENV } from './contract.ts';

const USAGE = `Usage: ocr [--lang eng+deu] [--dpi 300] [--max-pages N] [--pages 1-3,5] [--password X]
           [--timeout-seconds N] [--memory-mb N] [--workers N] [--no-qr] [--no-geometry]
           [--searchable-pdf DIR] [--hocr DIR]
           [--ocr-engine tesseract.js|tesseract] [--pdf-renderer pdf.js|poppler] FILE...
--ocr-engine: tesseract.js (default; or OCR_ENGINE), tesseract = native Tesseract (Debian tesseract-ocr).
--pdf-renderer: what draws PDF pages for OCR (or OCR_PDF_RENDERER): pdf.js, or poppler = pdftoppm
  (Debian poppler-utils); default poppler with --ocr-engine tesseract, else pdf.js.
--searchable-pdf DIR: also write DIR/<FILE name without extension>.pdf, the document with an invisible
  text layer where its words are (a PDF: the original with the layer added on its OCR'd pages).
--hocr DIR: also write DIR/<FILE name without extension>.hocr, the words and lines as hOCR.
--no-geometry: leave each page's words and lines (with their boxes) out of the result: text only.
Prints one JSON result per document on stdout (JSON lines), progress on stderr.
Exit status: 0 all documents SUCCEEDED, 1 any FAILED, 2 usage error.`;

function usage(msg?: string): never {
  if (msg) process.stderr.write(`ocr: ${msg}\n`);
  process.stderr.write(USAGE + '\n');
  process.exit(2);
}

function posInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1) usage(`--${name} must be a positive integer, got '${v}'`);
  return Number(v);
}

function readError(file: string, err: NodeJS.ErrnoException): ErrorInfo {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return { code: 'INPUT_NOT_FOUND', message: `${file} does not exist.` };
  return { code: 'INPUT_UNREADABLE', message: `${file} cannot be read: ${err.message}` };
}

/**
 * Writes a document's searchable PDF or hOCR to DIR/<its name without extension>.pdf or .hocr; a file
 * that cannot be written is reported in the result's outputs (OUTPUT_FAILED), the result itself
 * printed as usual; an output that was not written is named on stderr with its error.
 */
async function writeOutput(result: OcrResult, format: 'pdf' | 'hocr', dir: string, file: string): Promise<void> {
  const bytes = outputBytes(result, format);
  const entry = result.outputs?.find((o) => o.format === format);
  if (bytes && entry) {
    const target = join(dir, `${basename(file, extname(file))}.${format}`);
    try {
      await writeFile(target, bytes);
      process.stderr.write(`  ${file}: ${format} ${target}\n`);
      return;
    } catch (err) {
      entry.error = { code: 'OUTPUT_FAILED', message: `${target} cannot be written: ${(err as Error).message}` };
      delete entry.bytes;
    }
  }
  // asked for and not written (an encrypted PDF, a document that could not be read): say so where
  // the user looks, not only in the JSON line
  if (entry?.error) process.stderr.write(`  ${file}: no ${format} written: ${entry.error.code}: ${entry.error.message}\n`);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        lang: { type: 'string' }, dpi: { type: 'string' }, 'max-pages': { type: 'string' }, pages: { type: 'string' },
        password: { type: 'string' }, 'timeout-seconds': { type: 'string' }, 'memory-mb': { type: 'string' },
        workers: { type: 'string' }, 'ocr-engine': { type: 'string' }, 'pdf-renderer': { type: 'string' }, 'no-qr': { type: 'boolean' }, 'no-geometry': { type: 'boolean' }, 'searchable-pdf': { type: 'string' }, hocr: { type: 'string' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    usage((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) { process.stdout.write(USAGE + '\n'); process.exit(0); }
  if (parsed.positionals.length === 0) usage('no FILE given');
  if (v.pages) { try { parsePageRange(v.pages); } catch (err) { usage((err as Error).message); } }
  if (v.lang !== undefined && !/^[A-Za-z_]+(\+[A-Za-z_]+)*$/.test(v.lang)) usage(`--lang must look like eng or eng+deu, got '${v.lang}'`);
  const noData = missingLanguageData(v.lang ?? DEFAULTS.languages);
  if (noData) usage(noData);
  let ocrEngine: OcrEngineName;
  let pdfRenderer: PdfRendererName;
  try {
    ocrEngine = v['ocr-engine'] !== undefined ? parseOcrEngine(v['ocr-engine'], '--ocr-engine') : parseOcrEngine(process.env[COMMON_ENV.OCR_ENGINE], COMMON_ENV.OCR_ENGINE);
    pdfRenderer = v['pdf-renderer'] !== undefined ? parsePdfRenderer(v['pdf-renderer'], '--pdf-renderer', ocrEngine)
      : parsePdfRenderer(process.env[COMMON_ENV.PDF_RENDERER], COMMON_ENV.PDF_RENDERER, ocrEngine);
  } catch (err) {
    usage((err as Error).message);
  }
  const dpi = posInt('dpi', v.dpi);
  if (dpi !== undefined && (dpi < 50 || dpi > 1200)) usage('--dpi must be between 50 and 1200');
  const pdfDir = v['searchable-pdf'] !== undefined ? resolve(process.cwd(), v['searchable-pdf']) : null;
  if (pdfDir !== null && !v['searchable-pdf']) usage('--searchable-pdf needs a directory');
  const hocrDir = v.hocr !== undefined ? resolve(process.cwd(), v.hocr) : null;
  if (hocrDir !== null && !v.hocr) usage('--hocr needs a directory');
  if (pdfDir || hocrDir) {
    // DIR/<name without extension>.pdf: two FILEs of one name would write one file, the second over the first
    const byName = new Map<string, string>();
    for (const file of parsed.positionals) {
      const name = basename(file, extname(file));
      const other = byName.get(name);
      if (other !== undefined) usage(`${other} and ${file} would both write ${name}.${pdfDir ? 'pdf' : 'hocr'}: process them in separate runs with different directories`);
      byName.set(name, file);
    }
  }
  for (const [flag, dir] of [['--searchable-pdf', pdfDir], ['--hocr', hocrDir]] as const) {
    if (!dir) continue;
    try { await mkdir(dir, { recursive: true }); } catch (err) { usage(`${flag}: cannot create ${dir}: ${(err as Error).message}`); }
  }
  const engine = createEngine({
    languages: v.lang,
    ocrEngine,
    pdfRenderer,
    workers: posInt('workers', v.workers),
    timeoutSeconds: posInt('timeout-seconds', v['timeout-seconds']),
    memoryMb: posInt('memory-mb', v['memory-mb']),
    defaults: { dpi, maxPages: posInt('max-pages', v['max-pages']), pages: v.pages, password: v.password, qr: v['no-qr'] ? false : undefined,
      geometry: v['no-geometry'] ? false : undefined, outputs: pdfDir || hocrDir ? ['json', ...(pdfDir ? ['pdf' as const] : []), ...(hocrDir ? ['hocr' as const] : [])] : undefined },
    onProgress: (name, done, total, pageNumber) => process.stderr.write(`  ${name}: page ${pageNumber} done (${done}/${total})\n`),
  });
  const stop = (): void => { void engine.close().finally(() => process.exit(143)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  let failed = 0;
  const files = parsed.positionals;
  // one document ahead (see oneAhead): printed in the order of the arguments
  const processFile = async (i: number): Promise<OcrResult> => {
    process.stderr.write(`[${i + 1}/${files.length}] ${files[i]}\n`);
    let bytes: Buffer;
    try {
      bytes = await readFile(resolve(process.cwd(), files[i]));
    } catch (err) {
      // a file that cannot be read still gets its line, so that every FILE has one result
      return failedResult(files[i], readError(files[i], err as NodeJS.ErrnoException), v.lang ?? DEFAULTS.languages);
    }
    const result = await engine.process(bytes, { name: files[i] });
    if (pdfDir) await writeOutput(result, 'pdf', pdfDir, files[i]);
    if (hocrDir) await writeOutput(result, 'hocr', hocrDir, files[i]);
    return result;
  };
  try {
    let i = 0;
    for await (const result of oneAhead(files.length, processFile)) {
      const file = files[i++];
      if (result.status !== 'SUCCEEDED') failed++;
      process.stderr.write(`  ${file}: ${result.status}${result.error ? ` ${result.error.code}` : ''}, ${result.pages.length} page(s), ${result.durationMs} ms\n`);
      process.stdout.write(JSON.stringify(result) + '\n');
    }
  } finally {
    await engine.close();
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`ocr: ${err instanceof OcrError ? err.code + ': ' : ''}${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
