import { Stack, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults';
import { costPer1000Pages, DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, TYPICAL_FARGATE_SPOT_DISCOUNT } from './pricing';
import { BatchOcrCostEstimate, BatchOcrProcessorProps } from './props';
import { isArm64, OcrEngine } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { CostLineItem } from '../cost-optimized-vpc/pricing';

/** What of the processor costs money whether or not documents arrive. */
export interface CostedParts {
  /** The network, when the processor created it (a shared or the user's network is priced where it is created). */
  readonly ownNetwork?: CostOptimizedVpc;
  readonly hasDashboard: boolean;
  readonly alarmCount: number;
}

/** The fixed monthly cost of the configuration and the cost per 1,000 pages on Fargate and Fargate Spot. */
export function estimateProcessorCost(scope: Construct, props: BatchOcrProcessorProps, parts: CostedParts): BatchOcrCostEstimate {
  const items: CostLineItem[] = [];
  const notes: string[] = [
    'AWS Batch itself is free; Fargate is billed per second of task time (see perThousandPages).',
    'API Gateway, Lambda, DynamoDB on-demand, S3 requests and SQS are billed per use and are not in the fixed cost.',
    `Fargate Spot is priced at a typical ${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount; the real discount varies by Region and over time.`,
  ];
  const network = parts.ownNetwork?.estimateMonthlyCost();
  if (!network) notes.push('Network cost is not included: the VPC is shared or the user\'s (price it where it is created).');
  const arm64 = isArm64(props.cpuArchitecture);
  const nativeTesseract = props.ocrEngine === OcrEngine.NATIVE_TESSERACT;
  if (nativeTesseract && props.pagesPerVcpuSecond === undefined) {
    notes.push('The throughput assumed is the benchmark\'s for the native Tesseract backend (ocrEngine NATIVE_TESSERACT), measured on x86-64.');
  }
  if (arm64) notes.push('ARM64 (Graviton) tasks are priced at Fargate Linux/ARM rates and run on-demand (Fargate Spot runs X86_64 only); the throughput assumed is the x86 benchmark\'s, Graviton\'s has not been measured.');
  if (parts.hasDashboard) items.push({ item: 'CloudWatch dashboard', quantity: 1, unit: 'dashboards', unitPriceUsd: 3, monthlyUsd: 3 });
  items.push({ item: 'CloudWatch alarms (standard resolution)', quantity: parts.alarmCount, unit: 'alarms', unitPriceUsd: 0.1, monthlyUsd: Math.round(parts.alarmCount * 0.1 * 100) / 100 });
  const fixed = Math.round(((network?.fixedMonthlyUsd ?? 0) + items.reduce((sum, i) => sum + i.monthlyUsd, 0)) * 100) / 100;
  const region = Stack.of(scope).region;
  return {
    region: Token.isUnresolved(region) ? 'us-east-1' : region,
    fixedMonthlyUsd: fixed,
    lineItems: items,
    network,
    perThousandPages: costPer1000Pages({
      vcpu: props.vcpu ?? DEFAULTS.vcpu,
      memoryGib: (props.memory ?? DEFAULTS.memory).toMebibytes() / 1024,
      arm64,
      pagesPerVcpuSecond: props.pagesPerVcpuSecond
        ?? (nativeTesseract ? DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT : DEFAULT_PAGES_PER_VCPU_SECOND),
    }),
    notes,
  };
}
