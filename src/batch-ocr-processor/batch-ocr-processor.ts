import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, Duration, Names, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiGatewayCloudWatchRole, ApiLoggingRole } from './api-logging-role';
import { JobStateFunction } from './job-state-function';
import { costPer1000Pages, DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, PageCostEstimate, TYPICAL_FARGATE_SPOT_DISCOUNT } from './pricing';
import { LIMITS, submitRequestSchema, uploadRequestSchema } from './request';
import { S3IngestFunction } from './s3-ingest-function';
import { StatusFunction } from './status-function';
import { SubmitFunction } from './submit-function';
import { UploadFunction } from './upload-function';
import { PropChecker } from '../common/errors';
import { fargateSizeProblem } from '../common/fargate-sizes';
import { createHandler, Handler } from '../common/handler';
import { imagePullProblem, subnetsWithoutInternet } from '../common/image-pull';
import { allowEventBridgeToUseKey } from '../common/key-policy';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';
import { createSecureBucket } from '../common/secure-bucket';
import { bundledImageLanguageProblem, bundledImageRendererProblem, bundledWorkerLanguages, defaultPdfRenderer, isArm64, OcrEngine, PdfRenderer, WORKER_DIRECTORY, workerImageAsset } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { CostLineItem, NetworkCostEstimate } from '../cost-optimized-vpc/pricing';

const CONSTRUCT = 'BatchOcrProcessor';

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
}

/** Props of a BatchOcrProcessor. */
export interface BatchOcrProcessorProps {
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
  /** Documents processed in parallel per task (OCR_WORKERS). @default - one per vCPU (at least 1) */
  readonly workerPoolSize?: number;
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

  // ---------- worker image ----------
  /** The worker image. Not with `repository` or `createRepository`. @default - built from the bundled worker (assets/ocr-worker) */
  readonly image?: ecs.ContainerImage;
  /** ECR repository of the worker image (the case EcrBatchAutoUpdater serves). Not with `image` or `createRepository`. @default - see `image` */
  readonly repository?: ecr.IRepository;
  /** Create an ECR repository (scan on push, lifecycle policy) and run its `imageTag`. @default false */
  readonly createRepository?: boolean;
  /** Tag of the image in `repository` or the created repository. @default 'latest' */
  readonly imageTag?: string;
  /**
   * CPU architecture of the jobs; the bundled image is built for it. ARM64 (Graviton) is ~20% cheaper
   * per vCPU-hour on Fargate but runs on-demand only: Fargate Spot takes X86_64 Linux tasks only, so
   * ARM64 needs `spot: false` (an ARM64 job on a Spot-only queue would block it).
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;

  // ---------- OCR options ----------
  /**
   * OCR backend of the worker (`OCR_ENGINE`); the bundled image is built for it. `NATIVE_TESSERACT`
   * reads the same model to the same text, with less time per page and a larger image. With your own
   * `image` or `repository`, the image must contain it (and, with `NATIVE_TESSERACT`, the `pdfRenderer`).
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
   * Default tesseract languages of a job. With the bundled image, only languages it has data for
   * (`eng`; others fail at synth, and requests naming others get a 400); other languages need an
   * `image` or `repository` whose worker has their `@tesseract.js-data` packages.
   * @default ['eng']
   */
  readonly ocrLanguages?: string[];
  /** Default rendering resolution, 72-600. @default 300 */
  readonly ocrDpi?: number;
  /** Default page limit per document. @default - no limit */
  readonly maxPagesPerDocument?: number;
  /** Time limit per document. @default Duration.minutes(5) */
  readonly documentTimeout?: Duration;
  /** Largest input document accepted, bytes. @default 104857600 (100 MiB) */
  readonly maxDocumentBytes?: number;
  /** Documents per request (1-100000). Above 10,000 a job is chunked (several documents per array child). @default 10000 */
  readonly maxDocumentsPerJob?: number;
  /** Documents per array child (1-1000). @default 1 */
  readonly documentsPerChild?: number;

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
  /** Retention of the worker's and handlers' logs. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;

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

  // ---------- S3 trigger, handlers, operations ----------
  /** Submit objects created in the input bucket automatically (via EventBridge and SQS). @default - off */
  readonly s3Trigger?: S3TriggerOptions;
  /** Instruction set of the handlers. @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** Run the handlers in the VPC (adds the endpoints they call). @default false */
  readonly lambdaVpc?: boolean;
  /** Topic the alarms notify. @default - no action (the alarms are public properties: add your own) */
  readonly alarmTopic?: sns.ITopic;
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

/** Fixed monthly cost and per-page cost of a BatchOcrProcessor. */
export interface BatchOcrCostEstimate {
  /** Region whose prices were used. */
  readonly region: string;
  /** What the configuration costs each month with no documents (network fixed part + lineItems). */
  readonly fixedMonthlyUsd: number;
  /** This construct's own fixed items (dashboard, alarms); the network's are in `network`. */
  readonly lineItems: CostLineItem[];
  /**
   * The network part, when the construct created its CostOptimizedVpc.
   * @default - undefined when the network is shared or the user's
   */
  readonly network?: NetworkCostEstimate;
  /** Cost of 1,000 pages on Fargate, Fargate Spot and Textract. */
  readonly perThousandPages: PageCostEstimate;
  /** What the figures include and leave out. */
  readonly notes: string[];
}

/**
 * OCR on AWS Batch Fargate behind an API and an S3 front door.
 *
 * `POST /jobs` validates a document or a list of S3 keys (request model and handler), checks they
 * exist and submits ONE Batch job (an array job for a list, the list in a manifest object);
 * `GET /jobs/{jobId}` answers from a DynamoDB job record and the worker's result objects. Runs in a
 * CostOptimizedVpc (no NAT) by default, on Fargate Spot, with retries only for infrastructure
 * failures, dashboards and alarms.
 */
export class BatchOcrProcessor extends Construct {
  /** The network the tasks run in (created or passed in); undefined with `vpc`. */
  public readonly network?: CostOptimizedVpc;
  /** The VPC of the tasks. */
  public readonly vpc: ec2.IVpc;
  /** Security group of the worker tasks: no inbound, HTTPS out. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The Fargate (Spot by default) compute environment. */
  public readonly computeEnvironment: batch.FargateComputeEnvironment;
  /** The on-demand overflow compute environment (with `onDemandOverflow`). */
  public readonly onDemandComputeEnvironment?: batch.FargateComputeEnvironment;
  /** The job queue, with its RUNNABLE time-limit actions. */
  public readonly jobQueue: batch.JobQueue;
  /** The worker's job definition. */
  public readonly jobDefinition: batch.EcsJobDefinition;
  /** The job definition's name; jobs are submitted by name, so the newest ACTIVE revision runs. */
  public readonly jobDefinitionName: string;
  /** Role of the worker job: reads the input bucket, writes the output prefix. */
  public readonly jobRole: iam.Role;
  /** Task execution role: pulls the image, writes the worker's logs. */
  public readonly executionRole: iam.Role;
  /** Log group of the worker containers. */
  public readonly workerLogGroup: logs.LogGroup;
  /** The bundled worker image asset (default image only). */
  public readonly imageAsset?: ecr_assets.DockerImageAsset;
  /** The ECR repository of the worker image (`repository` or `createRepository`). */
  public readonly repository?: ecr.IRepository;
  /** Bucket the documents are read from. */
  public readonly inputBucket: s3.IBucket;
  /** Bucket results, summaries and manifests are written to. */
  public readonly outputBucket: s3.IBucket;
  /** Server access logs bucket of the created buckets. */
  public readonly accessLogsBucket?: s3.Bucket;
  /** Prefix of results in the output bucket. */
  public readonly outputPrefix: string;
  /** Job records: the source of truth for job state. */
  public readonly jobTable: dynamodb.Table;
  /** Powertools idempotency records of `POST /jobs`. */
  public readonly idempotencyTable: dynamodb.Table;
  /** The REST API. */
  public readonly api: apigw.RestApi;
  /** Access logs of the API stage. */
  public readonly apiAccessLogGroup: logs.LogGroup;
  /**
   * The role this stack created for the account's API Gateway CloudWatch Logs setting (not with
   * `ApiGatewayCloudWatchRole.EXISTING`). It is kept when the stack is deleted.
   */
  public readonly apiGatewayCloudWatchRole?: iam.IRole;
  /** The API key (with `apiKeyRequired`). */
  public readonly apiKey?: apigw.IApiKey;
  /** The usage plan of the API key (with `apiKeyRequired`). */
  public readonly usagePlan?: apigw.UsagePlan;
  /** Association of `webAclArn` with the stage. */
  public readonly webAclAssociation?: wafv2.CfnWebACLAssociation;
  /** Handler of `POST /jobs`. */
  public readonly submitFunction: lambda.Function;
  /** Handler of `GET /jobs/{jobId}`. */
  public readonly statusFunction: lambda.Function;
  /** Handler of `POST /uploads`. */
  public readonly uploadFunction: lambda.Function;
  /** Handler of the queue's Batch job state changes. */
  public readonly jobStateFunction: lambda.Function;
  /** EventBridge rule for the queue's Batch job state changes. */
  public readonly jobStateRule: events.Rule;
  /** Handler of the S3 trigger (with `s3Trigger`). */
  public readonly ingestFunction?: lambda.Function;
  /** Queue that batches S3 object-created events (with `s3Trigger`). */
  public readonly ingestQueue?: sqs.Queue;
  /** Dead-letter queue of `ingestQueue` (with `s3Trigger`). */
  public readonly ingestDeadLetterQueue?: sqs.Queue;
  /** EventBridge rule for objects created in the input bucket (with `s3Trigger`). */
  public readonly ingestRule?: events.Rule;
  /** The CloudWatch dashboard (unless `dashboard: false`). */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Alarm: a Batch job FAILED. */
  public readonly jobsFailedAlarm: cloudwatch.Alarm;
  /** Alarm: errors in any handler. */
  public readonly handlerErrorsAlarm: cloudwatch.Alarm;
  /** Alarm: the API answered with 5xx. */
  public readonly api5xxAlarm: cloudwatch.Alarm;
  /** Namespace and service dimension of the custom metrics. */
  public readonly metricsNamespace: string;
  /** Service dimension of the custom metrics (`service` for handlers, `Service` for the worker). */
  public readonly metricsService: string;

