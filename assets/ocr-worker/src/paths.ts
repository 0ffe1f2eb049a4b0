import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  if (process.env.OCR_LANG_PATH) return process.env.OCR_LANG_PATH;
  let pkg: string;
  try {
    pkg = dirname(require.resolve(`@tesseract.js-data/${lang}/package.json`));
  } catch {
    throw new Error(`No language data for '${lang}': install the npm package @tesseract.js-data/${lang}.`);
  }
  return join(pkg, '4.0.0_best_int');
}
