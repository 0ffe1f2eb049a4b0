/**
 * Generates docs/cost.md from the functions the constructs' estimates use (the per-document model,
 * BatchOcrProcessor, OcrServiceCluster and CostOptimizedVpc estimates, the fixed-cost walk over each
 * example app), so no figure in it is typed by hand.
 *   npx projen docs:cost   -> rewrites docs/cost.md (and the network table, and the measured inputs)
 *   renderCostDoc() is also used by a test that checks the file is up to date.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { IConstruct } from 'constructs';
import { replaceBetween } from './cost-table';
import { exampleNames, loadExample } from './nag-acknowledgements';
import { BatchOcrCostEstimate, BatchOcrProcessor, BatchOcrProcessorProps } from '../src/batch-ocr-processor';
import { documentCostOptions } from '../src/batch-ocr-processor/cost';
import {
  ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND, DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD, DOCUMENT_SHAPES,
  DocumentCostEstimate, FARGATE_MINIMUM_BILLED_SECONDS, REQUEST_PRICE_DATE, taskOverhead,
} from '../src/batch-ocr-processor/document-cost';
import { MEASURED_IMAGE, MEASURED_START_UNTIL_FIRST_PAGE_SECONDS } from '../src/batch-ocr-processor/measurements';
import { costPer1000Pages, FARGATE_PRICE_DATE, TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD, TYPICAL_FARGATE_SPOT_DISCOUNT } from '../src/batch-ocr-processor/pricing';
import { FIXED_PRICE_DATE, FIXED_PRICE_SOURCES, fixedResourceLineItems } from '../src/common/fixed-costs';
import { CostOptimizedVpc } from '../src/cost-optimized-vpc';
import { CostLineItem, PRICE_TABLE_DATE, PRICE_TABLE_SOURCE } from '../src/cost-optimized-vpc/pricing';
import { OcrServiceCluster } from '../src/ocr-service-cluster';

export const COST_DOC = path.join(__dirname, '..', 'docs', 'cost.md');
export const README = path.join(__dirname, '..', 'README.md');
export const HEADLINE_START = '<!-- cost-headline:start -->';
export const HEADLINE_END = '<!-- cost-headline:end -->';

const usd = (x: number, digits = 2) => `$${x.toFixed(digits)}`;
const count = (x: number) => x.toLocaleString('en-US');
const env = { account: '111111111111', region: 'us-east-1' };

/** A processor of `props` in a stack of its own, with its own network. */
function processor(props: BatchOcrProcessorProps = {}): BatchOcrProcessor {
  const stack = new Stack(new App(), 'Cost', { env });
  return new BatchOcrProcessor(stack, 'Ocr', props);
}

/** An example app's fixed monthly cost: its networks' estimates, the fixed resources elsewhere in it, the services' tasks. */
export function exampleFixedCost(name: string): { items: CostLineItem[]; totalUsd: number } {
  const app = new App();
  loadExample(name)(app);
  const all: IConstruct[] = app.node.findAll();
  const networks = all.filter((c): c is CostOptimizedVpc => c instanceof CostOptimizedVpc);
  const services = all.filter((c): c is OcrServiceCluster => c instanceof OcrServiceCluster);
  const items: CostLineItem[] = [];
  for (const n of networks) {
    for (const i of n.estimateMonthlyCost(0).lineItems) {
      if (i.monthlyUsd > 0) items.push({ ...i, item: `${n.node.id}: ${i.item}` });
    }
  }
  for (const s of services) {
    for (const i of s.estimateMonthlyCost().lineItems.filter((l) => l.unit === 'task-hours')) items.push({ ...i, item: `${s.node.id}: ${i.item}` });
  }
  // every other construct at the top of each stack, each under its own name
  for (const stack of app.node.children) {
    for (const child of stack.node.children) {
      if (networks.includes(child as CostOptimizedVpc)) continue;
      for (const i of fixedResourceLineItems(child, networks)) items.push({ ...i, item: `${child.node.id}: ${i.item}` });
    }
  }
  return { items, totalUsd: Math.round(items.reduce((sum, i) => sum + i.monthlyUsd, 0) * 100) / 100 };
}

