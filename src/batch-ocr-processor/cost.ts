import { Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults';
import {
  costPer1000Documents, DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD, DOCUMENT_SHAPES, DocumentCostEstimate,
  DocumentCostOptions, taskOverhead,
} from './document-cost';
import { costPer1000Pages, DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, TYPICAL_FARGATE_SPOT_DISCOUNT } from './pricing';
import { BatchOcrCostEstimate, BatchOcrProcessorProps, VolumeBreakEven } from './props';
import { fixedResourceLineItems } from '../common/fixed-costs';
import { isArm64, OcrEngine } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

/** What of the processor is priced where. */
export interface CostedParts {
  /** The network, when the processor created it (a shared or the user's network is priced where it is created). */
  readonly ownNetwork?: CostOptimizedVpc;
}

/** The per-document model's inputs for a processor's props. */
export function documentCostOptions(props: BatchOcrProcessorProps): DocumentCostOptions {
  const nativeTesseract = props.ocrEngine === OcrEngine.NATIVE_TESSERACT;
  return {
    vcpu: props.vcpu ?? DEFAULTS.vcpu,
    memoryGib: (props.memory ?? DEFAULTS.memory).toMebibytes() / 1024,
    ephemeralStorageGib: props.ephemeralStorage?.toGibibytes(),
    arm64: isArm64(props.cpuArchitecture),
    nativeTesseract,
    pagesPerVcpuSecond: props.pagesPerVcpuSecond
      ?? (nativeTesseract ? DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT : DEFAULT_PAGES_PER_VCPU_SECOND),
    targetBytesPerChild: props.targetBytesPerChild?.toBytes() ?? DEFAULT_TARGET_BYTES_PER_CHILD,
    maxDocumentsPerChild: props.maxDocumentsPerChild ?? DEFAULT_MAX_DOCUMENTS_PER_CHILD,
  };
}

/**
 * Monthly volume at which the fixed cost equals the per-document cost, and below which Textract
 * (no fixed cost) is cheaper all in.
 */
export function volumeBreakEven(fixedMonthlyUsd: number, estimate: DocumentCostEstimate, spot: boolean): VolumeBreakEven {
  const perDocument = (spot ? estimate.allInSpotUsd : estimate.allInUsd) / 1000;
  const textractPerDocument = estimate.textractUsd / 1000;
  return {
    shape: estimate.shape.name,
    fixedEqualsPerDocumentCostAtDocumentsPerMonth: Math.round(fixedMonthlyUsd / perDocument),
    textractCheaperBelowDocumentsPerMonth: textractPerDocument > perDocument
      ? Math.round(fixedMonthlyUsd / (textractPerDocument - perDocument))
      : undefined,
  };
}

/** The fixed monthly cost of the configuration and the all-in cost per 1,000 documents and pages. */
export function estimateProcessorCost(scope: Construct, props: BatchOcrProcessorProps, parts: CostedParts): BatchOcrCostEstimate {
  const options = documentCostOptions(props);
  const spot = props.spot ?? true;
  const notes: string[] = [
    'AWS Batch itself is free; Fargate bills each task from the start of its image pull until it stops, per second, at least a minute.',
    'Per-document figures assume documents arrive together or are gathered into array jobs, so each task takes its full share (see documentsPerTask); a document that runs alone pays a whole task (onePageScanAlone).',
    'Requests are counted as if each document were its own API request (upload URL, job, one status read); jobs of many documents cost less.',
    `Fargate Spot is priced at a typical ${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount; the real discount varies by Region and over time. Spot interruptions (retried) are not priced.`,
    'Left out: data transfer out of AWS, S3 storage of documents and results, Load Balancer capacity units, Textract-compatible front doors, and tasks retried after a failure.',
  ];
  const network = parts.ownNetwork?.estimateMonthlyCost();
  if (!network) notes.push('Network cost is not included: the VPC is shared or the user\'s (price it where it is created).');
  if (options.nativeTesseract && props.pagesPerVcpuSecond === undefined) {
    notes.push('The throughput assumed is the benchmark\'s for the native Tesseract backend (ocrEngine NATIVE_TESSERACT), measured on x86-64.');
  }
  if (options.arm64) notes.push('ARM64 (Graviton) tasks are priced at Fargate Linux/ARM rates; the throughput and start-up assumed are the x86 benchmark\'s, Graviton\'s have not been measured.');
  if (!spot) notes.push('spot is false: the all-in figures that apply are the on-demand ones (allInUsd).');
  const items = fixedResourceLineItems(scope, parts.ownNetwork ? [parts.ownNetwork] : []);
  const fixed = Math.round(((network?.fixedMonthlyUsd ?? 0) + items.reduce((sum, i) => sum + i.monthlyUsd, 0)) * 100) / 100;
  const perThousandDocuments = DOCUMENT_SHAPES.map((shape) => costPer1000Documents(shape, options));
  const region = Stack.of(scope).region;
  return {
    region: Token.isUnresolved(region) ? 'us-east-1' : region,
    fixedMonthlyUsd: fixed,
    lineItems: items,
    network,
    perThousandPages: costPer1000Pages({
      vcpu: options.vcpu, memoryGib: options.memoryGib, arm64: options.arm64, pagesPerVcpuSecond: options.pagesPerVcpuSecond,
    }),
    perThousandDocuments,
    onePageScanAlone: costPer1000Documents(DOCUMENT_SHAPES[0], { ...options, documentsPerTask: 1 }),
    taskOverhead: taskOverhead(options),
    breakEven: perThousandDocuments.map((e) => volumeBreakEven(fixed, e, spot)),
    notes,
  };
}
