import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ApiGatewayCloudWatchRole } from './api-logging-role';
import { DocumentCostEstimate, TaskOverheadEstimate } from './document-cost';
import { PageCostEstimate } from './pricing';
import { HandlerProps, MonitoringProps, OcrWorkerProps } from '../common/shared-props';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { CostLineItem, NetworkCostEstimate } from '../cost-optimized-vpc/pricing';

/**
 * How API callers authenticate. The authenticated identity is also the owner of the jobs a caller
 * submits: only the owner reads a job and its results.
 */
export enum ApiAuthorization {
  /** AWS Signature Version 4 with IAM credentials (grant with `grantSubmit`); the caller is the IAM user or role. */
  IAM = 'IAM',
  /** A JWT from a Cognito user pool (`userPool`); the caller is the token's `sub`. */
  COGNITO = 'COGNITO',
}

/** Automatic submission of objects created in the input bucket. */
export interface S3TriggerOptions {
  /** Only keys starting with this. @default - any key */
  readonly prefix?: string;
  /** Only keys ending with this (e.g. '.pdf'). @default - any key */
  readonly suffix?: string;
  /** Objects per job (SQS batch size, 1-10000). @default 100 */
  readonly batchSize?: number;
  /** How long to gather objects into one job (0-300 s). @default Duration.seconds(60) */
  readonly maxBatchingWindow?: Duration;
  /**
   * What each object gets besides its JSON result, as the `outputs` option of `POST /jobs` does:
   * a searchable PDF, hOCR, Amazon Textract's GetDocumentTextDetection response.
   * @default - the JSON result only
   */
  readonly outputs?: DocumentOutput[];
  /** Word and line boxes in each JSON result (the `geometry` option of `POST /jobs`). @default true */
  readonly geometry?: boolean;
}

/** A document's output beside its JSON result, written under `results/{jobId}/`. */
export enum DocumentOutput {
  /** The JSON result (always written). */
  JSON = 'json',
  /** A searchable PDF: the original PDF, or the images, with an invisible text layer on the OCR'd pages. */
  SEARCHABLE_PDF = 'pdf',
  /** hOCR, Tesseract's HTML layout format. */
  HOCR = 'hocr',
  /** Amazon Textract's GetDocumentTextDetection response for the document. */
  TEXTRACT = 'textract',
}

/**
 * Gathering of requests that name one document: instead of a Batch job each, they wait in a queue
 * for a short window and are submitted together as one job, packed into array children like any
 * list (`targetBytesPerChild`). Each request keeps its own job id and `GET /jobs/{jobId}` status,
 * which shows its own document only. A request with a `password` is never gathered.
 */
export interface DocumentGathering {
  /** Gather single-document requests; `false` submits each as a job of its own at once. @default true */
  readonly enabled?: boolean;
  /**
   * Longest a request waits for others before its job is submitted (1-300 s; the SQS event
   * source's batching window). It adds at most this much to a document's latency.
   * @default Duration.seconds(30)
   */
  readonly window?: Duration;
  /**
   * Most requests in one gathered job (1-10000, and at most `maxDocumentsPerJob`; the SQS event
   * source's batch size): the job is submitted as soon as this many wait, before the window ends.
   * @default 1000
   */
  readonly maxDocuments?: number;
}

/**
 * Props of a BatchOcrProcessor. The worker's image and engine (`OcrWorkerProps`), logs and alarms
 * (`MonitoringProps`) and the handlers' instruction set (`HandlerProps`) are the props every
 * construct of the library shares.
 */
export interface BatchOcrProcessorProps extends OcrWorkerProps, MonitoringProps, HandlerProps {
  // ---------- network ----------
  /** Network to run tasks in (its endpoints are added as needed). Not with `vpc`. @default - a CostOptimizedVpc is created */
  readonly network?: CostOptimizedVpc;
  /** An existing VPC instead of a CostOptimizedVpc: it must give tasks a route to ECR, CloudWatch Logs and S3. Not with `network`. @default - see `network` */
  readonly vpc?: ec2.IVpc;
  /** Subnets of `vpc` for the tasks. Only with `vpc`. @default - the VPC's private subnets */
  readonly vpcSubnets?: ec2.SubnetSelection;

