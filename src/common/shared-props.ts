import { Duration, Size } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { OcrEngine, PdfRenderer } from './worker-image';

/**
 * Retention of every log group the library creates, unless `logRetention` says otherwise. One year:
 * AWS Control Tower's control CT.CLOUDWATCH.PR.2 refuses log groups kept for less, and at CloudWatch
 * Logs' storage price (about $0.03 per GB-month, compressed) the logs of a million documents cost
 * cents a month to keep.
 */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_YEAR;

/** Largest document the worker accepts unless `maxDocumentSize` says otherwise. */
export const DEFAULT_MAX_DOCUMENT_SIZE = Size.mebibytes(100);

/** Time bound of one document unless `documentTimeout` says otherwise. */
export const DEFAULT_DOCUMENT_TIMEOUT = Duration.minutes(5);

/** Tesseract languages the worker reads unless `ocrLanguages` says otherwise (the bundled image always has them). */
export const DEFAULT_OCR_LANGUAGES = ['eng'];

/**
 * The OCR worker a construct runs: its image and its engine. `BatchOcrProcessor` runs it as Batch
 * jobs, `OcrServiceCluster` as an HTTP service; both take these props with the same meaning.
 */
export interface OcrWorkerProps {
  /**
   * The worker image. It must implement the worker's container contract (the environment
   * variables, exit codes and result objects in the worker's documentation) and work as the
   * unprivileged user uid 1000, which the constructs run its containers as.
   * @default - built from the bundled worker (`assets/ocr-worker`) for `cpuArchitecture` and `ocrEngine`
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU architecture of the worker's tasks; the bundled image is built for it. ARM64 (Graviton) is
   * about 20% cheaper per vCPU-hour on Fargate, on demand and on Fargate Spot (which runs Linux ARM64
   * tasks on platform version 1.4.0 or later, the version the constructs use).
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * OCR backend of the worker (`OCR_ENGINE`); the bundled image is built for it. `NATIVE_TESSERACT`
   * reads the same model to the same text, with less time per page and a larger image. With your own
   * image, the image must contain it (and, with `NATIVE_TESSERACT`, the `pdfRenderer`).
   * @default OcrEngine.TESSERACT_JS
   */
  readonly ocrEngine?: OcrEngine;
  /**
   * What draws the PDF pages that go to OCR (`OCR_PDF_RENDERER`). `POPPLER` (pdftoppm) takes about
   * half pdf.js' CPU per page; the bundled image contains it when built for `NATIVE_TESSERACT`. With
   * your own image and `NATIVE_TESSERACT` but no pdftoppm in it, set `PDF_JS`.
   * @default - PdfRenderer.POPPLER with OcrEngine.NATIVE_TESSERACT, PdfRenderer.PDF_JS with OcrEngine.TESSERACT_JS
   */
  readonly pdfRenderer?: PdfRenderer;
  /**
   * Tesseract languages the worker reads by default (`OCR_LANGUAGES`), e.g. `['eng', 'deu']`. The
   * bundled image is built with the language data of each (the npm package `@tesseract.js-data/<code>`,
   * installed at build time through its `OCR_LANGUAGES` build argument) and of `eng`
   * (`BatchOcrProcessor` requests may name any of these). A code with no such package (a typo such as
   * `'ger'`) fails at synth. With your own image, its worker must have the data of each language.
   * @default ['eng']
   */
  readonly ocrLanguages?: string[];
  /**
   * Largest document the worker accepts (`OCR_MAX_DOCUMENT_BYTES`); a larger one is refused with a
   * classified error (`TOO_LARGE`) or, on an HTTP request, with 413.
   * @default Size.mebibytes(100)
   */
  readonly maxDocumentSize?: Size;
  /**
   * Time bound of one document in the engine (`OCR_DOC_TIMEOUT_SECONDS`); a document that takes
   * longer fails with `TIMEOUT` and the worker goes on with the next.
   * @default Duration.minutes(5)
   */
  readonly documentTimeout?: Duration;
}

/**
 * Logs and alarms: the same props on every construct that creates log groups or alarms.
 */
export interface MonitoringProps {
  /**
   * Retention of every log group the construct creates.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Actions of every alarm the construct creates, e.g. `new cloudwatch_actions.SnsAction(topic)`.
   * @default - no actions: the alarms show in the console and on the dashboard; they are public properties for `addAlarmAction`
   */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
}

/** The construct's own Lambda handlers. */
export interface HandlerProps {
  /**
   * Instruction set of the construct's Lambda handlers.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
}
