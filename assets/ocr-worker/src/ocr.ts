import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { OcrError } from './errors.ts';
import { downscaleGrey, rotateGrey, toTIFF, type GreyImage } from './image.ts';
import { ocrGeometry, wordsFromTsv, type PageGeometry } from './geometry.ts';
import { NativeTesseract, type Recognition } from './native-tesseract.ts';
import type { OcrEngineName } from './options.ts';
import { languageDataDir, languageDataFolder } from './paths.ts';

const require = createRequire(import.meta.url);
const Tesseract = require('tesseract.js');

export const TESSERACT_JS_VERSION: string = require('tesseract.js/package.json').version;

export interface OcrText {
  text: string;
  confidence: number; // 0..100, tesseract's mean word confidence
  rotation: number; // degrees clockwise applied to the page before the final recognition
  /** Words and lines on the page as given (before any rotation), when asked for. */
  geometry?: PageGeometry;
}

/**
 * Auto-orientation: a page whose first recognition has a mean confidence below this is
 * recognised again at 90/180/270 degrees on a half-size copy, and the best orientation wins
 * when it beats the upright one clearly. Upright text scores ~80-95; sideways or upside-down text
 * scores well below 50 (measured on the corpus' scanned pages).
 */
export const ORIENTATION = { RETRY_BELOW_CONFIDENCE: 60, MIN_GAIN: 15, MIN_CHARS: 10 } as const;

/** A place in the pool: a warm tesseract.js worker, or (native backend) a warm tesseract process. */
interface Slot { worker: any; busy: boolean }

/**
 * A pool of OCR workers, `size` pages at a time. Backend 'tesseract.js' (default): warm tesseract.js
 * workers, one WASM instance each in a worker thread. Backend 'tesseract': native Tesseract, one
 * warm process per slot (native-tesseract.ts). Either way page segmentation mode 3 (fully automatic, like
 * the tesseract command line), LSTM model, the same language data read from local files, no cache.
 */
export class OcrPool {
  readonly size: number;
  readonly languages: string;
  readonly engine: OcrEngineName;
  private slots: Slot[] = [];
  private waiters: Array<(s: Slot) => void> = [];
  private readyPromise: Promise<void> | null = null;
  private native: NativeTesseract | null = null;
  ready = false;

  constructor(size: number, languages: string, engine: OcrEngineName = 'tesseract.js') {
    this.size = Math.max(1, size);
    this.languages = languages;
    this.engine = engine;
  }

  /** Version of the OCR engine in use: tesseract.js', or native Tesseract's once the pool is warm. */
  get version(): string {
    return this.native ? this.native.version : TESSERACT_JS_VERSION;
  }

  /** Starts every worker; resolves when all have loaded their language data. */
  warm(timeoutMs = 60_000): Promise<void> {
    this.readyPromise ??= this.start(timeoutMs);
    return this.readyPromise;
  }

  private async start(timeoutMs: number): Promise<void> {
    const langs = this.languages.split('+').filter(Boolean);
    for (const l of langs) {
      const dir = languageDataDir(l);
      if (!existsSync(join(dir, `${l}.traineddata.gz`))) throw new OcrError('INTERNAL_ERROR', `Language data for '${l}' not found in ${dir}.`);
    }
    const langPath = languageDataFolder(langs);
    if (this.engine === 'tesseract') {
      const native = new NativeTesseract(langs, langPath);
      this.native = native;
      this.slots = Array.from({ length: this.size }, () => ({ worker: native.process(), busy: false }));
      this.ready = true;
      return;
    }
    const create = async (): Promise<Slot> => {
      // createWorker never settles if language data cannot be loaded: bound it
      let timer: NodeJS.Timeout | undefined;
      const worker = await Promise.race([
        Tesseract.createWorker(langs, Tesseract.OEM.LSTM_ONLY, {
          langPath,
          cacheMethod: 'none',
          gzip: true,
          errorHandler: () => undefined,
        }),
        new Promise((_, reject) => { timer = setTimeout(() => reject(new OcrError('INTERNAL_ERROR', 'tesseract worker did not start in time')), timeoutMs); }),
      ]).finally(() => clearTimeout(timer));
      await (worker as any).setParameters({ tessedit_pageseg_mode: Tesseract.PSM.AUTO, debug_file: '/dev/null' });
      return { worker, busy: false };
    };
    this.slots = await Promise.all(Array.from({ length: this.size }, create));
    this.ready = true;
  }

