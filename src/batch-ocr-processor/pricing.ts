/**
 * What OCR on AWS Batch Fargate costs per 1,000 pages, next to Amazon Textract.
 *
 * Prices are on-demand list prices for Linux/x86 and Linux/ARM Fargate in us-east-1 as recorded on
 * FARGATE_PRICE_DATE. Fargate Spot has no fixed price: it is typically about 70% below on-demand
 * but varies by Region and over time, so the discount is an input. Check the AWS Pricing Calculator
 * before you commit to a design.
 */

/** The date the Fargate prices below were recorded. */
export const FARGATE_PRICE_DATE = '2026-11-01';

/** Fargate Linux/x86 on-demand, us-east-1: per vCPU-hour. */
export const FARGATE_VCPU_HOUR_USD = 0.04048;
/** Fargate Linux/x86 on-demand, us-east-1: per GB-hour of memory. */
export const FARGATE_GB_HOUR_USD = 0.004445;
/**
 * Fargate Linux/ARM (Graviton) on-demand, us-east-1: per vCPU-hour. Read on 2026-12-01 from a
 * published us-east-1 rate table (Linux/x86 × 0.8, unchanged since Graviton came to Fargate).
 */
export const FARGATE_ARM_VCPU_HOUR_USD = 0.03238;
/** Fargate Linux/ARM (Graviton) on-demand, us-east-1: per GB-hour of memory. */
export const FARGATE_ARM_GB_HOUR_USD = 0.00356;
/** Typical Fargate Spot discount (varies with spare capacity). */
export const TYPICAL_FARGATE_SPOT_DISCOUNT = 0.7;
/** Amazon Textract DetectDocumentText, first 1M pages per month: per 1,000 pages. */
export const TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD = 1.5;
/**
 * Default throughput of the OCR worker: pages per vCPU-second for scanned pages OCR'd at 300 dpi.
 * From the worker benchmark (assets/ocr-worker/bench/results.json, 2026-12-01): 24.8–30.1 OCR pages per
 * minute over five runs with 2 workers on 2 vCPUs of an Intel Xeon VM shared with other tenants (wall
 * clock, rendering included; 11 of its 13 pages are dense A4 pages), median 27.3 = 0.23 pages per
 * vCPU-second (4.3 vCPU-seconds per page). The median, not the latest or the best run: one run moves
 * by ±10% on that VM. The same benchmark gave 51.4 pages per minute on an AMD EPYC VM earlier that
 * day: the figure depends on the CPU, and a Fargate vCPU need not match either. The benchmark now
 * records every run (bench/history.jsonl): over the 18 runs on the Intel VM on record (20.4–31.4; the
 * two lowest in a slow hour, when native Tesseract itself read 8-19 % below its earlier median) the median is 25.75 pages
 * per minute (0.21 pages per vCPU-second, 7% below this default), and a test keeps the default within
 * 15% of the median of the runs on record. Measure your own documents with `npm run bench` in the
 * worker and pass the figure as `pagesPerVcpuSecond`.
 */
export const DEFAULT_PAGES_PER_VCPU_SECOND = 0.23;
/**
 * Default throughput with the native Tesseract backend (`OcrEngine.NATIVE_TESSERACT`), from the same
 * benchmark: the engine end to end with native Tesseract doing the recognition. Since the backend
 * keeps one tesseract process per worker warm and hands it TIFF pages (benchmark method 2, six runs
 * on 2026-12-01), 31.2–45.4 pages per minute on 2 vCPUs, median 43.6 = 0.36 pages per vCPU-second
 * (it was 0.31 with a process per page: median 35.2 over nine runs). With Poppler drawing its pages
 * (method 3) three runs read 35.6, 37.7 and 39.7, in slower hours: native Tesseract itself read
 * 34.7, 39.4 and 41.8 there, against a median 43.05 before. Over the nine runs of methods 2 and 3 the
 * median is 39.7 (0.33, 8% below this default). A test keeps this within 15% of the median of the runs since method 2.
 */