function lineItemRows(items: CostLineItem[]): string[] {
  return items.map((i) => `| ${i.item} | ${count(i.quantity)} ${i.unit} | ${usd(i.unitPriceUsd, i.unitPriceUsd < 0.1 ? 4 : 2)} | ${usd(i.monthlyUsd)} |`);
}

/** Where Textract costs less per document than the per-document figures, in words. */
function textractCheaper(x86: BatchOcrCostEstimate, arm: BatchOcrCostEstimate): string {
  const cases: string[] = [];
  const rows: Array<[string, DocumentCostEstimate, DocumentCostEstimate]> = [
    ...x86.perThousandDocuments.map((e, i): [string, DocumentCostEstimate, DocumentCostEstimate] => [`${e.shape.name}s`, e, arm.perThousandDocuments[i]]),
    ['1-page scans alone in a task', x86.onePageScanAlone, arm.onePageScanAlone],
  ];
  for (const [label, a, b] of rows) {
    const columns = [['x86 on demand', a.allInUsd], ['x86 Spot', a.allInSpotUsd], ['ARM64 on demand', b.allInUsd], ['ARM64 Spot', b.allInSpotUsd]] as const;
    const dearer = columns.filter(([, v]) => v > a.textractUsd).map(([c]) => c);
    if (dearer.length) cases.push(`${label} on ${dearer.join(' and ')}`);
  }
  const perDocument = cases.length ? `Per document, Textract is cheaper for ${cases.join('; ')}` : 'Per document, Textract is cheaper for none of these';
  return `${perDocument}; with the fixed monthly cost counted, it is cheaper below the volumes in "Fixed costs against volume".`;
}