  private acquire(): Promise<Slot> {
    const free = this.slots.find((s) => !s.busy);
    if (free) { free.busy = true; return Promise.resolve(free); }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(s: Slot): void {
    const next = this.waiters.shift();
    if (next) next(s);
    else s.busy = false;
  }

  /**
   * One recognition of `img`. The words (Tesseract's TSV, in pixels of `img`) are always there with
   * the native backend, whose one output is the TSV; tesseract.js is asked for its TSV only when
   * `words` is set (it costs about as much as the text output).
   */
  private async recognizeOnce(img: GreyImage, dpi: number | undefined, words: boolean): Promise<Recognition> {
    await this.warm();
    const slot = await this.acquire();
    try {
      if (this.native) return await this.native.recognize(slot.worker, img, dpi);
      const params: Record<string, string> = {};
      if (dpi) params.user_defined_dpi = String(Math.round(dpi));
      // a TIFF: tesseract.js' Leptonica reads it faster than a PGM (image.ts, tiffHeader)
      const { data } = await slot.worker.recognize(toTIFF(img, dpi), params, { text: true, tsv: words });
      return { text: String(data.text ?? ''), confidence: Number(data.confidence ?? 0), words: words ? wordsFromTsv(String(data.tsv ?? '')) : [] };
    } catch (err) {
      if (err instanceof OcrError) throw err;
      throw new OcrError('OCR_FAILED', `tesseract failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.release(slot);
    }
  }

  /**
   * Recognises a page, correcting pages scanned sideways or upside down. With `geometry`, the result
   * holds the page's words and lines, their boxes on `img` as given (rotation undone).
   */
  async recognize(img: GreyImage, dpi?: number, autoOrient = true, geometry = false): Promise<OcrText> {
    const done = (r: Recognition, rotation: number): OcrText => {
      const turned = rotation % 180 !== 0;
      const out: OcrText = { text: r.text, confidence: r.confidence, rotation };
      // the words' boxes are on the image Tesseract read: `img` turned by `rotation`
      if (geometry) out.geometry = ocrGeometry(r.words, rotation, turned ? img.height : img.width, turned ? img.width : img.height);
      return out;
    };
    const first = await this.recognizeOnce(img, dpi, geometry);
    // nothing text-like at all (a photo, a blank page): turning it will not help
    if (!autoOrient || first.confidence >= ORIENTATION.RETRY_BELOW_CONFIDENCE || first.text.replace(/\s+/g, '').length < ORIENTATION.MIN_CHARS) {
      return done(first, 0);
    }
    // try the other three orientations on a half-size copy (cheaper), keep the clear winner
    const small = Math.max(img.width, img.height) > 1600 ? downscaleGrey(img, 2) : img;
    const scale = small === img ? 1 : 2;
    const trials = await Promise.all([90, 180, 270].map(async (deg) => ({
      deg, r: await this.recognizeOnce(rotateGrey(small, deg), dpi ? dpi / scale : undefined, geometry && small === img),
    })));
    const best = trials.reduce((a, b) => (b.r.confidence > a.r.confidence ? b : a));
    if (best.r.confidence < first.confidence + ORIENTATION.MIN_GAIN || best.r.text.trim().length === 0) return done(first, 0);
    // a trial on the full-size image is final; one on the half-size copy is read again at full size
    const final = scale === 1 ? best.r : await this.recognizeOnce(rotateGrey(img, best.deg), dpi, geometry);
    return done(final, best.deg);
  }

  /** Kills native Tesseract processes still running (synchronous: for the child's exit handler). */
  abort(): void {
    this.native?.killAll();
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    this.ready = false;
    this.readyPromise = null;
    const native = this.native;
    this.native = null;
    if (native) { native.killAll(); return; } // its processes were the slots' workers
    await Promise.all(slots.map((s) => s.worker.terminate().catch(() => undefined)));
  }
}