export const DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT = 0.36;

/** Inputs of a per-page cost estimate. */
export interface PageCostOptions {
  /** vCPUs per task. */
  readonly vcpu: number;
  /** Memory per task, GiB. */
  readonly memoryGib: number;
  /** Pages per vCPU-second the worker achieves. @default DEFAULT_PAGES_PER_VCPU_SECOND */
  readonly pagesPerVcpuSecond?: number;
  /** Fargate Spot discount as a fraction of on-demand. @default 0.7 */
  readonly spotDiscount?: number;
  /**
   * Price ARM64 (Graviton) tasks at Fargate Linux/ARM rates, on demand and on Spot (Fargate Spot runs
   * Linux ARM64 tasks on platform version 1.4.0 or later).
   * @default false
   */
  readonly arm64?: boolean;
}

/** Cost of 1,000 pages, USD. */
export interface PageCostEstimate {
  /** vCPUs per task. */
  readonly vcpu: number;
  /** Memory per task, GiB. */
  readonly memoryGib: number;
  /** Throughput the estimate assumes, pages per vCPU-second. */
  readonly pagesPerVcpuSecond: number;
  /** Task-hours per 1,000 pages. */
  readonly taskHoursPer1000Pages: number;
  /** 1,000 pages on Fargate on-demand, USD. */
  readonly fargateUsd: number;
  /** 1,000 pages on Fargate Spot at `spotDiscount`, USD. */
  readonly fargateSpotUsd: number;
  /** CPU architecture priced: `X86_64` or `ARM64`. */
  readonly cpuArchitecture: string;
  /** Spot discount assumed (fraction of on-demand). */
  readonly spotDiscount: number;
  /** 1,000 pages with Amazon Textract DetectDocumentText, USD. */
  readonly textractUsd: number;
  /** Date the prices were recorded. */
  readonly priceDate: string;
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

/**
 * OCR time of 1,000 pages on Fargate and Fargate Spot from the worker's throughput: what long
 * documents cost per page, without a task's start-up or requests (see `costPer1000Documents` in
 * document-cost.ts for the all-in cost of a document). Pages run in
 * parallel across the task's vCPUs, so a task processes `vcpu * pagesPerVcpuSecond` pages per second
 * and memory is billed for the same time.
 */
export function costPer1000Pages(options: PageCostOptions): PageCostEstimate {
  const rate = options.pagesPerVcpuSecond ?? DEFAULT_PAGES_PER_VCPU_SECOND;
  const discount = options.spotDiscount ?? TYPICAL_FARGATE_SPOT_DISCOUNT;
  if (!(rate > 0)) throw new Error(`pagesPerVcpuSecond must be > 0, got ${rate}`);
  if (!(discount >= 0 && discount < 1)) throw new Error(`spotDiscount must be from 0 to below 1, got ${discount}`);
  if (!(options.vcpu > 0) || !(options.memoryGib > 0)) throw new Error('vcpu and memoryGib must be > 0');
  const taskSeconds = 1000 / (options.vcpu * rate);
  const taskHours = taskSeconds / 3600;
  const arm64 = options.arm64 ?? false;
  const [vcpuHour, gbHour] = arm64 ? [FARGATE_ARM_VCPU_HOUR_USD, FARGATE_ARM_GB_HOUR_USD] : [FARGATE_VCPU_HOUR_USD, FARGATE_GB_HOUR_USD];
  const onDemand = taskHours * (options.vcpu * vcpuHour + options.memoryGib * gbHour);
  return {
    vcpu: options.vcpu,
    memoryGib: options.memoryGib,
    pagesPerVcpuSecond: rate,
    taskHoursPer1000Pages: round4(taskHours),
    fargateUsd: round4(onDemand),
    fargateSpotUsd: round4(onDemand * (1 - discount)),
    cpuArchitecture: arm64 ? 'ARM64' : 'X86_64',
    spotDiscount: discount,
    textractUsd: TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD,
    priceDate: FARGATE_PRICE_DATE,
  };
}
