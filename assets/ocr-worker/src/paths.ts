import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMON_ENV, INTERNAL_ENV } from './contract.ts';

const require = createRequire(import.meta.url);

/** Root of this package (assets/ocr-worker, or /app in the image). */
export const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULT_SCHEMA_PATH = join(PACKAGE_ROOT, 'schema', 'result.schema.json');

const pdfjsRoot = dirname(require.resolve('pdfjs-dist/package.json'));
/** pdf.js binary data, read from the local install (never fetched). Trailing slashes matter to pdf.js. */
export const PDFJS_CMAP_URL = join(pdfjsRoot, 'cmaps') + '/';
export const PDFJS_STANDARD_FONTS_URL = join(pdfjsRoot, 'standard_fonts') + '/';
export const PDFJS_WASM_URL = join(pdfjsRoot, 'wasm') + '/';
export const PDFJS_ICC_URL = join(pdfjsRoot, 'iccs') + '/';

/**
 * Folder holding <lang>.traineddata.gz for a language: the npm package @tesseract.js-data/<lang>
 * (4.0.0_best_int = the LSTM integer model tesseract.js uses by default), or OCR_LANG_PATH.
 */
export function languageDataDir(lang: string): string {
  const langPath = process.env[COMMON_ENV.LANG_PATH];
  if (langPath) return langPath;
  let pkg: string;
  try {
    pkg = dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
  } catch {
    throw new Error(`No language data for '${lang}': install the npm package @tesseract.js-data/${lang}.`);
  }
  return join(pkg, '4.0.0_best_int');
}

/**
 * One folder holding <lang>.traineddata.gz of every language in `langs`: tesseract.js reads all of a
 * worker's languages from one langPath. That is the data's own folder when they share one
 * (OCR_LANG_PATH, or one language); with one npm package per language (an image built with several
 * languages) it is a folder in TMPDIR, the one place the worker may write, of links to each package's
 * file, named after the files linked so that concurrent processes make and share the same one.
 */
export function languageDataFolder(langs: readonly string[]): string {
  const files = langs.map((lang) => join(languageDataDir(lang), `${lang}.traineddata.gz`));
  const dirs = [...new Set(files.map((file) => dirname(file)))];
  if (dirs.length === 1) return dirs[0];
  const stamp = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 16);
  const dir = join(os.tmpdir(), `ocr-langdata-${process.getuid?.() ?? 'user'}`, stamp);
  mkdirSync(dir, { recursive: true });
  langs.forEach((lang, i) => {
    try {
      symlinkSync(files[i], join(dir, `${lang}.traineddata.gz`));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  });
  return dir;
}

/**
 * Why some of `languages` ('eng+deu') cannot be read here (no <lang>.traineddata.gz), or null. Checked
 * before any work starts: otherwise every OCR worker fails to start on the first document, which the
 * Batch job took for an infrastructure failure (retried in vain) and the CLI reported only on stderr.
 */
export function missingLanguageData(languages: string): string | null {
  const missing = languages.split('+').filter(Boolean).filter((lang) => {
    try { return !existsSync(join(languageDataDir(lang), `${lang}.traineddata.gz`)); } catch { return true; }
  });
  if (missing.length === 0) return null;
  const langPath = process.env[COMMON_ENV.LANG_PATH];
  const where = langPath
    ? `${COMMON_ENV.LANG_PATH} (${langPath}) has no ${missing.map((l) => `${l}.traineddata.gz`).join(', ')}`
    : `install the npm package${missing.length > 1 ? 's' : ''} ${missing.map((l) => `@tesseract.js-data/${l}`).join(', ')} in the worker (its package.json, which the image installs)`;
  return `No language data for ${missing.map((l) => `'${l}'`).join(', ')} in this worker: ${where}.`;
}

/**
 * Where the engine's child writes files (the native backend's page files, the PDF that Poppler reads):
 * the folder the engine's parent made for this child process (OCR_SCRATCH_DIR), which the parent
 * removes when the child exits, however it ends (killed on a time or memory overrun, a file may still
 * be there); TMPDIR when run on its own.
 */
export function scratchRoot(): string {
  return process.env[INTERNAL_ENV.SCRATCH_DIR] || os.tmpdir();
}
