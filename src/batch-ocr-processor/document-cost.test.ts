import * as fs from 'fs';
import * as path from 'path';
import {
  ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND, costPer1000Documents, DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD, DOCUMENT_SHAPES,
  documentsPerTask, fargateTaskSecondUsd, REQUEST_PRICES, REQUESTS_PER_DOCUMENT, REQUESTS_PER_TASK, taskOverhead,
} from './document-cost';
import { costPer1000Pages, DEFAULT_PAGES_PER_VCPU_SECOND, FARGATE_ARM_GB_HOUR_USD, FARGATE_ARM_VCPU_HOUR_USD, FARGATE_GB_HOUR_USD, FARGATE_VCPU_HOUR_USD } from './pricing';
import { WORKER_DIRECTORY } from '../common/worker-image';

const bench = (file: string) => JSON.parse(fs.readFileSync(path.join(WORKER_DIRECTORY, 'bench', file), 'utf8'));
const DEFAULTS = { vcpu: 2, memoryGib: 4 };
const [ONE_PAGE, TEN_PAGES, BORN_DIGITAL] = DOCUMENT_SHAPES;

describe('documentsPerTask (the packer: bytes to a target, at most a cap)', () => {
  test('GIVEN document sizes THEN min(cap, max(1, floor(target / size)))', () => {
    expect(DEFAULT_TARGET_BYTES_PER_CHILD).toBe(64 * 1024 * 1024);
    expect(DEFAULT_MAX_DOCUMENTS_PER_CHILD).toBe(1000);
    expect(documentsPerTask(250_000)).toBe(268); // 67,108,864 / 250,000 = 268.4
    expect(documentsPerTask(40_000)).toBe(1000); // 1,677 by bytes, capped
    expect(documentsPerTask(200 * 1024 * 1024)).toBe(1); // larger than the target: a child of its own
    expect(documentsPerTask(1_000_000, 10_000_000, 5)).toBe(5);
  });

  test('GIVEN bad inputs THEN clear errors', () => {
    expect(() => documentsPerTask(0)).toThrow(/documentBytes must be > 0/);
    expect(() => documentsPerTask(1, 0)).toThrow(/targetBytesPerChild must be a positive number/);
    expect(() => documentsPerTask(1, 10, 0.5)).toThrow(/maxDocumentsPerChild must be a whole number >= 1/);
  });
});

