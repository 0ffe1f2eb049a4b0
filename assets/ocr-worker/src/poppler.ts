/**
 * Rendering PDF pages with Poppler's `pdftoppm` (Debian package poppler-utils): the renderer the
 * native backend uses by default (OCR_PDF_RENDERER, see README "PDF renderer"). pdf.js with Skia takes
 * about twice Poppler's CPU for the same 300-dpi page (170-330 ms against 80-150 ms, start-up
 * included, measured on the corpus pages); with native Tesseract that difference is 3-4 % of a
 * page's whole cost. pdf.js still opens every PDF, reads its text layers and sizes its pages:
 * Poppler only draws the pages that go to OCR.
 *
 * A `pdftoppm` run is a child of the engine's child process, in its process group: the engine
 * counts its memory against the document's limit and kills it with the group on overrun, as it does
 * the native tesseract processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { OcrError } from './errors.ts';
import { decodePNM, type GreyImage } from './image.ts';
import { COMMON_ENV } from './contract.ts';

/** The command run to render a page; a Debian `poppler-utils` install puts it on PATH. */
export const PDFTOPPM_COMMAND = process.env[COMMON_ENV.PDFTOPPM_COMMAND] || 'pdftoppm';

/** "22.12.0" from `pdftoppm -v`; a clear error when the command is missing. */
export function popplerVersion(): string {
  // the version goes to stderr; older Poppler exit 99 after printing it, bookworm's 22.12 exits 0
  const r = spawnSync(PDFTOPPM_COMMAND, ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  const version = /version\s+(\d+\.\d+[^\s]*)/i.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`)?.[1];
  if (r.error || !version) {
    const why = r.error ? r.error.message : `unexpected output: ${`${r.stderr}${r.stdout}`.trim().slice(0, 200)}`;
    throw new OcrError('INTERNAL_ERROR', `PDF renderer 'poppler' needs the ${PDFTOPPM_COMMAND} command (Debian package poppler-utils), `
      + `which could not be run: ${why}. Use PDF renderer 'pdf.js' (OCR_PDF_RENDERER=pdf.js) or install it.`);
  }
  return version;
}

/**
 * Renders page `pageNumber` (1-based) of the PDF file `file` to greyscale at `dpi`, on its crop box
 * and with its /Rotate applied, as pdf.js renders it. Resolves to null when pdftoppm fails or draws
 * a page of another size than `expected` (the size pdf.js computed, which the engine has already
 * bounded by maxPagePixels): the caller then renders the page with pdf.js, the renderer whose handling
 * of the corpus' malformed PDFs is tested, so that a page Poppler cannot draw is not lost.
 */
export function renderWithPoppler(file: string, pageNumber: number, dpi: number, expected: { width: number; height: number }): Promise<GreyImage | null> {
  return new Promise((resolve) => {
    // -gray: 8-bit PGM, the pixels the engine needs (no colour to convert); no output root: to stdout
    const p = spawn(PDFTOPPM_COMMAND, ['-gray', '-cropbox', '-r', String(dpi), '-f', String(pageNumber), '-l', String(pageNumber), file],
      { stdio: ['ignore', 'pipe', 'ignore'] });
    // the whole PGM is expected; collecting more than that (plus its header) means a wrong size
    const limit = expected.width * expected.height + 64;
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    p.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit * 1.05) { tooBig = true; p.kill('SIGKILL'); return; }
      chunks.push(chunk);
    });
    p.on('error', () => resolve(null));
    p.on('close', (code) => {
      if (code !== 0 || tooBig) { resolve(null); return; }
      let img: GreyImage;
      try {
        img = decodePNM(Buffer.concat(chunks, size));
      } catch {
        resolve(null);
        return;
      }
      // the two renderers round a page's size differently by at most a pixel
      const fits = Math.abs(img.width - expected.width) <= 2 && Math.abs(img.height - expected.height) <= 2;
      resolve(fits ? img : null);
    });
  });
}
