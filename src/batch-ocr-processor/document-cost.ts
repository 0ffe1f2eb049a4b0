/**
 * What a document costs on AWS Batch Fargate, all in: the OCR time of its pages, its share of the
 * task it runs in (image pull, worker start-up, Fargate's one-minute minimum) and the requests it
 * causes (API Gateway, Lambda, S3, DynamoDB, CloudWatch Logs).
 *
 * Documents share tasks: the processor packs a job's documents into array children by their bytes
 * (known at submit from the S3 object sizes; pages are not), each child taking documents until their
 * bytes reach a target, up to a cap on their number. Documents that arrive one at a time are
 * gathered by a short window into one array job, so the model assumes documents arrive together or
 * are gathered: a steady stream, every task full. A document that runs alone pays a whole task
 * (`documentsPerTask: 1` shows that case).
 *
 * Measured inputs come from src/batch-ocr-processor/measurements.ts, generated from the worker's
 * measurement files (image sizes, start-up benchmark, engine benchmark); prices and assumptions are
 * below, each with its source and date.
 */
import { MEASURED_IMAGE, MEASURED_START_UNTIL_FIRST_PAGE_SECONDS, MEASURED_TEXT_LAYER_CPU_SECONDS_PER_PAGE } from './measurements';
import { DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD, MAX_ARRAY_CHILDREN, packDocuments } from './packing';
import {
  DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, FARGATE_ARM_GB_HOUR_USD, FARGATE_ARM_VCPU_HOUR_USD,
  FARGATE_GB_HOUR_USD, FARGATE_PRICE_DATE, FARGATE_VCPU_HOUR_USD, TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD, TYPICAL_FARGATE_SPOT_DISCOUNT,
} from './pricing';

// ---------- packing: how many documents share a task ----------

export { DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD };

/**
 * Documents of `documentBytes` bytes that one array child takes, as the submit handler's packer
 * shares them out: documents until their bytes reach the target (a larger document gets a child of
 * its own), at most `maxDocumentsPerChild`.
 */
export function documentsPerTask(
  documentBytes: number,
  targetBytesPerChild = DEFAULT_TARGET_BYTES_PER_CHILD,
  maxDocumentsPerChild = DEFAULT_MAX_DOCUMENTS_PER_CHILD,
): number {
  if (!(documentBytes > 0)) throw new Error(`documentBytes must be > 0, got ${documentBytes}`);
  if (!(Number.isInteger(maxDocumentsPerChild) && maxDocumentsPerChild >= 1)) throw new Error(`maxDocumentsPerChild must be a whole number >= 1, got ${maxDocumentsPerChild}`);
  // a job long enough that its first child is full
  const job = new Array<number>(maxDocumentsPerChild + 1).fill(documentBytes);
  return packDocuments(job, { targetBytesPerChild, maxDocumentsPerChild, maxChildren: MAX_ARRAY_CHILDREN })[0].count;
}

// ---------- task overhead ----------

/**
 * Image pull rate assumed, MB of compressed layers per second, download and unpacking together. An
 * assumption, as it cannot be measured without an AWS account: AWS documents that Fargate caches no
 * image, so every task pulls the whole image, and that pull time counts toward the task's start
 * (Amazon ECS Developer Guide, "Linux containers on Fargate container image pull behavior"), but
 * publishes no rate. Published measurements, read 2026-12-03, range from about 7 MB/s (ElasticScale,
 * "Reduce AWS Fargate pull times with SOCI", April 2024: a 413 MB image, 53-62 s from task creation
 * to container start, provisioning included) to about 50 MB/s (Dror Speiser, "My Fargate startup is
 * slow", January 2026: a 2.7 GB image started in 55 s). 10 MB/s sits at the slow end, on purpose.
 */
export const ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND = 10;

/**
 * Fargate bills a Linux task from the start of its image pull until it stops, per second, with a
 * one-minute minimum (AWS Fargate pricing page, read 2026-12-03).
 */
export const FARGATE_MINIMUM_BILLED_SECONDS = 60;

/** Fargate ephemeral storage beyond the free 20 GB, per GB-hour, us-east-1 (AWS Fargate pricing page, recorded 2026-12-03). */
export const FARGATE_EPHEMERAL_STORAGE_GB_HOUR_USD = 0.000111;

// ---------- per-request prices ----------

/** The date REQUEST_PRICES were recorded. */
export const REQUEST_PRICE_DATE = '2026-12-03';