export function renderCostDoc(): string {
  const x86 = processor().estimateMonthlyCost();
  const arm = processor({ cpuArchitecture: ecs.CpuArchitecture.ARM64 }).estimateMonthlyCost();
  const options = documentCostOptions({});
  const overhead = taskOverhead({});
  const nativeOverhead = taskOverhead({ nativeTesseract: true });
  const pages = costPer1000Pages({ vcpu: options.vcpu, memoryGib: options.memoryGib });
  const armPages = costPer1000Pages({ vcpu: options.vcpu, memoryGib: options.memoryGib, arm64: true });
  const lines: string[] = [];
  const push = (...l: string[]) => lines.push(...l);

  push('# Cost', '',
    '<!-- Generated by `npx projen docs:cost` (build-tools/cost-doc.ts) from the constructs\' estimates; do not edit by hand. -->', '',
    'What OCR with these constructs costs in us-east-1, from the same functions as `estimateMonthlyCost()` on',
    '`BatchOcrProcessor`, `OcrServiceCluster` and `CostOptimizedVpc`. A configuration has a fixed monthly cost',
    '(network endpoints, keys, alarms, dashboards, a load balancer and tasks kept running), and each document',
    'an all-in cost: the Fargate time of its pages, its share of the task it runs in, and its requests.', '');

  // ---------- per document ----------
  push('## Per 1,000 documents, all in', '',
    `BatchOcrProcessor with its defaults (${options.vcpu} vCPU, ${options.memoryGib} GiB per task, tesseract.js), documents packed into array children`,
    `by their bytes: a child takes documents until they reach ${DEFAULT_TARGET_BYTES_PER_CHILD / 1024 / 1024} MiB, at most ${DEFAULT_MAX_DOCUMENTS_PER_CHILD}. The figures assume documents`,
    'arrive together (a job of many) or are gathered into array jobs by the gathering window, so every task is full;',
    'the row "alone in a task" is what a document pays when it runs by itself. Fargate Spot at a typical',
    `${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount. ARM64 (Graviton) assumes the x86 throughput: Graviton's has not been measured.`, '',
    '| document (assumed size) | documents per task | x86 on demand | x86 Spot | ARM64 on demand | ARM64 Spot | Textract DetectDocumentText |',
    '|---|---:|---:|---:|---:|---:|---:|');
  const row = (label: string, a: DocumentCostEstimate, b: DocumentCostEstimate) =>
    `| ${label} | ${count(a.documentsPerTask)} | ${usd(a.allInUsd, 3)} | **${usd(a.allInSpotUsd, 3)}** | ${usd(b.allInUsd, 3)} | ${usd(b.allInSpotUsd, 3)} | ${usd(a.textractUsd)} |`;
  x86.perThousandDocuments.forEach((e, i) => push(row(`${e.shape.name} (${count(Math.round(e.shape.bytes / 1000))} KB)`, e, arm.perThousandDocuments[i])));
  push(row('1-page scan alone in a task (not gathered)', x86.onePageScanAlone, arm.onePageScanAlone));
  push(`| per 1,000 scanned pages of long documents: OCR time only, no start-up or requests | | ${usd(pages.fargateUsd, 3)} | ${usd(pages.fargateSpotUsd, 3)} | ${usd(armPages.fargateUsd, 3)} | ${usd(armPages.fargateSpotUsd, 3)} | ${usd(TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD)} |`);
  const one = x86.perThousandDocuments[0];
  push('',
    `Of the ${usd(one.allInSpotUsd, 3)} for 1,000 one-page scans on x86 Spot, ${usd(one.fargateSpotUsd, 3)} is Fargate time and ${usd(one.requestsUsd, 3)} requests`,
    '(API Gateway, Lambda, S3, DynamoDB, CloudWatch Logs, counted as if each document were its own API request: a job of many',
    `documents costs less). ${textractCheaper(x86, arm)}`, '');

  // ---------- task overhead ----------
  push('## What a task costs before its first document', '',
    'Fargate bills a task from the start of its image pull until it stops, per second, with a one-minute minimum',
    '(AWS Fargate pricing page). Every task pulls the whole image, as Fargate caches none.', '',
    '| | tesseract.js | native Tesseract | source |',
    '|---|---:|---:|---|',
    `| image, compressed | ${overhead.imageCompressedMegabytes} MB | ${nativeOverhead.imageCompressedMegabytes} MB | base image ${(MEASURED_IMAGE.baseImageCompressedBytes / 1e6).toFixed(1)} MB${MEASURED_IMAGE.baseImageIsStandIn ? ' (measured on the image build\'s Debian 12 stand-in for `node:24-bookworm-slim`, with the same Node binary: the published image could not be pulled where this was measured)' : ''}, worker layers ${(MEASURED_IMAGE.tesseractJsLayersCompressedBytes / 1e6).toFixed(1)} / ${(MEASURED_IMAGE.nativeTesseractLayersCompressedBytes / 1e6).toFixed(1)} MB: \`npm run worker:image -- --sizes\`, ${MEASURED_IMAGE.date} ([bench/image-sizes.json](../assets/ocr-worker/bench/image-sizes.json)) |`,
    `| image pull | ${overhead.pullSeconds} s | ${nativeOverhead.pullSeconds} s | at an assumed ${ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND} MB/s: AWS publishes no rate; published task starts range from about 7 MB/s to 50 MB/s (see \`ASSUMED_IMAGE_PULL_MEGABYTES_PER_SECOND\`) |`,
    `| worker start until its first page | ${MEASURED_START_UNTIL_FIRST_PAGE_SECONDS.tesseractJs} s | ${MEASURED_START_UNTIL_FIRST_PAGE_SECONDS.nativeTesseract} s | measured: \`npm run bench:startup\` in the worker, the median of every run on record, latest ${MEASURED_START_UNTIL_FIRST_PAGE_SECONDS.date} ([bench/startup-history.jsonl](../assets/ocr-worker/bench/startup-history.jsonl)) |`,
    `| billed at least | ${FARGATE_MINIMUM_BILLED_SECONDS} s | ${FARGATE_MINIMUM_BILLED_SECONDS} s | AWS Fargate pricing |`, '',
    `So a one-page scan alone in a task is billed ${FARGATE_MINIMUM_BILLED_SECONDS} s for about ${x86.onePageScanAlone.taskSeconds} s of work; ${count(one.documentsPerTask)} of them in one task share about ${Math.round(one.taskSeconds)} s.`, '');

  // ---------- fixed costs ----------
  push('## Fixed monthly costs', '',
    'Found among the resources each configuration creates: every customer-managed KMS key, CloudWatch alarm and',
    'dashboard, secret, load balancer and cache node, the interface endpoints of each CostOptimizedVpc, and the tasks',
    'an OcrServiceCluster keeps running. Prices: the network\'s from', `${PRICE_TABLE_SOURCE} (recorded ${PRICE_TABLE_DATE}); the rest from ${FIXED_PRICE_SOURCES} (recorded ${FIXED_PRICE_DATE}).`, '');
  const service = new OcrServiceCluster(new Stack(new App(), 'Cost', { env }), 'Ocr').estimateMonthlyCost();
  const constructs: Array<[string, CostLineItem[], number]> = [
    ['`CostOptimizedVpc` (defaults, 2 AZs)', new CostOptimizedVpc(new Stack(new App(), 'Cost', { env }), 'Network', { maxAzs: 2 }).estimateMonthlyCost(0).lineItems.filter((i) => i.monthlyUsd > 0), 0],
    ['`BatchOcrProcessor` (defaults, with its own network)', [...(x86.network?.lineItems ?? []).filter((i) => i.monthlyUsd > 0 && i.unit !== 'GB'), ...x86.lineItems], x86.fixedMonthlyUsd],
    ['`OcrServiceCluster` (defaults, with its own network): the worker kept warm', [...(service.network?.lineItems ?? []).filter((i) => i.monthlyUsd > 0 && i.unit !== 'GB'), ...service.lineItems], service.fixedMonthlyUsd],
  ];
  for (const [name, items, total] of constructs) {
    const sum = total || Math.round(items.reduce((s, i) => s + i.monthlyUsd, 0) * 100) / 100;
    push(`### ${name}: ${usd(sum)} a month`, '', '| item | quantity | unit price | per month |', '|---|---:|---:|---:|', ...lineItemRows(items), '');
  }
  for (const name of exampleNames()) {
    const example = exampleFixedCost(name);
    push(`### Example app [\`examples/${name}\`](../examples/${name}/app.ts): ${usd(example.totalUsd)} a month`, '',
      '| item | quantity | unit price | per month |', '|---|---:|---:|---:|', ...lineItemRows(example.items), '');
  }

  // ---------- volume ----------
  push('## Fixed costs against volume', '',
    `For the default BatchOcrProcessor with its own network (${usd(x86.fixedMonthlyUsd)} a month) on x86 Spot:`, '',
    '| document | fixed cost equals the per-document cost at | Textract is cheaper, all in, below |',
    '|---|---:|---:|');
  for (const b of x86.breakEven) {
    push(`| ${b.shape} | ${count(b.fixedEqualsPerDocumentCostAtDocumentsPerMonth)} documents a month | ${b.textractCheaperBelowDocumentsPerMonth === undefined ? 'never' : `${count(b.textractCheaperBelowDocumentsPerMonth)} documents a month`} |`);
  }
  push('', 'A network shared with other workloads, or endpoints in one AZ, moves these volumes down; see [cost-optimized-vpc.md](cost-optimized-vpc.md).', '');

  // ---------- warm worker ----------
  const extraFixed = service.fixedMonthlyUsd - x86.fixedMonthlyUsd;
  const packedPerDoc = one.fargateSpotUsd / 1000;
  const alonePerDoc = x86.onePageScanAlone.fargateSpotUsd / 1000;
  const packedBreakEven = Math.round(extraFixed / packedPerDoc);
  const aloneBreakEven = Math.round(extraFixed / alonePerDoc);
  const capacity = service.scannedPagesPerMonthAtMinCapacity;
  push('## A worker kept warm: OcrServiceCluster against Batch', '',
    `The default OcrServiceCluster costs ${usd(service.fixedMonthlyUsd)} a month before any document, ${usd(extraFixed)} more than the default`,
    'BatchOcrProcessor; a document then adds only its requests (assumed equal to Batch\'s) while its task keeps up, about',
    `${count(capacity)} scanned pages a month. Against one-page scans on Batch with Fargate Spot, the warm worker is cheaper above`,
    `**${count(packedBreakEven)} documents a month** when Batch packs them${packedBreakEven > capacity ? ' — more than its task can OCR, so at its default size it never is' : ''},`,
    `and above **${count(aloneBreakEven)} documents a month** against documents that each run alone in a Batch task${aloneBreakEven > capacity ? ' (also beyond its capacity)' : ''}.`,
    'Choose it for latency (no task start per request), not for price.', '');

  // ---------- sources ----------
  push('## Sources, dates and what is left out', '',
    `- Fargate: Linux/x86 and Linux/ARM on-demand rates in us-east-1, recorded ${FARGATE_PRICE_DATE}; Fargate Spot has no fixed price and is`,
    `  priced at a typical ${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount. Fargate Spot runs Linux ARM64 tasks on platform version 1.4.0 ([decisions](decisions.md#cpu-architecture-of-the-worker)).`,
    `- Requests: API Gateway REST, Lambda (Arm), S3 Standard, DynamoDB on-demand, CloudWatch Logs ingestion, recorded ${REQUEST_PRICE_DATE} (\`REQUEST_PRICES\`).`,
    `- Textract: DetectDocumentText, ${usd(TEXTRACT_DETECT_TEXT_PER_1000_PAGES_USD)} per 1,000 pages for the first million pages a month.`,
    '- Throughput: the worker benchmark\'s median (scanned pages at 300 dpi; pages with a text layer at the benchmark\'s text-layer speed).',
    '  A Fargate vCPU need not match the benchmark\'s machine: measure your own documents and pass `pagesPerVcpuSecond`.',
    `- Document sizes are assumptions (${DOCUMENT_SHAPES.map((s) => `${s.name} ${count(Math.round(s.bytes / 1000))} KB`).join(', ')}): smaller documents share tasks more, larger ones less.`,
    '- Left out: data transfer out of AWS, S3 storage of documents and results, Load Balancer capacity units, flow-log',
    '  ingestion (per GB of logs), Spot interruptions and other retried tasks, an account\'s free tiers (the first three',
    '  dashboards, Lambda\'s and DynamoDB\'s free requests), taxes. Check the AWS Pricing Calculator before you commit to a design.', '');
  return lines.join('\n');
}

