import * as fs from 'fs';
import * as path from 'path';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { TESSERACT_DATA_LANGUAGES } from './tesseract-languages';

/**
 * The bundled OCR worker (assets/ocr-worker). The same relative path works from src/ (ts-jest)
 * and from lib/ (compiled), both two levels below the package root.
 */
export const WORKER_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'ocr-worker');

/**
 * The OCR backend of the worker (its `OCR_ENGINE`; the bundled image is built for it).
 * Both read the same model files with the same page segmentation, to the same text.
 */
export enum OcrEngine {
  /**
   * tesseract.js: Tesseract compiled to WebAssembly, nothing beyond npm packages in the image.
   * The default.
   */
  TESSERACT_JS = 'tesseract.js',
  /**
   * Native Tesseract from Debian's tesseract-ocr package, one warm process per worker: its int8 LSTM runs
   * on the CPU's widest SIMD (AVX2/AVX-512 on x86-64) where WebAssembly has 128 bits, so OCR takes
   * about 1.2-1.4x less time per page (worker README, "OCR engines"). Its PDF pages are drawn by
   * Poppler's pdftoppm (Debian's poppler-utils), in half pdf.js' CPU time. The image grows by the
   * two packages and their libraries.
   */
  NATIVE_TESSERACT = 'tesseract',
}

/**
 * What draws the PDF pages that go to OCR (the worker's `OCR_PDF_RENDERER`). pdf.js reads the text
 * layers either way.
 */
export enum PdfRenderer {
  /** pdf.js with Skia, in the worker's own process: npm packages only. The default with tesseract.js. */
  PDF_JS = 'pdf.js',
  /**
   * Poppler's pdftoppm (Debian's poppler-utils), in about half pdf.js' CPU time per page. The default
   * with native Tesseract, whose bundled image contains it.
   */
  POPPLER = 'poppler',
}

/** The worker's own default: Poppler with native Tesseract, pdf.js with tesseract.js. */
export function defaultPdfRenderer(ocrEngine?: OcrEngine): PdfRenderer {
  return ocrEngine === OcrEngine.NATIVE_TESSERACT ? PdfRenderer.POPPLER : PdfRenderer.PDF_JS;
}

/**
 * Why a construct building the bundled image cannot render with `renderer`, or null: the bundled
 * image has Poppler only when built for native Tesseract. `instead` names the props that bring
 * another image.
 */
export function bundledImageRendererProblem(renderer: PdfRenderer, ocrEngine: OcrEngine | undefined, instead: string): string | null {
  if (renderer !== PdfRenderer.POPPLER || ocrEngine === OcrEngine.NATIVE_TESSERACT) return null;
  return 'is PdfRenderer.POPPLER, which the bundled worker image contains only when built for ocrEngine OcrEngine.NATIVE_TESSERACT (Poppler comes with its Debian packages); '
    + `set that ocrEngine, use PdfRenderer.PDF_JS, or pass ${instead} whose worker has pdftoppm`;
}

export interface WorkerImageOptions {
  /** Build context; only tests point this elsewhere. @default WORKER_DIRECTORY */
  readonly directory?: string;
  /**
   * The CPU architecture the tasks run on: the image is built for it (the task definition's
   * runtime platform and the image must agree, or the container fails to start with an exec format error).
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * The OCR backend the image is built for (Docker build argument OCR_ENGINE).
   * @default OcrEngine.TESSERACT_JS
   */
  readonly ocrEngine?: OcrEngine;
  /**
   * The OCR languages the image holds data for, besides the worker's own `eng` (Docker build argument
   * OCR_LANGUAGES, passed only when they add a language, so the default image stays the same asset).
   * Codes from `TESSERACT_DATA_LANGUAGES`; see `bundledImageLanguageProblem`.
   * @default - `eng` only
   */
  readonly languages?: string[];
}

/**
 * The worker's own OCR languages: its `@tesseract.js-data/<lang>` dependencies (`eng`, its default
 * language), which every bundled image holds.
 */
export function bundledWorkerLanguages(directory: string = WORKER_DIRECTORY): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(directory, 'package.json'), 'utf8'));
  return Object.keys(manifest.dependencies ?? {})
    .filter((name) => name.startsWith('@tesseract.js-data/'))
    .map((name) => name.slice('@tesseract.js-data/'.length))
    .sort();
}

/**
 * The OCR languages of the bundled image built for `languages`: those and the worker's own, sorted
 * and without repeats, so that one set of languages is one image (and one asset hash) in any order.
 */
export function bundledImageLanguages(languages: readonly string[] = [], directory: string = WORKER_DIRECTORY): string[] {
  return [...new Set([...bundledWorkerLanguages(directory), ...languages])].sort();
}

/**
 * Why a construct building the bundled image cannot take these languages, or null: the image installs
 * the npm package `@tesseract.js-data/<code>` of each, and some have none (a typo, or a language
 * tesseract has no model for), which would otherwise fail only the image build. `instead` names the
 * props that bring another image.
 */
export function bundledImageLanguageProblem(languages: readonly string[], instead: string): string | null {
  const unknown = languages.filter((l) => !TESSERACT_DATA_LANGUAGES.includes(l));
  if (unknown.length === 0) return null;
  return `lists ${unknown.map((l) => `'${l}'`).join(', ')}, for which no tesseract language data package exists (npm @tesseract.js-data/<code>), so the bundled worker image cannot hold it; `
    + `use tesseract language codes such as 'eng', 'deu', 'fra' or 'chi_sim', or pass ${instead} whose worker has data for it`;
}

/**
 * True for ARM64. Compared by value: `CpuArchitecture.of('ARM64')` and the static `ARM64` are
 * different objects (and jsii bindings may hand over either).
 */
export function isArm64(cpuArchitecture?: ecs.CpuArchitecture): boolean {
  return cpuArchitecture?._cpuArchitecture === ecs.CpuArchitecture.ARM64._cpuArchitecture;
}

/** The image platform of a Fargate CPU architecture. */
export function workerImagePlatform(cpuArchitecture?: ecs.CpuArchitecture): Platform {
  return isArm64(cpuArchitecture) ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64;
}

/**
 * The OCR worker image built from the bundled worker as a CDK Docker image asset, for linux/amd64
 * or linux/arm64 (the worker's native dependency, @napi-rs/canvas, has prebuilt binaries for both,
 * and the worker's tests run an arm64 install under emulation). The asset hash is the hash of the
 * build context and platform, never time-based.
 */
export function workerImageAsset(scope: Construct, id: string, options: WorkerImageOptions = {}): ecr_assets.DockerImageAsset {
  const directory = options.directory ?? WORKER_DIRECTORY;
  const languages = bundledImageLanguages(options.languages, directory);
  // the Dockerfile's default holds the worker's own languages: no argument then, so that listing only
  // those builds the very image (and asset) of the default props
  const sameAsDefault = languages.join('+') === bundledWorkerLanguages(directory).join('+');
  return new ecr_assets.DockerImageAsset(scope, id, {
    directory,
    platform: workerImagePlatform(options.cpuArchitecture),
    buildArgs: {
      OCR_ENGINE: options.ocrEngine ?? OcrEngine.TESSERACT_JS,
      ...(sameAsDefault ? {} : { OCR_LANGUAGES: languages.join('+') }),
    },
    exclude: ['node_modules', 'test', 'bench', 'scratch', '**/*.test.ts'],
  });
}