/**
 * Per-request list prices, us-east-1, USD, recorded on REQUEST_PRICE_DATE from the AWS pricing pages
 * of Amazon API Gateway (REST APIs, first 333 million requests), AWS Lambda (Arm), Amazon S3
 * (S3 Standard requests), Amazon DynamoDB (on-demand) and Amazon CloudWatch (Logs ingestion, standard).
 */
export const REQUEST_PRICES = {
  /** API Gateway REST API, per million requests. */
  apiGatewayPerMillion: 3.5,
  /** Lambda, per million invocations. */
  lambdaPerMillion: 0.2,
  /** Lambda on Arm, per GB-second. */
  lambdaArmGbSecond: 0.0000133334,
  /** S3 Standard PUT, COPY, POST, LIST, per 1,000 requests. */
  s3PutPer1000: 0.005,
  /** S3 Standard GET and other reads, per 1,000 requests. */
  s3GetPer1000: 0.0004,
  /** DynamoDB on-demand, per million write request units. */
  dynamoDbWritePerMillion: 0.625,
  /** DynamoDB on-demand, per million read request units. */
  dynamoDbReadPerMillion: 0.125,
  /** CloudWatch Logs ingestion (standard class), per GB. */
  logsIngestionPerGb: 0.5,
};

/**
 * What one document causes when it is its own request (the case with the most requests): an upload
 * URL, the job, one status read, each an API Gateway request and a Lambda invocation; its upload, and
 * the worker's .txt and .json result (S3 PUTs); the worker's read of it, its resume check and the
 * caller's read of the result (S3 GETs); the job's record written at submit and on two state changes
 * (DynamoDB writes) and read once; its log lines and metrics (about 2 KB). A job of many documents
 * has one API request, one invocation and one record for all of them, so it costs less.
 */
export const REQUESTS_PER_DOCUMENT = {
  apiRequests: 3,
  lambdaInvocations: 3,
  /** Lambda GB-seconds: three invocations of about 100 ms at 256 MB. */
  lambdaGbSeconds: 3 * 0.1 * 0.25,
  s3Puts: 3,
  s3Gets: 3,
  dynamoDbWrites: 3,
  dynamoDbReads: 1,
  logBytes: 2048,
};

/**
 * What one task (array child) causes on top of its documents: its share of the job's manifest and
 * its summary (S3 PUTs), its read of the manifest (S3 GET), and Batch's state-change events for it,
 * each a job-state Lambda invocation and a DynamoDB write (about three per child).
 */
export const REQUESTS_PER_TASK = {
  s3Puts: 2,
  s3Gets: 1,
  lambdaInvocations: 3,
  lambdaGbSeconds: 3 * 0.1 * 0.25,
  dynamoDbWrites: 3,
};

/** Requests to price: REQUESTS_PER_DOCUMENT or REQUESTS_PER_TASK. */
interface RequestCounts {
  readonly apiRequests?: number;
  readonly lambdaInvocations: number;
  readonly lambdaGbSeconds: number;
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly dynamoDbWrites: number;
  readonly dynamoDbReads?: number;
  readonly logBytes?: number;
}

/** What `r` costs, USD. */
function requestCostUsd(r: RequestCounts): number {
  const p = REQUEST_PRICES;
  return (r.apiRequests ?? 0) * p.apiGatewayPerMillion / 1e6
    + r.lambdaInvocations * p.lambdaPerMillion / 1e6 + r.lambdaGbSeconds * p.lambdaArmGbSecond
    + r.s3Puts * p.s3PutPer1000 / 1000 + r.s3Gets * p.s3GetPer1000 / 1000
    + r.dynamoDbWrites * p.dynamoDbWritePerMillion / 1e6 + (r.dynamoDbReads ?? 0) * p.dynamoDbReadPerMillion / 1e6
    + (r.logBytes ?? 0) / 1e9 * p.logsIngestionPerGb;
}

// ---------- document shapes ----------

/** A kind of document to price. */
export interface DocumentShape {
  /** What the shape is, e.g. `1-page scan`. */
  readonly name: string;
  /** Pages per document. */
  readonly pages: number;
  /** Bytes per document: what the packer shares tasks by. */
  readonly bytes: number;
  /** Whether the pages have a usable text layer (born-digital PDFs: read without OCR). */
  readonly textLayer: boolean;
}

/**
 * The shapes the estimate reports. Sizes are assumptions of typical files: a 300 dpi greyscale scan
 * of an A4 page compressed as JPEG or in a PDF, about 250 KB a page; a born-digital PDF, about 20 KB
 * a page.
 */
export const DOCUMENT_SHAPES: DocumentShape[] = [
  { name: '1-page scan', pages: 1, bytes: 250_000, textLayer: false },
  { name: '10-page scan', pages: 10, bytes: 2_500_000, textLayer: false },
  { name: '100-page born-digital PDF', pages: 100, bytes: 2_000_000, textLayer: true },
];