describe('task overhead, from the measurement files', () => {
  test('GIVEN bench/image-sizes.json THEN the pull is the base image and the engine\'s own layers at the assumed rate', () => {
    const sizes = bench('image-sizes.json');
    for (const [nativeTesseract, engine] of [[false, 'tesseract.js'], [true, 'tesseract']] as const) {
      const megabytes = (sizes.baseImage.compressedBytes + sizes.engines[engine].ownLayersCompressedBytes) / 1e6;
      const overhead = taskOverhead({ nativeTesseract });
      expect(overhead.imageCompressedMegabytes).toBeCloseTo(megabytes, 1);
      expect(overhead.pullSeconds).toBeCloseTo(megabytes / ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND, 1);
      // the image the --sizes run measured is the one the stand-in or published base builds
      expect(sizes.engines[engine].imageCompressedBytes).toBe(sizes.baseImage.compressedBytes + sizes.engines[engine].ownLayersCompressedBytes);
    }
    expect(taskOverhead({ pullMegabytesPerSecond: 50 }).pullSeconds).toBeCloseTo((sizes.baseImage.compressedBytes + sizes.engines['tesseract.js'].ownLayersCompressedBytes) / 1e6 / 50, 1);
    expect(() => taskOverhead({ pullMegabytesPerSecond: 0 })).toThrow(/pullMegabytesPerSecond must be > 0/);
  });

  test('GIVEN bench/startup-history.jsonl THEN the start-up is the median of every run on record, per engine, the latest run being startup-results.json', () => {
    const startup = bench('startup-results.json');
    const history = fs.readFileSync(path.join(WORKER_DIRECTORY, 'bench', 'startup-history.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    expect(history[history.length - 1].date).toBe(startup.date);
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const m = Math.floor(sorted.length / 2);
      return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    };
    for (const [nativeTesseract, engine] of [[false, 'tesseract.js'], [true, 'tesseract']] as const) {
      const runs: number[] = history.flatMap((h) => h.engines[engine].runsMs);
      expect(runs.length).toBeGreaterThanOrEqual(3);
      expect(history[history.length - 1].engines[engine].runsMs).toEqual(startup.engines[engine].runsMs);
      expect(taskOverhead({ nativeTesseract }).startUntilFirstPageSeconds).toBeCloseTo(median(runs) / 1000, 3);
    }
  });
});

describe('costPer1000Documents', () => {
  test('GIVEN 1-page scans on the defaults THEN each task is billed its overhead and its 268 pages, shared by its 268 documents, plus the requests', () => {
    const e = costPer1000Documents(ONE_PAGE, DEFAULTS);
    const overhead = taskOverhead({});
    const taskSeconds = overhead.pullSeconds + overhead.startUntilFirstPageSeconds + 268 / (2 * DEFAULT_PAGES_PER_VCPU_SECOND);
    const perSecond = (2 * FARGATE_VCPU_HOUR_USD + 4 * FARGATE_GB_HOUR_USD) / 3600;
    expect(e.documentsPerTask).toBe(268);
    expect(e.billedSecondsPerTask).toBe(Math.ceil(taskSeconds));
    expect(e.fargateUsd).toBeCloseTo((1000 / 268) * Math.ceil(taskSeconds) * perSecond, 4);
    expect(e.fargateSpotUsd).toBeCloseTo(e.fargateUsd * 0.3, 4);
    expect(e.allInSpotUsd).toBeCloseTo(e.fargateSpotUsd + e.requestsUsd, 3);
    expect(e.textractUsd).toBe(1.5);
  });

  test('GIVEN the defaults on Fargate Spot THEN 1,000 one-page scans cost at most $0.10 all in', () => {
    expect(costPer1000Documents(ONE_PAGE, DEFAULTS).allInSpotUsd).toBeLessThanOrEqual(0.1);
  });

  test('GIVEN long documents THEN the OCR time per page stays within 5% of the per-page estimate (start-up amortized)', () => {
    const pages = costPer1000Pages(DEFAULTS);
    const tenPages = costPer1000Documents(TEN_PAGES, DEFAULTS);
    expect(tenPages.fargateUsd / 10).toBeGreaterThanOrEqual(pages.fargateUsd * 0.99);
    expect(tenPages.fargateUsd / 10).toBeLessThan(pages.fargateUsd * 1.05);
  });

  test('GIVEN one-page scans each alone in a task THEN every task is billed the one-minute minimum', () => {
    const alone = costPer1000Documents(ONE_PAGE, { ...DEFAULTS, documentsPerTask: 1 });
    expect(alone.billedSecondsPerTask).toBe(60);
    expect(alone.fargateUsd).toBeCloseTo(1000 * 60 * fargateTaskSecondUsd(DEFAULTS), 4);
    // the figure a one-task-per-document design pays: more than Textract on demand
    expect(alone.allInUsd).toBeGreaterThan(alone.textractUsd);
    expect(alone.allInUsd).toBeGreaterThan(costPer1000Documents(ONE_PAGE, DEFAULTS).allInUsd * 10);
  });

  test('GIVEN born-digital PDFs THEN their pages take the text-layer time measured by the benchmark, not OCR time', () => {
    const results = bench('results.json');
    const e = costPer1000Documents(BORN_DIGITAL, DEFAULTS);
    const overhead = taskOverhead({});
    const pagesSeconds = e.documentsPerTask * 100 * results.textLayer.cpu.textLayerSecondsPerPage / 2;
    const expected = overhead.pullSeconds + overhead.startUntilFirstPageSeconds + pagesSeconds;
    expect(e.taskSeconds).toBeCloseTo(expected, 1);
    expect(e.textractUsd).toBe(150);
  });

  test('GIVEN the request counts THEN the requests of 1,000 documents follow the prices', () => {
    const e = costPer1000Documents(ONE_PAGE, DEFAULTS);
    const p = REQUEST_PRICES;
    const d = REQUESTS_PER_DOCUMENT;
    const t = REQUESTS_PER_TASK;
    const perDocument = d.apiRequests * p.apiGatewayPerMillion / 1e6 + d.lambdaInvocations * p.lambdaPerMillion / 1e6
      + d.lambdaGbSeconds * p.lambdaArmGbSecond + d.s3Puts * p.s3PutPer1000 / 1000 + d.s3Gets * p.s3GetPer1000 / 1000
      + d.dynamoDbWrites * p.dynamoDbWritePerMillion / 1e6 + d.dynamoDbReads * p.dynamoDbReadPerMillion / 1e6
      + d.logBytes / 1e9 * p.logsIngestionPerGb;
    const perTask = t.lambdaInvocations * p.lambdaPerMillion / 1e6 + t.lambdaGbSeconds * p.lambdaArmGbSecond
      + t.s3Puts * p.s3PutPer1000 / 1000 + t.s3Gets * p.s3GetPer1000 / 1000 + t.dynamoDbWrites * p.dynamoDbWritePerMillion / 1e6;
    expect(e.requestsUsd).toBeCloseTo(1000 * perDocument + (1000 / 268) * perTask, 4);
  });

  test('GIVEN ARM64 THEN Linux/ARM rates, on demand and on Spot', () => {
    const e = costPer1000Documents(ONE_PAGE, { ...DEFAULTS, arm64: true });
    expect(fargateTaskSecondUsd({ ...DEFAULTS, arm64: true })).toBeCloseTo((2 * FARGATE_ARM_VCPU_HOUR_USD + 4 * FARGATE_ARM_GB_HOUR_USD) / 3600, 10);
    expect(e.cpuArchitecture).toBe('ARM64');
    expect(e.fargateSpotUsd).toBeCloseTo(e.fargateUsd * 0.3, 4);
    expect(e.fargateUsd).toBeLessThan(costPer1000Documents(ONE_PAGE, DEFAULTS).fargateUsd);
  });

  test('GIVEN ephemeral storage above 20 GiB THEN the extra GiB are billed', () => {
    expect(fargateTaskSecondUsd({ ...DEFAULTS, ephemeralStorageGib: 50 }) - fargateTaskSecondUsd(DEFAULTS)).toBeCloseTo(30 * 0.000111 / 3600, 10);
  });

  test('GIVEN bad inputs THEN clear errors', () => {
    expect(() => costPer1000Documents(ONE_PAGE, { ...DEFAULTS, spotDiscount: 1 })).toThrow(/spotDiscount must be from 0 to below 1/);
    expect(() => costPer1000Documents(ONE_PAGE, { ...DEFAULTS, pagesPerVcpuSecond: 0 })).toThrow(/pagesPerVcpuSecond must be > 0/);
    expect(() => costPer1000Documents(ONE_PAGE, { ...DEFAULTS, documentsPerTask: 0 })).toThrow(/documentsPerTask must be a whole number >= 1/);
    expect(() => costPer1000Documents({ ...ONE_PAGE, pages: 0 }, DEFAULTS)).toThrow(/pages must be a whole number >= 1/);
    expect(() => costPer1000Documents(ONE_PAGE, { vcpu: 0, memoryGib: 4 })).toThrow(/vcpu and memoryGib must be > 0/);
  });
});