/** The README's few lines on cost: the headline figures, linking docs/cost.md. */
export function renderCostHeadline(): string {
  const e = processor().estimateMonthlyCost();
  const [one, ten, digital] = e.perThousandDocuments;
  return [
    '`estimateMonthlyCost()` on `BatchOcrProcessor`, `OcrServiceCluster` and `CostOptimizedVpc` returns what a',
    'configuration costs each month before any document and, for BatchOcrProcessor, what 1,000 documents cost',
    `all in (task start-up and requests included). The default BatchOcrProcessor in us-east-1 costs **${usd(e.fixedMonthlyUsd)} a month**`,
    `fixed (its network's endpoints in two AZs and key, a dashboard, alarms), then on Fargate Spot about **${usd(one.allInSpotUsd, 2)} per 1,000`,
    `one-page scans**, ${usd(ten.allInSpotUsd, 2)} per 1,000 ten-page scans and ${usd(digital.allInSpotUsd, 2)} per 1,000 hundred-page born-digital PDFs, against`,
    `Amazon Textract's ${usd(one.textractUsd)}, ${usd(ten.textractUsd)} and ${usd(digital.textractUsd)}. These hold when documents arrive together or are gathered into shared`,
    `tasks; a one-page scan alone in a task costs ${usd(e.onePageScanAlone.allInSpotUsd, 2)} per 1,000 on Spot. Below about ${count(e.breakEven[0].textractCheaperBelowDocumentsPerMonth ?? 0)} one-page`,
    'documents a month, the fixed cost makes Textract cheaper. Every figure, its source and date, every construct\'s and example',
    'app\'s fixed costs, and what the estimate leaves out: [docs/cost.md](docs/cost.md).',
  ].join('\n');
}

if (require.main === module) {
  fs.writeFileSync(COST_DOC, renderCostDoc());
  fs.writeFileSync(README, replaceBetween(fs.readFileSync(README, 'utf8'), HEADLINE_START, HEADLINE_END, renderCostHeadline()));
  console.log(`wrote ${path.relative(path.join(__dirname, '..'), COST_DOC)}`);
}