// ---------- the estimate ----------

/** What a task costs before its first document, once it runs. */
export interface TaskOverheadEstimate {
  /** Compressed size of the worker image, MB: the base image and the worker's own layers. */
  readonly imageCompressedMegabytes: number;
  /** Pull rate assumed, MB per second. */
  readonly pullMegabytesPerSecond: number;
  /** Image pull, seconds (billed: Fargate bills from the start of the pull). */
  readonly pullSeconds: number;
  /** Worker start until the result of its first page, seconds (measured; the first page's OCR included). */
  readonly startUntilFirstPageSeconds: number;
  /** `pullSeconds` + `startUntilFirstPageSeconds`. */
  readonly overheadSeconds: number;
  /** Fargate's minimum billed time per task, seconds. */
  readonly minimumBilledSeconds: number;
}

/** Cost of 1,000 documents of one shape, all in, USD. */
export interface DocumentCostEstimate {
  /** The document shape priced. */
  readonly shape: DocumentShape;
  /** Documents per task (array child). */
  readonly documentsPerTask: number;
  /** A task's run time, seconds: overhead plus its documents' pages. */
  readonly taskSeconds: number;
  /** A task's billed time, seconds (whole seconds, at least the one-minute minimum). */
  readonly billedSecondsPerTask: number;
  /** Fargate on-demand time of 1,000 documents, USD. */
  readonly fargateUsd: number;
  /** Fargate Spot time of 1,000 documents at `spotDiscount`, USD. */
  readonly fargateSpotUsd: number;
  /** Requests of 1,000 documents (API Gateway, Lambda, S3, DynamoDB, CloudWatch Logs), USD. */
  readonly requestsUsd: number;
  /** `fargateUsd` + `requestsUsd`: 1,000 documents all in on demand, USD. */
  readonly allInUsd: number;
  /** `fargateSpotUsd` + `requestsUsd`: 1,000 documents all in on Fargate Spot, USD. */
  readonly allInSpotUsd: number;
  /** The same pages with Amazon Textract DetectDocumentText, USD. */
  readonly textractUsd: number;
  /** CPU architecture priced: `X86_64` or `ARM64`. */
  readonly cpuArchitecture: string;
}

