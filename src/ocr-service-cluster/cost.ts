import { Stack, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { OcrServiceCapacity, OcrServiceCostEstimate } from './props';
import { fargateTaskSecondUsd } from '../batch-ocr-processor/document-cost';
import { DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, TYPICAL_FARGATE_SPOT_DISCOUNT } from '../batch-ocr-processor/pricing';
import { fixedResourceLineItems } from '../common/fixed-costs';
import { isArm64, OcrEngine } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { CostLineItem, HOURS_PER_MONTH } from '../cost-optimized-vpc/pricing';

/** What the service's estimate needs from its props. */
export interface ServiceCostInputs {
  readonly vcpu: number;
  readonly memoryGib: number;
  readonly minCapacity: number;
  readonly capacity: OcrServiceCapacity;
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  readonly ocrEngine?: OcrEngine;
  /** The network, when the service created it. */
  readonly ownNetwork?: CostOptimizedVpc;
}

const cents = (x: number): number => Math.round(x * 100) / 100;

/**
 * The service's fixed monthly cost: its `minCapacity` tasks running all month (on demand or Spot as
 * `capacity` says), its load balancer, cache nodes, keys, alarms, dashboard and secrets, and the network
 * it created. This is the "worker kept warm" option: documents cost only their requests until the
 * tasks are busy.
 */
export function estimateServiceCost(scope: Construct, inputs: ServiceCostInputs): OcrServiceCostEstimate {
  const arm64 = isArm64(inputs.cpuArchitecture);
  const taskHourUsd = fargateTaskSecondUsd({ vcpu: inputs.vcpu, memoryGib: inputs.memoryGib, arm64 }) * 3600;
  const spotTaskHourUsd = taskHourUsd * (1 - TYPICAL_FARGATE_SPOT_DISCOUNT);
  const onDemandTasks = inputs.capacity === OcrServiceCapacity.ON_DEMAND ? inputs.minCapacity
    : inputs.capacity === OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE ? Math.min(1, inputs.minCapacity) : 0;
  const spotTasks = inputs.minCapacity - onDemandTasks;
  const arch = arm64 ? 'ARM64' : 'X86_64';
  const tasks: CostLineItem[] = [];
  const size = `${inputs.vcpu} vCPU, ${inputs.memoryGib} GiB, ${arch}`;
  if (onDemandTasks) {
    tasks.push({ item: `Fargate tasks x ${onDemandTasks} on demand (${size}), running all month`, quantity: onDemandTasks * HOURS_PER_MONTH, unit: 'task-hours', unitPriceUsd: Math.round(taskHourUsd * 1e5) / 1e5, monthlyUsd: cents(onDemandTasks * HOURS_PER_MONTH * taskHourUsd) });
  }
  if (spotTasks) {
    tasks.push({ item: `Fargate Spot tasks x ${spotTasks} (${size}, at a typical ${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount), running all month`, quantity: spotTasks * HOURS_PER_MONTH, unit: 'task-hours', unitPriceUsd: Math.round(spotTaskHourUsd * 1e5) / 1e5, monthlyUsd: cents(spotTasks * HOURS_PER_MONTH * spotTaskHourUsd) });
  }
  const items = [...tasks, ...fixedResourceLineItems(scope, inputs.ownNetwork ? [inputs.ownNetwork] : [])];
  const network = inputs.ownNetwork?.estimateMonthlyCost();
  const rate = inputs.ocrEngine === OcrEngine.NATIVE_TESSERACT ? DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT : DEFAULT_PAGES_PER_VCPU_SECOND;
  const notes = [
    'The tasks counted are minCapacity, running all month; tasks added by scaling are billed per second on top.',
    'Per document the service adds only its requests (S3, DynamoDB, the stream handler) while its tasks keep up.',
    'Left out: Load Balancer capacity units (per use), data transfer out of AWS, S3 storage, WAF rules and requests.',
  ];
  if (!network) notes.push('Network cost is not included: the VPC is shared or the user\'s (price it where it is created).');
  const region = Stack.of(scope).region;
  return {
    region: Token.isUnresolved(region) ? 'us-east-1' : region,
    fixedMonthlyUsd: cents((network?.fixedMonthlyUsd ?? 0) + items.reduce((sum, i) => sum + i.monthlyUsd, 0)),
    lineItems: items,
    network,
    scannedPagesPerMonthAtMinCapacity: Math.round(inputs.minCapacity * inputs.vcpu * rate * HOURS_PER_MONTH * 3600),
    notes,
  };
}