  // ---------- compute ----------
  /**
   * Run on Fargate Spot. A Spot interruption is retried (see the job definition's retry rules).
   * @default true
   */
  readonly spot?: boolean;
  /**
   * Add an on-demand Fargate compute environment after the Spot one. Batch only places jobs there
   * when the first environment is at its `maxvCpus`: it is extra capacity, NOT a fallback for Spot
   * shortage or reclaim. Only with `spot`.
   * @default false
   */
  readonly onDemandOverflow?: boolean;
  /** Most vCPUs the compute environment runs at once (each environment with `onDemandOverflow`). @default 16 */
  readonly maxvCpus?: number;
  /** vCPUs per task: 0.25, 0.5, 1, 2, 4, 8 or 16. @default 2 */
  readonly vcpu?: number;
  /** Memory per task, within Fargate's range for `vcpu`. @default Size.gibibytes(4) */
  readonly memory?: Size;
  /** Ephemeral storage per task, 21-200 GiB. @default Size.gibibytes(21) */
  readonly ephemeralStorage?: Size;
  /** Time limit of one job attempt (array jobs: of each child). @default Duration.hours(2) */
  readonly jobTimeout?: Duration;
  /** Attempts per job (1-10); only infrastructure failures are retried. @default 3 */
  readonly retryAttempts?: number;
  /** Documents processed in parallel per task (`OCR_WORKERS`), 1-64. @default - one per vCPU (at least 1) */
  readonly workersPerTask?: number;
  /**
   * How long a job may wait RUNNABLE at the head of the queue for capacity before Batch cancels
   * it (600-86400 s). @default Duration.hours(1)
   */
  readonly capacityWaitLimit?: Duration;
  /**
   * How long a job may wait RUNNABLE when no compute environment can ever run it (maxvCpus too low
   * or resource requirements no environment meets) before Batch cancels it (600-86400 s).
   * @default Duration.minutes(10)
   */
  readonly misconfigurationWaitLimit?: Duration;

  // ---------- worker image (besides `image` and `cpuArchitecture`) ----------
  /** ECR repository of the worker image (the case EcrBatchAutoUpdater serves). Not with `image` or `createRepository`. @default - see `image` */
  readonly repository?: ecr.IRepository;
  /** Create an ECR repository (scan on push, lifecycle policy) and run its `imageTag`. @default false */
  readonly createRepository?: boolean;
  /** Tag of the image in `repository` or the created repository. @default 'latest' */
  readonly imageTag?: string;

  // ---------- OCR options (besides the worker's) ----------
  /** Default rendering resolution, 72-600. @default 300 */
  readonly ocrDpi?: number;
  /** Default page limit per document. @default - no limit */
  readonly maxPagesPerDocument?: number;
  /** Documents per request (1-100000). Above 10,000 a job is chunked (several documents per array child). @default 10000 */
  readonly maxDocumentsPerJob?: number;
  /**
   * Bytes of input one array child takes before the next child starts (1 MiB to 100 GiB). A job's
   * documents are shared out among its children in submit order by their sizes in S3, so that each
   * Fargate task, billed from its image pull with a one-minute minimum, reads enough to be worth
   * starting; a document larger than this gets a child of its own. When a job would need more than
   * Batch's 10,000 children, the target grows until it fits.
   * @default Size.mebibytes(64)
   */
  readonly targetBytesPerChild?: Size;
  /**
   * Most documents one array child reads, however small they are (1-10000), so that a child of many
   * tiny documents does not run for hours; raised when a job would need more than 10,000 children.
   * `1` gives every document a task of its own.
   * @default 1000
   */
  readonly maxDocumentsPerChild?: number;