  private readonly props: BatchOcrProcessorProps;
  private readonly handlers: Handler[] = [];

  constructor(scope: Construct, id: string, props: BatchOcrProcessorProps = {}) {
    super(scope, id);
    this.props = props;
    validateProps(id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const key = props.encryptionKey;
    this.metricsNamespace = props.metricsNamespace ?? 'CdkOcrConstructs';
    this.metricsService = `BatchOcr-${Names.uniqueId(this).slice(-24)}`;
    this.outputPrefix = props.outputPrefix ?? 'results/';

    // ---------------- network ----------------
    let subnets: ec2.SubnetSelection | undefined;
    if (props.vpc) {
      this.vpc = props.vpc;
      subnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    } else {
      this.network = props.network ?? new CostOptimizedVpc(this, 'Network', { maxAzs: 2 });
      this.vpc = this.network.vpc;
      subnets = this.network.workloadSubnets;
      // Tasks pull from ECR and log to CloudWatch Logs (the Fargate defaults of the network) and
      // read/write S3 (gateway endpoint). Their EMF metrics travel in the logs.
      this.network.requireEndpoints(['ecr.api', 'ecr.dkr', 'logs', 's3'], 'BatchOcrProcessor tasks: image pull, logs, documents');
      if (props.lambdaVpc) {
        const services = ['batch', 'dynamodb', 's3', 'events', 'xray', 'logs'];
        if (key) services.push('kms');
        this.network.requireEndpoints(services, 'BatchOcrProcessor handlers in the VPC');
      }
    }

    // ---------------- data ----------------
    const created = (bucketId: string, purpose: string, rules?: s3.LifecycleRule[]) =>
      createSecureBucket(this, bucketId, {
        purpose, encryptionKey: key, removalPolicy, lifecycleRules: rules, accessLogsBucket: this.accessLogsBucket,
      });
    const resultExpiration = props.resultExpiration ?? Duration.days(90);
    if (props.inputBucket) {
      this.inputBucket = props.inputBucket;
    } else {
      const made = created('Input', 'OCR input documents');
      this.inputBucket = made.bucket;
      if (props.s3Trigger) {
        // Set on the resource itself: the L2 eventBridgeEnabled flag goes through a notifications
        // custom resource (an extra Lambda with an AWS managed policy) for the same setting.
        (made.bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      }
      this.accessLogsBucket = made.accessLogsBucket;
    }
    if (props.outputBucket) {
      this.outputBucket = props.outputBucket;
    } else {
      const made = created('Output', 'OCR results', [{ id: 'expire-results', prefix: this.outputPrefix, expiration: resultExpiration }]);
      this.outputBucket = made.bucket;
      this.accessLogsBucket = this.accessLogsBucket ?? made.accessLogsBucket;
    }

    const tableProps = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy,
    };
    this.jobTable = new dynamodb.Table(this, 'JobTable', { ...tableProps, partitionKey: { name: 'jobId', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiresAt' });
    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', { ...tableProps, partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiration' });
    const backup = 'Point-in-time recovery is enabled on this table; an AWS Backup plan is an organisation-level choice the user adds to the stack.';
    for (const table of [this.jobTable, this.idempotencyTable]) {
      acknowledgeNagFindings(table, [
        { ruleId: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: backup },
        { ruleId: 'HIPAA.Security-DynamoDBInBackupPlan', reason: backup },
      ]);
    }

    // ---------------- worker image ----------------
    const tag = props.imageTag ?? 'latest';
    let image: ecs.ContainerImage;
    // the languages the image has data for, when this construct builds it (your own image's are unknown)
    let imageLanguages: string[] | undefined;
    // the worker's own default when unset (see defaultPdfRenderer); checked against the bundled image below
    const pdfRenderer = props.pdfRenderer ?? defaultPdfRenderer(props.ocrEngine);
    if (props.image) {
      image = props.image;
    } else if (props.repository) {
      this.repository = props.repository;
      image = ecs.ContainerImage.fromEcrRepository(props.repository, tag);
    } else if (props.createRepository) {
      const repository = new ecr.Repository(this, 'Repository', {
        imageScanOnPush: true,
        imageTagMutability: ecr.TagMutability.MUTABLE,
        encryption: key ? ecr.RepositoryEncryption.KMS : ecr.RepositoryEncryption.AES_256,
        encryptionKey: key,
        removalPolicy,
        lifecycleRules: [
          { description: 'Untagged images go after a week', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7), rulePriority: 1 },
          { description: 'Keep the 20 newest images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 20, rulePriority: 2 },
        ],
      });
      this.repository = repository;
      image = ecs.ContainerImage.fromEcrRepository(repository, tag);
    } else {
      if (!fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))) {
        new PropChecker(CONSTRUCT, id).fail('image', `has no default: the bundled worker (${WORKER_DIRECTORY}/Dockerfile) is missing from this installation; pass 'image', 'repository' or 'createRepository'`);
      }
      imageLanguages = bundledWorkerLanguages();
      const problem = bundledImageLanguageProblem(props.ocrLanguages ?? ['eng'], imageLanguages, "an 'image' or 'repository'");
      if (problem) new PropChecker(CONSTRUCT, id).fail('ocrLanguages', problem);
      const rendererProblem = bundledImageRendererProblem(pdfRenderer, props.ocrEngine, "an 'image' or 'repository'");
      if (rendererProblem) new PropChecker(CONSTRUCT, id).fail('pdfRenderer', rendererProblem);
      this.imageAsset = workerImageAsset(this, 'WorkerImage', { cpuArchitecture: props.cpuArchitecture, ocrEngine: props.ocrEngine });
      image = ecs.ContainerImage.fromDockerImageAsset(this.imageAsset);
    }

    // ---------------- compute ----------------
    this.securityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: this.vpc,
      description: 'OCR worker tasks: no inbound; HTTPS out to VPC endpoints and S3',
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (VPC endpoints, S3 gateway endpoint)');
    const spot = props.spot ?? true;
    const maxvCpus = props.maxvCpus ?? 16;
    this.computeEnvironment = new batch.FargateComputeEnvironment(this, 'ComputeEnvironment', {
      vpc: this.vpc, vpcSubnets: subnets, securityGroups: [this.securityGroup], spot, maxvCpus,
    });
    const order: batch.OrderedComputeEnvironment[] = [{ computeEnvironment: this.computeEnvironment, order: 1 }];
    if (props.onDemandOverflow) {
      this.onDemandComputeEnvironment = new batch.FargateComputeEnvironment(this, 'OnDemandComputeEnvironment', {
        vpc: this.vpc, vpcSubnets: subnets, securityGroups: [this.securityGroup], spot: false, maxvCpus,
      });
      order.push({ computeEnvironment: this.onDemandComputeEnvironment, order: 2 });
    }
    const capacityWait = props.capacityWaitLimit ?? Duration.hours(1);
    const misconfigurationWait = props.misconfigurationWaitLimit ?? Duration.minutes(10);
    this.jobQueue = new batch.JobQueue(this, 'JobQueue', {
      computeEnvironments: order,
      // Batch acts on the job at the head of the queue only; JobCleanup reaps what these miss.
      jobStateTimeLimitActions: [
        cancelAfter(batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY, capacityWait),
        cancelAfter(batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, misconfigurationWait),
        cancelAfter(batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT, misconfigurationWait),
      ],
    });

    this.workerLogGroup = new logs.LogGroup(this, 'WorkerLogGroup', { retention: logRetention, encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    this.executionRole = new iam.Role(this, 'ExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Pulls the OCR worker image and writes its logs',
    });
    this.jobRole = new iam.Role(this, 'JobRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'OCR worker: reads input documents, writes results under the output prefix',
    });
    acknowledgeInlinePolicyOf(this.executionRole, 'OCR worker task execution');
    acknowledgeInlinePolicyOf(this.jobRole, 'OCR worker job');
    // Least privilege: read only the input bucket; write only the output prefix (and read the
    // manifests there).
    this.inputBucket.grantRead(this.jobRole);
    this.outputBucket.grantRead(this.jobRole, `${this.outputPrefix}*`);
    this.outputBucket.grantPut(this.jobRole, `${this.outputPrefix}*`);

    const vcpu = props.vcpu ?? 2;
    const memory = props.memory ?? Size.gibibytes(4);
    const workers = props.workerPoolSize ?? Math.max(1, Math.floor(vcpu));
    const memoryMib = memory.toMebibytes();
    const documentMemoryMb = Math.max(512, Math.floor((memoryMib - 512) / workers));
    const environment: { [k: string]: string } = {
      OCR_INPUT_BUCKET: this.inputBucket.bucketName,
      OCR_OUTPUT_BUCKET: this.outputBucket.bucketName,
      OCR_OUTPUT_PREFIX: this.outputPrefix,
      OCR_LANGUAGES: (props.ocrLanguages ?? ['eng']).join('+'),
      OCR_DPI: String(props.ocrDpi ?? 300),
      OCR_ENGINE: props.ocrEngine ?? OcrEngine.TESSERACT_JS,
      OCR_PDF_RENDERER: pdfRenderer,
      OCR_WORKERS: String(workers),
      OCR_DOC_TIMEOUT_SECONDS: String((props.documentTimeout ?? Duration.minutes(5)).toSeconds()),
      OCR_DOC_MEMORY_MB: String(documentMemoryMb),
      OCR_MAX_DOCUMENT_BYTES: String(props.maxDocumentBytes ?? 100 * 1024 * 1024),
      OCR_METRICS_NAMESPACE: this.metricsNamespace,
      OCR_METRICS_SERVICE: this.metricsService,
    };
    if (props.maxPagesPerDocument !== undefined) environment.OCR_MAX_PAGES = String(props.maxPagesPerDocument);

    this.jobDefinitionName = Names.uniqueResourceName(this, { maxLength: 100, separator: '-', allowedSpecialCharacters: '-_' }) + '-worker';
    const container = new batch.EcsFargateContainerDefinition(this, 'WorkerContainer', {
      image,
      cpu: vcpu,
      memory,
      ephemeralStorageSize: props.ephemeralStorage ?? Size.gibibytes(21),
      environment,
      jobRole: this.jobRole,
      executionRole: this.executionRole,
      readonlyRootFilesystem: true,
      // The worker image's unprivileged user (uid 1000, the node user of the Node base image).
      user: '1000:1000',
      // The root filesystem is read-only: the worker writes temporary files to /tmp only.
      volumes: [batch.EcsVolume.host({ name: 'tmp', containerPath: '/tmp' })],
      logging: ecs.LogDrivers.awsLogs({ logGroup: this.workerLogGroup, streamPrefix: 'ocr-worker' }),
      fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
      fargateCpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
      fargateOperatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      assignPublicIp: false,
    });
    // The image name the job definition renders (aws-batch binds the image when the container is created).
    const imageName = (container as unknown as { imageConfig?: ecs.ContainerImageConfig }).imageConfig?.imageName;
    const pullProblem = imageName ? imagePullProblem(imageName, subnetsWithoutInternet(this.vpc, subnets!)) : undefined;
    if (pullProblem) new PropChecker(CONSTRUCT, id).fail('image', pullProblem);
    const executionPolicy = this.executionRole.node.tryFindChild('DefaultPolicy');
    if (executionPolicy) {
      acknowledgeNagFindings(executionPolicy, [{ ruleId: 'AwsSolutions-IAM5', reason: 'ecr:GetAuthorizationToken, which the task execution role needs to pull the worker image from ECR, supports only Resource *.', findings: ['Resource::*'] }]);
    }
    this.jobDefinition = new batch.EcsJobDefinition(this, 'JobDefinition', {
      jobDefinitionName: this.jobDefinitionName,
      container,
      timeout: props.jobTimeout ?? Duration.hours(2),
      propagateTags: true,
      retryAttempts: props.retryAttempts ?? 3,
      // Batch retries whenever no rule matches, and allows at most 5 rules: retry exactly the
      // infrastructure failures, and end with EXIT for everything else. A bad document is never
      // retried: the worker records it as a FAILED result and exits 0. Of the worker's exit codes
      // (assets/ocr-worker/src/batch.ts, EXIT) only 75, a transient failure, is retried: 1
      // (configuration) and 70 (an unexpected error, i.e. a bug) end the job.
      retryStrategies: [
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onStatusReason: 'Your Spot Task was interrupted*' })),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onStatusReason: 'ResourceInitializationError*' })),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onReason: 'CannotPullContainerError*' })),
        batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: '75' })),
        batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onStatusReason: '*' })),
      ],
    });

    // ---------------- handlers ----------------
    const presignSeconds = (props.presignedUrlExpiry ?? Duration.minutes(15)).toSeconds();
    const authorization = props.authorization ?? ApiAuthorization.IAM;
    const uploadPrefix = props.uploadPrefix ?? 'uploads/';
    const allowedInputPrefixes = props.allowedInputPrefixes ?? [];
    const handlerEnv: { [k: string]: string } = {
      POWERTOOLS_SERVICE_NAME: this.metricsService,
      METRICS_NAMESPACE: this.metricsNamespace,
      POWERTOOLS_METRICS_NAMESPACE: this.metricsNamespace,
      OCR_INPUT_BUCKET: this.inputBucket.bucketName,
      OCR_OUTPUT_BUCKET: this.outputBucket.bucketName,
      OCR_OUTPUT_PREFIX: this.outputPrefix,
      JOB_TABLE_NAME: this.jobTable.tableName,
      IDEMPOTENCY_TABLE_NAME: this.idempotencyTable.tableName,
      JOB_QUEUE: this.jobQueue.jobQueueArn,
      JOB_DEFINITION_NAME: this.jobDefinitionName,
      MAX_DOCUMENTS_PER_JOB: String(props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren),
      DOCUMENTS_PER_CHILD: String(props.documentsPerChild ?? 1),
      OCR_MAX_DOCUMENT_BYTES: environment.OCR_MAX_DOCUMENT_BYTES,
      OCR_LANGUAGES: environment.OCR_LANGUAGES,
      OCR_DPI: environment.OCR_DPI,
      RECORD_TTL_DAYS: String(props.outputBucket ? 0 : Math.ceil(resultExpiration.toDays({ integral: false }))),
      PRESIGN_SECONDS: String(presignSeconds),
      UPLOAD_PREFIX: uploadPrefix,
      // Who may do what through the API: see the "Who can do what" table of the docs.
      API_AUTHORIZATION: authorization,
      ALLOWED_INPUT_PREFIXES: JSON.stringify(allowedInputPrefixes),
      CALLER_SCOPED_INPUT: String(props.callerScopedInput ?? false),
    };
    // Lambda proxy integrations must add CORS headers to their own responses.
    if (props.corsAllowOrigins) handlerEnv.CORS_ALLOW_ORIGINS = JSON.stringify(props.corsAllowOrigins);
    if (props.maxPagesPerDocument !== undefined) handlerEnv.OCR_MAX_PAGES = String(props.maxPagesPerDocument);
    // requests asking for other languages are refused (400), not left to fail in the job
    if (imageLanguages) handlerEnv.OCR_AVAILABLE_LANGUAGES = imageLanguages.join('+');
    const common = {
      architecture: props.architecture,
      encryptionKey: key,
      logRetention,
      vpc: props.lambdaVpc ? this.vpc : undefined,
      vpcSubnets: props.lambdaVpc ? subnets : undefined,
      environment: handlerEnv,
    };
    const submit = createHandler(this, 'Submit', (s, i, p) => new SubmitFunction(s, i, p), {
      ...common, purpose: 'OCR job submission', timeout: Duration.seconds(29), memorySize: 512, invocation: 'sync',
    });
    const status = createHandler(this, 'Status', (s, i, p) => new StatusFunction(s, i, p), {
      ...common, purpose: 'OCR job status', timeout: Duration.seconds(29), memorySize: 512, invocation: 'sync',
    });
    const upload = createHandler(this, 'Upload', (s, i, p) => new UploadFunction(s, i, p), {
      ...common, purpose: 'OCR upload URL', timeout: Duration.seconds(10), invocation: 'sync',
    });
    // Adds up to 10,000 summary objects when a job finishes: minutes, not seconds.
    const jobState = createHandler(this, 'JobState', (s, i, p) => new JobStateFunction(s, i, p), {
      ...common, purpose: 'OCR job state recorder', timeout: Duration.minutes(5), memorySize: 512, invocation: 'async',
    });
    this.handlers.push(submit, status, upload, jobState);
    this.submitFunction = submit.function;
    this.statusFunction = status.function;
    this.uploadFunction = upload.function;
    this.jobStateFunction = jobState.function;

    this.grantSubmitJob(submit.role);
    // The submit handler checks (HEAD/List) only what callers may name: uploads and the allowed prefixes.
    for (const prefix of [uploadPrefix, ...allowedInputPrefixes]) this.inputBucket.grantRead(submit.role, `${prefix}*`);
    this.jobTable.grantReadWriteData(submit.role);
    this.idempotencyTable.grantReadWriteData(submit.role);
    this.outputBucket.grantPut(submit.role, `${this.outputPrefix}*`);
    this.jobTable.grantReadData(status.role);
    this.outputBucket.grantRead(status.role, `${this.outputPrefix}*`);
    this.inputBucket.grantPut(upload.role, `${uploadPrefix}*`);
    this.jobTable.grantReadWriteData(jobState.role);
    this.outputBucket.grantRead(jobState.role, `${this.outputPrefix}*`);
    // An array job's progress is its parent's arrayProperties.statusSummary. DescribeJobs has no
    // resource-level permissions (Service Authorization Reference, AWS Batch): Resource * is the only form.
    jobState.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['batch:DescribeJobs'], resources: ['*'] }));
    jobState.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['events:PutEvents'],
      resources: [Stack.of(this).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
    }));
    this.acknowledgeWildcards(submit.role, 'OCR submit handler');
    this.acknowledgeWildcards(status.role, 'OCR status handler');
    this.acknowledgeWildcards(upload.role, 'OCR upload handler');
    this.acknowledgeWildcards(this.jobRole, 'OCR worker job role');
    this.acknowledgeWildcards(jobState.role, 'OCR job state recorder');

    this.jobStateRule = new events.Rule(this, 'JobStateRule', {
      description: 'Batch job state changes of the OCR job queue',
      eventPattern: { source: ['aws.batch'], detailType: ['Batch Job State Change'], detail: { jobQueue: [this.jobQueue.jobQueueArn] } },
    });
    this.jobStateRule.addTarget(new targets.LambdaFunction(jobState.function, { retryAttempts: 4, deadLetterQueue: jobState.deadLetterQueue }));
    // EventBridge itself writes to the rule's dead-letter queue (and, with s3Trigger, to the ingest queue).
    if (key) allowEventBridgeToUseKey(this, key);

    // ---------------- S3 trigger ----------------
    if (props.s3Trigger) {
      const trigger = props.s3Trigger;
      const ingest = createHandler(this, 'S3Ingest', (s, i, p) => new S3IngestFunction(s, i, p), {
        ...common, purpose: 'OCR S3 ingest', timeout: Duration.seconds(60), memorySize: 512, invocation: 'poll',
      });
      this.handlers.push(ingest);
      this.ingestFunction = ingest.function;
      this.ingestDeadLetterQueue = new sqs.Queue(this, 'IngestDeadLetterQueue', {
        encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
        removalPolicy: RemovalPolicy.DESTROY,
      });
      acknowledgeNagFindings(this.ingestDeadLetterQueue, [{ ruleId: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the OCR S3 ingest queue; a DLQ of a DLQ would only move the same messages again.' }]);
      this.ingestQueue = new sqs.Queue(this, 'IngestQueue', {
        encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
        encryptionMasterKey: key,
        enforceSSL: true,
        // Six times the handler timeout, as Lambda recommends for SQS event sources.
        visibilityTimeout: Duration.seconds(360),
        deadLetterQueue: { queue: this.ingestDeadLetterQueue, maxReceiveCount: 5 },
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const keyFilter = trigger.prefix && trigger.suffix
        ? events.Match.wildcard(`${trigger.prefix}*${trigger.suffix}`)
        : trigger.prefix ? events.Match.prefix(trigger.prefix) : trigger.suffix ? events.Match.suffix(trigger.suffix) : undefined;
      this.ingestRule = new events.Rule(this, 'IngestRule', {
        description: 'Objects created in the OCR input bucket',
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: [this.inputBucket.bucketName] },
            ...(keyFilter ? { object: { key: keyFilter } } : {}),
          },
        },
      });
      this.ingestRule.addTarget(new targets.SqsQueue(this.ingestQueue));
      ingest.function.addEventSource(new lambdaEventSources.SqsEventSource(this.ingestQueue, {
        batchSize: trigger.batchSize ?? 100,
        maxBatchingWindow: trigger.maxBatchingWindow ?? Duration.seconds(60),
        reportBatchItemFailures: true,
      }));
      this.grantSubmitJob(ingest.role);
      this.jobTable.grantReadWriteData(ingest.role);
      this.outputBucket.grantPut(ingest.role, `${this.outputPrefix}*`);
      this.acknowledgeWildcards(ingest.role, 'OCR S3 ingest handler');
    }

    // ---------------- API ----------------
    this.apiAccessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logRetention, encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY });
    const executionLogging = props.executionLogging ?? true;
    const isPrivate = (props.privateApiEndpoints ?? []).length > 0;
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'OCR jobs on AWS Batch (cdk-ocr-constructs BatchOcrProcessor)',
      // The account setting is handled by ApiLoggingRole below (set only where missing).
      cloudWatchRole: false,
      endpointConfiguration: isPrivate
        ? { types: [apigw.EndpointType.PRIVATE], vpcEndpoints: props.privateApiEndpoints }
        : { types: [apigw.EndpointType.REGIONAL] },
      policy: isPrivate ? privateApiPolicy(props.privateApiEndpoints!) : undefined,
      defaultCorsPreflightOptions: props.corsAllowOrigins ? {
        allowOrigins: props.corsAllowOrigins,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'Authorization', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Api-Key', 'Idempotency-Key'],
        maxAge: Duration.hours(1),
      } : undefined,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 10,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 20,
        accessLogDestination: new apigw.LogGroupLogDestination(this.apiAccessLogGroup),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: executionLogging ? apigw.MethodLoggingLevel.ERROR : apigw.MethodLoggingLevel.OFF,
        metricsEnabled: true,
      },
    });
    this.addGatewayResponses(props.corsAllowOrigins);
    this.apiGatewayCloudWatchRole = new ApiLoggingRole(this, 'ApiLoggingRole', {
      mode: props.apiGatewayCloudWatchRole ?? ApiGatewayCloudWatchRole.SET_IF_MISSING,
      api: this.api,
      // Outside the VPC: it only calls API Gateway's control plane once per deployment.
      architecture: props.architecture,
      encryptionKey: key,
      logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    }).role;

    const methodAuth: apigw.MethodOptions = { ...this.methodAuthorization(authorization, props.userPool), apiKeyRequired: props.apiKeyRequired };
    const validator = new apigw.RequestValidator(this, 'BodyValidator', { restApi: this.api, validateRequestBody: true, validateRequestParameters: true });
    const maxDocuments = props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren;
    const submitModel = this.api.addModel('SubmitJobModel', { contentType: 'application/json', schema: toApiGatewaySchema(submitRequestSchema(maxDocuments)) });
    const uploadModel = this.api.addModel('UploadModel', { contentType: 'application/json', schema: toApiGatewaySchema(uploadRequestSchema()) });
    const jobsResource = this.api.root.addResource('jobs');
    jobsResource.addMethod('POST', new apigw.LambdaIntegration(submit.function), {
      ...methodAuth, requestValidator: validator, requestModels: { 'application/json': submitModel },
    });
    jobsResource.addResource('{jobId}').addMethod('GET', new apigw.LambdaIntegration(status.function), {
      ...methodAuth, requestValidator: validator, requestParameters: { 'method.request.path.jobId': true },
    });
    this.api.root.addResource('uploads').addMethod('POST', new apigw.LambdaIntegration(upload.function), {
      ...methodAuth, requestValidator: validator, requestModels: { 'application/json': uploadModel },
    });
    if (props.apiKeyRequired) {
      // For metering and per-client throttling only: every method still authenticates the caller
      // (API Gateway developer guide, "Usage plans and API keys for REST APIs": don't use API keys
      // for authentication or authorization).
      this.usagePlan = this.api.addUsagePlan('UsagePlan', {
        description: 'OCR API clients',
        throttle: { rateLimit: props.throttlingRateLimit ?? 10, burstLimit: props.throttlingBurstLimit ?? 20 },
        apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
      });
      this.apiKey = this.api.addApiKey('ApiKey', { description: 'OCR API key (rotate by adding another key to the usage plan)' });
      this.usagePlan.addApiKey(this.apiKey);
    }
    if (props.webAclArn) {
      this.webAclAssociation = new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.api.deploymentStage.stageArn, webAclArn: props.webAclArn,
      });
    }
    this.acknowledgeApiFindings(authorization, executionLogging, props);

    // ---------------- operations ----------------
    const handlerErrors = new cloudwatch.MathExpression({
      label: 'Handler errors',
      expression: this.handlers.map((_, i) => `e${i}`).join(' + '),
      usingMetrics: Object.fromEntries(this.handlers.map((h, i) => [`e${i}`, h.function.metricErrors({ period: Duration.minutes(5) })])),
      period: Duration.minutes(5),
    });
    this.jobsFailedAlarm = this.metricJobsFailed({ period: Duration.minutes(5) }).createAlarm(this, 'JobsFailedAlarm', {
      alarmDescription: 'OCR jobs failed at the Batch level (infrastructure, timeouts, exhausted retries)',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.handlerErrorsAlarm = handlerErrors.createAlarm(this, 'HandlerErrorsAlarm', {
      alarmDescription: 'Errors in the OCR API and event handlers',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.api5xxAlarm = this.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }).createAlarm(this, 'Api5xxAlarm', {
      alarmDescription: 'OCR API answered with 5xx',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    for (const alarm of [this.jobsFailedAlarm, this.handlerErrorsAlarm, this.api5xxAlarm]) {
      if (props.alarmTopic) {
        alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
      } else {
        const reason = 'Where an OCR alarm notifies is the user\'s choice (alarmTopic prop, or addAlarmAction on this public alarm); without it the alarm still shows on the dashboard.';
        acknowledgeNagFindings(alarm, [
          { ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason },
          { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason },
        ]);
      }
    }
    if (props.dashboard ?? true) this.dashboard = this.createDashboard(handlerErrors);
    if (!key) {
      const reason = 'CloudWatch Logs encrypts this log group at rest with service-managed keys; pass encryptionKey to use a customer-managed KMS key.';
      for (const group of [this.workerLogGroup, this.apiAccessLogGroup, ...this.handlers.map((h) => h.logGroup)]) {
        acknowledgeNagFindings(group, [
          { ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason },
          { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason },
        ]);
      }
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'OCR API base URL' });
    new CfnOutput(this, 'InputBucketName', { value: this.inputBucket.bucketName });
    new CfnOutput(this, 'OutputBucketName', { value: this.outputBucket.bucketName });
    new CfnOutput(this, 'JobQueueArn', { value: this.jobQueue.jobQueueArn });
    new CfnOutput(this, 'JobDefinitionName', { value: this.jobDefinitionName });
    new CfnOutput(this, 'WorkerLogGroupName', { value: this.workerLogGroup.logGroupName });
  }

  /**
   * Let a principal call the API (IAM authorization): submit jobs, read the status of the jobs it
   * submitted (not other callers'), ask for upload URLs into its own upload folder. Submitting
   * through the API (not Batch directly) keeps the job record that status is served from.
   */
  public grantSubmit(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [
        this.api.arnForExecuteApi('POST', '/jobs', this.api.deploymentStage.stageName),
        this.api.arnForExecuteApi('GET', '/jobs/*', this.api.deploymentStage.stageName),
        this.api.arnForExecuteApi('POST', '/uploads', this.api.deploymentStage.stageName),
      ],
    });
  }

  /** A custom metric of this processor (handlers' and worker's EMF metrics). */
  public metric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
      dimensionsMap: { ...(props?.dimensionsMap ?? {}) },
    });
  }

  private handlerMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(metricName, { ...props, dimensionsMap: { service: this.metricsService, ...(props?.dimensionsMap ?? {}) } });
  }

  private workerMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(metricName, { ...props, dimensionsMap: { Service: this.metricsService, ...(props?.dimensionsMap ?? {}) } });
  }

  /** Jobs submitted (API and S3 trigger). */
  public metricJobsSubmitted(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('JobsSubmitted', props);
  }

  /** Jobs whose Batch job SUCCEEDED (their documents may still include FAILED results). */
  public metricJobsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('JobsSucceeded', props);
  }

  /** Jobs whose Batch job FAILED. */
  public metricJobsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('JobsFailed', props);
  }

  /** Requests rejected by the handlers' validation. */
  public metricRequestsRejected(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('RequestsRejected', props);
  }

  /** Documents with a SUCCEEDED result (worker metric). */
  public metricDocumentsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workerMetric('DocumentsSucceeded', props);
  }

  /** Documents with a FAILED result (worker metric); pass `errorCode` for one code. */
  public metricDocumentsFailed(props?: cloudwatch.MetricOptions, errorCode?: string): cloudwatch.Metric {
    return this.workerMetric('DocumentsFailed', { ...props, dimensionsMap: errorCode ? { ErrorCode: errorCode } : {} });
  }

  /** Pages processed (worker metric). */
  public metricPagesProcessed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workerMetric('PagesProcessed', props);
  }

  /** Time spent on each document, ms, its wait behind the job's other documents excluded (worker metric). */
  public metricDocumentDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.workerMetric('DocumentDurationMs', { statistic: 'p90', ...props });
  }

  /**
   * Fixed monthly cost of this configuration (network endpoints of the CostOptimizedVpc it created,
   * dashboard, alarms, KMS-free) and the cost per 1,000 pages on Fargate and Fargate Spot.
   */
  public estimateMonthlyCost(): BatchOcrCostEstimate {
    const items: CostLineItem[] = [];
    const notes: string[] = [
      'AWS Batch itself is free; Fargate is billed per second of task time (see perThousandPages).',
      'API Gateway, Lambda, DynamoDB on-demand, S3 requests and SQS are billed per use and are not in the fixed cost.',
      `Fargate Spot is priced at a typical ${Math.round(TYPICAL_FARGATE_SPOT_DISCOUNT * 100)}% discount; the real discount varies by Region and over time.`,
    ];
    // The network part comes from CostOptimizedVpc's pricing (only when this construct owns it).
    const network = this.network && !this.props.network ? this.network.estimateMonthlyCost() : undefined;
    if (!network) notes.push('Network cost is not included: the VPC is shared or the user\'s (price it where it is created).');
    const arm64 = isArm64(this.props.cpuArchitecture);
    const nativeTesseract = this.props.ocrEngine === OcrEngine.NATIVE_TESSERACT;
    if (nativeTesseract && this.props.pagesPerVcpuSecond === undefined) {
      notes.push('The throughput assumed is the benchmark\'s for the native Tesseract backend (ocrEngine NATIVE_TESSERACT), measured on x86-64.');
    }
    if (arm64) notes.push('ARM64 (Graviton) tasks are priced at Fargate Linux/ARM rates and run on-demand (Fargate Spot runs X86_64 only); the throughput assumed is the x86 benchmark\'s, Graviton\'s has not been measured.');
    if (this.dashboard) items.push({ item: 'CloudWatch dashboard', quantity: 1, unit: 'dashboards', unitPriceUsd: 3, monthlyUsd: 3 });
    items.push({ item: 'CloudWatch alarms (standard resolution)', quantity: 3, unit: 'alarms', unitPriceUsd: 0.1, monthlyUsd: 0.3 });
    const fixed = Math.round(((network?.fixedMonthlyUsd ?? 0) + items.reduce((sum, i) => sum + i.monthlyUsd, 0)) * 100) / 100;
    const vcpu = this.props.vcpu ?? 2;
    const memoryGib = (this.props.memory ?? Size.gibibytes(4)).toMebibytes() / 1024;
    const region = Stack.of(this).region;
    return {
      region: Token.isUnresolved(region) ? 'us-east-1' : region,
      fixedMonthlyUsd: fixed,
      lineItems: items,
      network,
      perThousandPages: costPer1000Pages({
        vcpu,
        memoryGib,
        arm64,
        pagesPerVcpuSecond: this.props.pagesPerVcpuSecond
          ?? (nativeTesseract ? DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT : DEFAULT_PAGES_PER_VCPU_SECOND),
      }),
      notes,
    };
  }

  private grantSubmitJob(role: iam.IGrantable): void {
    const stack = Stack.of(this);
    const jobDefinitionArn = `arn:${stack.partition}:batch:${stack.region}:${stack.account}:job-definition/${this.jobDefinitionName}`;
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['batch:SubmitJob'],
      // The queue, and the job definition by name (every revision: EcrBatchAutoUpdater adds them).
      resourceArns: [this.jobQueue.jobQueueArn, jobDefinitionArn, `${jobDefinitionArn}:*`],
    });
    // Before submitting a job id again, the handler looks its job up by name (ListJobs has no
    // resource-level permissions: Service Authorization Reference, AWS Batch).
    iam.Grant.addToPrincipal({ grantee: role, actions: ['batch:ListJobs'], resourceArns: ['*'] });
  }

  /** The granular IAM5 findings that grants on this construct's buckets, key and job definition produce. */
  private wildcardFindings(): string[] {
    const stack = Stack.of(this);
    const arnOf = (bucket: s3.IBucket): string | undefined => {
      if (bucket instanceof s3.Bucket) return `<${stack.getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
      return Token.isUnresolved(bucket.bucketName) ? undefined : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
    };
    const findings = [
      'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*',
      'Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*',
      `Resource::arn:<AWS::Partition>:batch:${stack.region}:${stack.account}:job-definition/${this.jobDefinitionName}:*`,
    ];
    const input = arnOf(this.inputBucket);
    const output = arnOf(this.outputBucket);
    if (input) {
      findings.push(`Resource::${input}/*`);
      for (const prefix of [this.props.uploadPrefix ?? 'uploads/', ...(this.props.allowedInputPrefixes ?? [])]) findings.push(`Resource::${input}/${prefix}*`);
    }
    if (output) findings.push(`Resource::${output}/${this.outputPrefix}*`);
    return findings;
  }

  private acknowledgeWildcards(role: iam.Role, purpose: string): void {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    acknowledgeNagFindings(policy, [{
      ruleId: 'AwsSolutions-IAM5',
      reason: `The ${purpose} reads or writes objects by key in one bucket or under one prefix, submits to every revision of one job definition and uses the key of those objects; each wildcard is bounded by those resources. Resource * is only for X-Ray PutTraceSegments/PutTelemetryRecords and Batch ListJobs/DescribeJobs (read-only), which have no resource-level permissions.`,
      findings: [...this.wildcardFindings(), ...(role === this.jobRole ? [] : ['Resource::*'])],
    }]);
  }

  private methodAuthorization(authorization: ApiAuthorization, userPool?: cognito.IUserPool): apigw.MethodOptions {
    switch (authorization) {
      case ApiAuthorization.COGNITO: {
        const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [userPool!] });
        return { authorizationType: apigw.AuthorizationType.COGNITO, authorizer };
      }
      default:
        return { authorizationType: apigw.AuthorizationType.IAM };
    }
  }

  /** API Gateway's own errors (validation, auth, throttling) in the handlers' error shape. */
  private addGatewayResponses(corsOrigins?: string[]): void {
    const headers: { [k: string]: string } = corsOrigins ? { 'Access-Control-Allow-Origin': `'${corsOrigins[0]}'` } : {};
    const body = (code: string, message: string) =>
      `{"success":false,"code":"${code}","message":${message},"requestId":"$context.requestId","timestamp":"$context.requestTime"}`;
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigw.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      responseHeaders: headers,
      templates: { 'application/json': body('INVALID_REQUEST', '"Invalid request body: $util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\\'","\'")"') },
    });
    this.api.addGatewayResponse('BadRequestParameters', {
      type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '400',
      responseHeaders: headers,
      templates: { 'application/json': body('INVALID_REQUEST', '"Invalid request parameters: $util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\\'","\'")"') },
    });
    this.api.addGatewayResponse('Default4xx', {
      type: apigw.ResponseType.DEFAULT_4XX,
      responseHeaders: headers,
      templates: { 'application/json': body('$context.error.responseType', '$context.error.messageString') },
    });
    this.api.addGatewayResponse('Default5xx', {
      type: apigw.ResponseType.DEFAULT_5XX,
      responseHeaders: headers,
      templates: { 'application/json': body('$context.error.responseType', '$context.error.messageString') },
    });
  }

  private acknowledgeApiFindings(authorization: ApiAuthorization, executionLogging: boolean, props: BatchOcrProcessorProps): void {
    const stage = this.api.deploymentStage;
    const acks = [
      { ruleId: 'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', reason: 'The OCR API submits jobs and reports changing job states: caching responses would return stale or wrong answers.' },
      { ruleId: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', reason: 'The OCR API submits jobs and reports changing job states: caching responses would return stale or wrong answers.' },
      { ruleId: 'NIST.800.53.R5-APIGWSSLEnabled', reason: 'The OCR API integrates only with Lambda functions (proxy integration), where a backend client certificate does not apply.' },
      { ruleId: 'HIPAA.Security-APIGWSSLEnabled', reason: 'The OCR API integrates only with Lambda functions (proxy integration), where a backend client certificate does not apply.' },
    ];
    if (!executionLogging) {
      const reason = 'Execution logging is turned off with the executionLogging prop; access logs are always written to a log group.';
      acks.push(
        { ruleId: 'AwsSolutions-APIG6', reason },
        { ruleId: 'NIST.800.53.R5-APIGWExecutionLoggingEnabled', reason },
        { ruleId: 'HIPAA.Security-APIGWExecutionLoggingEnabled', reason },
      );
    }
    if (!props.webAclArn) {
      const reason = 'The OCR API is authenticated and throttled per stage; a WAF web ACL is an account-level choice passed in with the webAclArn prop.';
      acks.push(
        { ruleId: 'AwsSolutions-APIG3', reason },
        { ruleId: 'NIST.800.53.R5-APIGWAssociatedWithWAF', reason },
        { ruleId: 'HIPAA.Security-APIGWAssociatedWithWAF', reason },
      );
    }
    acknowledgeNagFindings(stage, acks);
    if (authorization === ApiAuthorization.IAM) {
      for (const method of this.api.methods) {
        if (method.httpMethod === 'OPTIONS') continue;
        acknowledgeNagFindings(method, [{ ruleId: 'AwsSolutions-COG4', reason: 'This OCR API method uses IAM (SigV4) authorization, chosen with the authorization prop; Cognito is one of the options.' }]);
      }
    }
    for (const method of this.api.methods) {
      if (method.httpMethod !== 'OPTIONS') continue;
      const reason = 'CORS preflight (OPTIONS) requests carry no credentials by the CORS specification; the method returns headers only.';
      acknowledgeNagFindings(method, [{ ruleId: 'AwsSolutions-APIG4', reason }, { ruleId: 'AwsSolutions-COG4', reason }]);
    }
  }

  private createDashboard(handlerErrors: cloudwatch.IMetric): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    const apiMetric = (name: string, statistic = 'Sum') => new cloudwatch.Metric({
      namespace: 'AWS/ApiGateway',
      metricName: name,
      statistic,
      period: Duration.minutes(5),
      dimensionsMap: { ApiName: this.api.restApiName, Stage: this.api.deploymentStage.stageName },
    });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Jobs', left: [this.metricJobsSubmitted(), this.metricJobsSucceeded(), this.metricJobsFailed()], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Documents', left: [this.metricDocumentsSucceeded(), this.metricDocumentsFailed()], right: [this.metricPagesProcessed()], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Document time (p90, ms)', left: [this.metricDocumentDuration()], width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'API requests', left: [apiMetric('Count')], right: [apiMetric('Latency', 'p90')], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'API errors', left: [apiMetric('4XXError'), apiMetric('5XXError')], right: [this.metricRequestsRejected()], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Handler errors', left: [handlerErrors], width: 8 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Handler duration (p90)', left: this.handlers.map((h) => h.function.metricDuration({ statistic: 'p90' })), width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Handler throttles', left: this.handlers.map((h) => h.function.metricThrottles()), width: 12 }),
    );
    dashboard.addWidgets(new cloudwatch.LogQueryWidget({
      title: 'Worker errors',
      logGroupNames: [this.workerLogGroup.logGroupName],
      queryLines: ['fields @timestamp, @message', 'filter @message like /(?i)error/', 'sort @timestamp desc', 'limit 50'],
      width: 24,
    }));
    return dashboard;
  }
}