/** Inputs of a per-document estimate. */
export interface DocumentCostOptions {
  /** vCPUs per task. */
  readonly vcpu: number;
  /** Memory per task, GiB. */
  readonly memoryGib: number;
  /** Ephemeral storage per task, GiB (beyond 20 GiB is billed). @default 20 */
  readonly ephemeralStorageGib?: number;
  /** Price ARM64 (Graviton) tasks at Fargate Linux/ARM rates. @default false */
  readonly arm64?: boolean;
  /** The native Tesseract backend: its throughput, image and start-up. @default false */
  readonly nativeTesseract?: boolean;
  /** Scanned pages per vCPU-second. @default - the benchmark's figure for the engine */
  readonly pagesPerVcpuSecond?: number;
  /** Fargate Spot discount, a fraction of on-demand. @default 0.7 */
  readonly spotDiscount?: number;
  /** Document bytes per array child. @default DEFAULT_TARGET_BYTES_PER_CHILD */
  readonly targetBytesPerChild?: number;
  /** Documents per array child at most. @default DEFAULT_MAX_DOCUMENTS_PER_CHILD */
  readonly maxDocumentsPerChild?: number;
  /** Documents per task, instead of packing by bytes (1: every document its own task). @default - from the packing */
  readonly documentsPerTask?: number;
  /** Image pull rate, MB of compressed layers per second. @default ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND */
  readonly pullMegabytesPerSecond?: number;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** A task's overhead: its image pull and the worker's start until its first page. */
export function taskOverhead(options: Pick<DocumentCostOptions, 'nativeTesseract' | 'pullMegabytesPerSecond'>): TaskOverheadEstimate {
  const rate = options.pullMegabytesPerSecond ?? ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND;
  if (!(rate > 0)) throw new Error(`pullMegabytesPerSecond must be > 0, got ${rate}`);
  const native = options.nativeTesseract ?? false;
  const ownLayers = native ? MEASURED_IMAGE.nativeTesseractLayersCompressedBytes : MEASURED_IMAGE.tesseractJsLayersCompressedBytes;
  const bytes = MEASURED_IMAGE.baseImageCompressedBytes + ownLayers;
  const megabytes = bytes / 1e6;
  const pull = megabytes / rate;
  const start = native ? MEASURED_START_UNTIL_FIRST_PAGE_SECONDS.nativeTesseract : MEASURED_START_UNTIL_FIRST_PAGE_SECONDS.tesseractJs;
  return {
    imageCompressedMegabytes: round(megabytes, 1),
    pullMegabytesPerSecond: rate,
    pullSeconds: round(pull, 1),
    startUntilFirstPageSeconds: start,
    overheadSeconds: round(pull + start, 1),
    minimumBilledSeconds: FARGATE_MINIMUM_BILLED_SECONDS,
  };
}

/** Fargate price of one task-second, USD, on demand. */
export function fargateTaskSecondUsd(options: Pick<DocumentCostOptions, 'vcpu' | 'memoryGib' | 'arm64' | 'ephemeralStorageGib'>): number {
  if (!(options.vcpu > 0) || !(options.memoryGib > 0)) throw new Error('vcpu and memoryGib must be > 0');
  const [vcpuHour, gbHour] = options.arm64 ? [FARGATE_ARM_VCPU_HOUR_USD, FARGATE_ARM_GB_HOUR_USD] : [FARGATE_VCPU_HOUR_USD, FARGATE_GB_HOUR_USD];
  const extraStorage = Math.max(0, (options.ephemeralStorageGib ?? 20) - 20);
  return (options.vcpu * vcpuHour + options.memoryGib * gbHour + extraStorage * FARGATE_EPHEMERAL_STORAGE_GB_HOUR_USD) / 3600;
}

/**
 * Cost of 1,000 documents of `shape`, all in: each task's billed time (overhead plus its documents'
 * pages, whole seconds, at least a minute) shared by the documents it takes, plus their requests.
 * Scanned pages run in parallel across the task's vCPUs at `pagesPerVcpuSecond`; pages with a text
 * layer at the benchmark's text-layer speed. The measured start until the first page already holds one
 * page of OCR, counted again with the pages: the estimate errs on the high side by that page.
 */
export function costPer1000Documents(shape: DocumentShape, options: DocumentCostOptions): DocumentCostEstimate {
  const discount = options.spotDiscount ?? TYPICAL_FARGATE_SPOT_DISCOUNT;
  if (!(discount >= 0 && discount < 1)) throw new Error(`spotDiscount must be from 0 to below 1, got ${discount}`);
  if (!(Number.isInteger(shape.pages) && shape.pages >= 1)) throw new Error(`pages must be a whole number >= 1, got ${shape.pages}`);
  const rate = options.pagesPerVcpuSecond
    ?? (options.nativeTesseract ? DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT : DEFAULT_PAGES_PER_VCPU_SECOND);
  if (!(rate > 0)) throw new Error(`pagesPerVcpuSecond must be > 0, got ${rate}`);
  const perTask = options.documentsPerTask ?? documentsPerTask(shape.bytes, options.targetBytesPerChild, options.maxDocumentsPerChild);
  if (!(Number.isInteger(perTask) && perTask >= 1)) throw new Error(`documentsPerTask must be a whole number >= 1, got ${perTask}`);

  const overhead = taskOverhead(options);
  const secondsPerPage = shape.textLayer ? MEASURED_TEXT_LAYER_CPU_SECONDS_PER_PAGE / options.vcpu : 1 / (options.vcpu * rate);
  const taskSeconds = overhead.pullSeconds + overhead.startUntilFirstPageSeconds + perTask * shape.pages * secondsPerPage;
  const billed = Math.max(FARGATE_MINIMUM_BILLED_SECONDS, Math.ceil(taskSeconds));
  const tasks = 1000 / perTask;
  const fargate = tasks * billed * fargateTaskSecondUsd(options);
  const requests = 1000 * requestCostUsd(REQUESTS_PER_DOCUMENT) + tasks * requestCostUsd(REQUESTS_PER_TASK);
  const spot = fargate * (1 - discount);
  return {
    shape,
    documentsPerTask: perTask,
    taskSeconds: round(taskSeconds, 1),
    billedSecondsPerTask: billed,
    fargateUsd: round(fargate, 4),
    fargateSpotUsd: round(spot, 4),
    requestsUsd: round(requests, 4),
    allInUsd: round(fargate + requests, 4),
    allInSpotUsd: round(spot + requests, 4),
    textractUsd: round(shape.pages * TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD, 2),
    cpuArchitecture: options.arm64 ? 'ARM64' : 'X86_64',
  };
}

/** Dates of the prices the per-document estimate uses. */
export const DOCUMENT_COST_PRICE_DATES = { fargate: FARGATE_PRICE_DATE, requests: REQUEST_PRICE_DATE };