  // ---------- data ----------
  /** Bucket the documents are read from. @default - a secure bucket is created */
  readonly inputBucket?: s3.IBucket;
  /** Bucket results (and manifests) are written to. @default - a secure bucket is created */
  readonly outputBucket?: s3.IBucket;
  /** Prefix of results in the output bucket, ending with '/'. @default 'results/' */
  readonly outputPrefix?: string;
  /** Results (and job records) expire after this long; created output bucket only. @default Duration.days(90) */
  readonly resultExpiration?: Duration;
  /**
   * Prefix under which `POST /uploads` URLs put documents, ending with '/'. Each caller gets its own
   * folder, `<uploadPrefix><caller-id>/`, that other callers can neither write to nor submit from.
   * @default 'uploads/'
   */
  readonly uploadPrefix?: string;
  /**
   * Prefixes of the input bucket that API callers may submit documents from, besides their own
   * uploads; each ends with '/', or '' for the whole bucket (keys under `uploadPrefix` still belong
   * to their uploader). A key outside them is refused with 403 before any S3 request.
   * @default - none: callers submit only what they uploaded through `POST /uploads`
   */
  readonly allowedInputPrefixes?: string[];
  /**
   * Scope `allowedInputPrefixes` to each caller: a caller may only name keys under
   * `<prefix><caller-id>/` of each prefix (e.g. `scans/AROAEXAMPLEID/` for the role with that unique id).
   * @default false
   */
  readonly callerScopedInput?: boolean;
  /** Customer-managed key for buckets, tables, logs and queues. @default - AWS managed encryption */
  readonly encryptionKey?: kms.IKey;
  /** Removal policy of buckets and tables. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;

  // ---------- API ----------
  /** Authentication of the API; the authenticated caller owns the jobs it submits. @default ApiAuthorization.IAM */
  readonly authorization?: ApiAuthorization;
  /** User pool for ApiAuthorization.COGNITO. @default - none */
  readonly userPool?: cognito.IUserPool;
  /**
   * Also require an API key of the construct's usage plan (`x-api-key` header), to meter clients and
   * throttle them per key. For metering only: callers still authenticate with `authorization`, and
   * the key gives no access by itself (API Gateway advises against API keys for authentication).
   * @default false
   */
  readonly apiKeyRequired?: boolean;
  /** Stage steady-state requests per second. @default 10 */
  readonly throttlingRateLimit?: number;
  /** Stage burst. @default 20 */
  readonly throttlingBurstLimit?: number;
  /**
   * Who provides the account's API Gateway CloudWatch Logs role, without which the stage's logging
   * fails to deploy. By default the stack sets one only where none is set yet, and never unsets it.
   * @default ApiGatewayCloudWatchRole.SET_IF_MISSING
   */
  readonly apiGatewayCloudWatchRole?: ApiGatewayCloudWatchRole;
  /** Execution logging (ERROR level) on the stage; access logs are always on. @default true */
  readonly executionLogging?: boolean;
  /**
   * Origins whose browser apps may call the API (CORS): `https://host[:port]` each, or `['*']` for
   * any. Preflights and every handler response (errors included) carry the CORS headers for an
   * allowed origin. @default - no CORS
   */
  readonly corsAllowOrigins?: string[];
  /** Make the API private, reachable only through these execute-api VPC endpoints. @default - a regional API */
  readonly privateApiEndpoints?: ec2.IInterfaceVpcEndpoint[];
  /** ARN of a WAFv2 web ACL (REGIONAL) to associate with the stage. @default - none */
  readonly webAclArn?: string;
  /** Lifetime of pre-signed result and upload URLs (1 min-12 h). @default Duration.minutes(15) */
  readonly presignedUrlExpiry?: Duration;
  /**
   * SNS topics that a StartDocumentTextDetection on the API (IAM authorization) may name in
   * `NotificationChannel`: when the request's document is done, the job state handler publishes
   * Amazon Textract's completion message to it, with its own role (granted `sns:Publish` on exactly
   * these topics, and the use of a topic's KMS key: import an encrypted topic with
   * `Topic.fromTopicAttributes` and its `keyArn`). Standard topics in the stack's region. The channel's
   * `RoleArn` must be an IAM role ARN, as Textract requires, but is not assumed. A Start naming another
   * topic is refused.
   * @default - none: a Start with NotificationChannel is refused
   */
  readonly textractNotificationTopics?: sns.ITopic[];
  /**
   * Buckets besides the output bucket that a StartDocumentTextDetection on the API may name in
   * `OutputConfig`: when the request's document is done, its GetDocumentTextDetection response
   * pages are written to `<S3Prefix>/<JobId>/1`, `/2`, ... there, by the job state handler (granted
   * `s3:PutObject` on these buckets, and `kms:GenerateDataKey` on a bucket's key when the bucket
   * object has one: import an SSE-KMS bucket with `Bucket.fromBucketAttributes` and its
   * `encryptionKey`). Buckets in the stack's region. The output bucket is always allowed, outside
   * `outputPrefix`.
   * @default - none: only the output bucket
   */
  readonly textractOutputBuckets?: s3.IBucket[];