function cancelAfter(reason: batch.JobStateTimeLimitActionsReason, maxTime: Duration): batch.JobStateTimeLimitAction {
  return { reason, maxTime, action: batch.JobStateTimeLimitActionsAction.CANCEL, state: batch.JobStateTimeLimitActionsState.RUNNABLE };
}

function privateApiPolicy(endpoints: ec2.IInterfaceVpcEndpoint[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:SourceVpce': endpoints.map((e) => e.vpcEndpointId) } },
      }),
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['execute-api:Invoke'], resources: ['execute-api:/*'] }),
    ],
  });
}

/** The shared draft-04 schema object in API Gateway's JsonSchema shape (`$schema` → `schema`). */
export function toApiGatewaySchema(schema: { [key: string]: unknown }): apigw.JsonSchema {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== 'object') return value;
    const out: { [key: string]: unknown } = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$schema') out.schema = apigw.JsonSchemaVersion.DRAFT4;
      else if (k === '$ref') out.ref = v;
      else if (k === '$id') out.id = v;
      else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, convert(s)]));
      else out[k] = convert(v);
    }
    return out;
  };
  return convert(schema) as apigw.JsonSchema;
}

function validateProps(id: string, props: BatchOcrProcessorProps): void {
  const check = new PropChecker(CONSTRUCT, id);
  check.check(!(props.network && props.vpc), 'vpc', "cannot be combined with 'network' (give one)");
  check.check(!(props.vpcSubnets && !props.vpc), 'vpcSubnets', "needs 'vpc'");
  const imageSources = [props.image && 'image', props.repository && 'repository', props.createRepository && 'createRepository'].filter(Boolean);
  check.check(imageSources.length <= 1, imageSources[1] as string ?? 'image', `cannot be combined with '${imageSources[0]}' (give one image source)`);
  check.check(!(props.imageTag && !props.repository && !props.createRepository), 'imageTag', "needs 'repository' or 'createRepository'");
  check.check(!(props.onDemandOverflow && props.spot === false), 'onDemandOverflow', "only applies with 'spot' (the first compute environment is already on-demand)");
  check.check(!(isArm64(props.cpuArchitecture) && props.spot !== false), 'cpuArchitecture',
    "ARM64 needs 'spot: false': Fargate Spot runs X86_64 Linux tasks only, and an ARM64 job on a Spot-only job queue blocks it");
  check.integerInRange('maxvCpus', props.maxvCpus, 1, 10_000);
  const vcpu = props.vcpu ?? 2;
  const memoryMiB = (props.memory ?? Size.gibibytes(4)).toMebibytes();
  if (!Token.isUnresolved(vcpu) && !Token.isUnresolved(memoryMiB)) {
    const size = fargateSizeProblem(vcpu, memoryMiB);
    if (size) check.fail(size.prop === 'cpu' ? 'vcpu' : 'memory', size.problem);
  }
  if (props.maxvCpus !== undefined && props.maxvCpus < vcpu) check.fail('maxvCpus', `must be at least 'vcpu' (${vcpu}), got ${props.maxvCpus}`);
  if (props.ephemeralStorage) check.integerInRange('ephemeralStorage', props.ephemeralStorage.toGibibytes(), 21, 200);
  check.integerInRange('retryAttempts', props.retryAttempts, 1, 10);
  check.integerInRange('workerPoolSize', props.workerPoolSize, 1, 64);
  for (const [name, value] of [['capacityWaitLimit', props.capacityWaitLimit], ['misconfigurationWaitLimit', props.misconfigurationWaitLimit]] as const) {
    if (value) check.integerInRange(name, value.toSeconds(), 600, 86_400);
  }
  if (props.jobTimeout) check.integerInRange('jobTimeout', props.jobTimeout.toSeconds(), 60, 14 * 86_400);
  if (props.documentTimeout) check.integerInRange('documentTimeout', props.documentTimeout.toSeconds(), 10, 3600);
  check.integerInRange('ocrDpi', props.ocrDpi, LIMITS.minDpi, LIMITS.maxDpi);
  check.integerInRange('maxPagesPerDocument', props.maxPagesPerDocument, 1, LIMITS.maxPagesCeiling);
  check.integerInRange('maxDocumentBytes', props.maxDocumentBytes, 1, 5 * 1024 ** 4);
  check.integerInRange('maxDocumentsPerJob', props.maxDocumentsPerJob, 1, LIMITS.maxDocumentsPerJobCeiling);
  check.integerInRange('documentsPerChild', props.documentsPerChild, 1, 1000);
  if (props.ocrLanguages) {
    check.check(props.ocrLanguages.length >= 1 && props.ocrLanguages.length <= LIMITS.maxLanguages, 'ocrLanguages', `must list 1 to ${LIMITS.maxLanguages} languages`);
    for (const l of props.ocrLanguages) check.check(/^[a-z]{3,}(_[a-z]+)*$/.test(l), 'ocrLanguages', `has '${l}', not a tesseract language code such as 'eng'`);
  }
  const prefixPattern = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/;
  for (const [name, value] of [['outputPrefix', props.outputPrefix], ['uploadPrefix', props.uploadPrefix]] as const) {
    if (value !== undefined) check.check(prefixPattern.test(value), name, `must be a relative prefix ending with '/', got '${value}'`);
  }
  const uploadPrefix = props.uploadPrefix ?? 'uploads/';
  for (const prefix of props.allowedInputPrefixes ?? []) {
    check.check(prefix === '' || prefixPattern.test(prefix), 'allowedInputPrefixes', `must hold relative prefixes ending with '/' (or '' for the whole bucket), got '${prefix}'`);
    check.check(!prefix.startsWith(uploadPrefix), 'allowedInputPrefixes', `has '${prefix}', inside 'uploadPrefix' ('${uploadPrefix}'), whose folders belong to their uploaders`);
  }
  check.check(!(props.callerScopedInput && (props.allowedInputPrefixes ?? []).length === 0), 'callerScopedInput', "needs 'allowedInputPrefixes' (uploads are always per caller)");
  if (props.resultExpiration) {
    check.check(!props.outputBucket, 'resultExpiration', "only applies to the created output bucket (set lifecycle rules on your own 'outputBucket')");
    check.integerInRange('resultExpiration', props.resultExpiration.toDays(), 1, 3650);
  }
  const auth = props.authorization ?? ApiAuthorization.IAM;
  check.check(!(auth === ApiAuthorization.COGNITO && !props.userPool), 'userPool', 'is required with ApiAuthorization.COGNITO');
  check.check(!(props.userPool && auth !== ApiAuthorization.COGNITO), 'userPool', 'only applies with ApiAuthorization.COGNITO');
  check.integerInRange('throttlingRateLimit', props.throttlingRateLimit, 1, 10_000);
  check.integerInRange('throttlingBurstLimit', props.throttlingBurstLimit, 1, 5_000);
  if (props.presignedUrlExpiry) check.integerInRange('presignedUrlExpiry', props.presignedUrlExpiry.toSeconds(), 60, 43_200);
  check.check(!(props.corsAllowOrigins && props.corsAllowOrigins.length === 0), 'corsAllowOrigins', 'must list at least one origin');
  for (const origin of props.corsAllowOrigins ?? []) {
    // Browsers send Origin as scheme://host[:port], lower case, no path: the handlers compare it as is.
    check.check(origin === '*' || /^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/.test(origin), 'corsAllowOrigins', `has '${origin}', not an origin such as 'https://app.example.com' (scheme and host in lower case, no path)`);
  }
  check.check(!(props.corsAllowOrigins?.includes('*') && props.corsAllowOrigins.length > 1), 'corsAllowOrigins', "with '*' (any origin) must list nothing else");
  check.check(!(props.privateApiEndpoints && props.privateApiEndpoints.length === 0), 'privateApiEndpoints', 'must list at least one execute-api endpoint');
  if (props.s3Trigger) {
    check.integerInRange('s3Trigger.batchSize', props.s3Trigger.batchSize, 1, Math.min(10_000, props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren));
    if (props.s3Trigger.maxBatchingWindow) check.integerInRange('s3Trigger.maxBatchingWindow', props.s3Trigger.maxBatchingWindow.toSeconds(), 0, 300);
    check.check(!((props.s3Trigger.batchSize ?? 100) > 10 && props.s3Trigger.maxBatchingWindow?.toSeconds() === 0), 's3Trigger.maxBatchingWindow', 'must be at least 1 second when batchSize is above 10 (an SQS event source rule)');
  }
  check.numberInRange('pagesPerVcpuSecond', props.pagesPerVcpuSecond, 0.001, 1000);
}