  // ---------- S3 trigger, handlers, operations ----------
  /** Submit objects created in the input bucket automatically (via EventBridge and SQS). @default - off */
  readonly s3Trigger?: S3TriggerOptions;
  /**
   * Gather `POST /jobs` requests that name one document into shared Batch jobs (see
   * `DocumentGathering`), so that a stream of small documents shares Fargate tasks, each billed for
   * at least a minute, instead of starting one per document.
   * @default - on: a 30-second window, up to 1,000 documents per job
   */
  readonly gathering?: DocumentGathering;
  /**
   * Run the handlers in the processor's VPC, in the tasks' subnets; with the construct's own
   * network, the endpoints they call are added to it.
   * @default false
   */
  readonly handlersInVpc?: boolean;
  /** Create a CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
  /** Namespace of the custom metrics (handlers and worker). @default 'CdkOcrConstructs' */
  readonly metricsNamespace?: string;
  /**
   * Worker throughput for the cost estimate, pages per vCPU-second (worker benchmark, scanned pages at 300 dpi).
   * @default - the benchmark's median for the `ocrEngine` in use: 0.23 with tesseract.js, 0.36 with native Tesseract
   */
  readonly pagesPerVcpuSecond?: number;
}

/** Where a fixed monthly cost stops mattering, and where Textract is cheaper, for one document shape. */
export interface VolumeBreakEven {
  /** The document shape, e.g. `1-page scan`. */
  readonly shape: string;
  /** Documents per month at which the fixed monthly cost equals their all-in per-document cost. */
  readonly fixedEqualsPerDocumentCostAtDocumentsPerMonth: number;
  /**
   * Documents per month below which Amazon Textract DetectDocumentText (no fixed cost) is cheaper
   * than this configuration, fixed cost included.
   * @default - undefined when Textract costs less per document at any volume
   */
  readonly textractCheaperBelowDocumentsPerMonth?: number;
}

/** Fixed monthly cost and the all-in cost per document and per page of a BatchOcrProcessor. */
export interface BatchOcrCostEstimate {
  /** Region whose prices were used. */
  readonly region: string;
  /** What the configuration costs each month with no documents (network fixed part + lineItems). */
  readonly fixedMonthlyUsd: number;
  /**
   * This construct's own fixed items, found among the resources it created: KMS keys, alarms,
   * dashboards, secrets. The network's are in `network`.
   */
  readonly lineItems: CostLineItem[];
  /**
   * The network part, when the construct created its CostOptimizedVpc.
   * @default - undefined when the network is shared or the user's
   */
  readonly network?: NetworkCostEstimate;
  /** OCR time of 1,000 scanned pages in long documents on Fargate, Fargate Spot and Textract (no task overhead, no requests). */
  readonly perThousandPages: PageCostEstimate;
  /** 1,000 documents of each shape (1-page scans, 10-page scans, 100-page born-digital PDFs), all in: tasks shared as the packer shares them, overhead and requests included. */
  readonly perThousandDocuments: DocumentCostEstimate[];
  /** 1,000 one-page scans that each run alone in a task (not gathered): what packing saves. */
  readonly onePageScanAlone: DocumentCostEstimate;
  /** What each task costs before its first document: image pull and worker start-up. */
  readonly taskOverhead: TaskOverheadEstimate;
  /** For each shape: the volume at which the fixed cost equals the per-document cost, and below which Textract is cheaper. */
  readonly breakEven: VolumeBreakEven[];
  /** What the figures include, assume and leave out. */
  readonly notes: string[];
}
