import * as fs from 'fs';
import * as path from 'path';
import { Annotations, CfnOutput, Duration, Names, RemovalPolicy, SecretValue, Size, Stack, Token } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as elbv2_actions from 'aws-cdk-lib/aws-elasticloadbalancingv2-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as events_targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { OcrDocumentAttributes, OcrDocumentStatus, OcrDocumentStatuses, OcrServiceApi, OcrServiceEnvironment, OcrServiceMetrics, OcrStreamHandlerEnvironment } from './contract';
import { StaleSweepFunction } from './stale-sweep-function';
import { StreamTriggerFunction } from './stream-trigger-function';
import { PropChecker } from '../common/errors';
import { FARGATE_VCPUS, fargateSizeProblem } from '../common/fargate-sizes';
import { createHandler } from '../common/handler';
import { imagePullProblem, subnetsWithoutInternet } from '../common/image-pull';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';
import { nagResourceFinding } from '../common/nag-findings';
import { bundledImageLanguageProblem, bundledImageRendererProblem, bundledWorkerLanguages, defaultPdfRenderer, isArm64, OcrEngine, PdfRenderer, WORKER_DIRECTORY, workerImageAsset } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

const CONSTRUCT_TYPE = 'OcrServiceCluster';
const DEFAULT_STATUS_INDEX = 'status-index';
/** A non-default port for the cache (AwsSolutions-AEC5: 6379 is what scanners try first). */
const CACHE_PORT = 6380;

/** Where the service's tasks run. */
export enum OcrServiceCapacity {
  /** Fargate on-demand only. */
  ON_DEMAND = 'ON_DEMAND',
  /** One on-demand task as a base, every further task on Fargate Spot (up to ~70% cheaper). */
  SPOT_WITH_ON_DEMAND_BASE = 'SPOT_WITH_ON_DEMAND_BASE',
  /** Fargate Spot only: cheapest; all tasks can be interrupted (two-minute notice) at once. */
  SPOT = 'SPOT',
}

/** JWT verification on the load balancer (for API clients that send `Authorization: Bearer`). */
export interface OcrServiceJwtAuthentication {
  /** Issuer (`iss`) of accepted tokens, a full https URL. */
  readonly issuer: string;
  /** Public JWKS endpoint of the issuer, a full https URL. */
  readonly jwksEndpoint: string;
}

/** OpenID Connect login on the load balancer (browser clients). */
export interface OcrServiceOidcAuthentication {
  /** Issuer identifier of the OpenID provider, a full https URL. */
  readonly issuer: string;
  /** Authorization endpoint of the provider, a full https URL, where the load balancer redirects browsers to log in. */
  readonly authorizationEndpoint: string;
  /** Token endpoint of the provider, a full https URL, where the load balancer exchanges the authorization code. */
  readonly tokenEndpoint: string;
  /** User info endpoint of the provider, a full https URL, from which the load balancer reads the user's claims. */
  readonly userInfoEndpoint: string;
  /** Client ID of the app registered with the provider (its callback URL: `https://<domain>/oauth2/idpresponse`). */
  readonly clientId: string;
  /** Client secret, e.g. `SecretValue.secretsManager('oidc-client-secret')`. */
  readonly clientSecret: SecretValue;
  /**
   * Scopes requested from the IdP.
   * @default 'openid'
   */
  readonly scope?: string;
}

/** Amazon Cognito login on the load balancer (browser clients). */
export interface OcrServiceCognitoAuthentication {
  /** The Cognito user pool whose users may use the service. */
  readonly userPool: cognito.IUserPool;
  /** An app client of the pool with a client secret and the ALB's `/oauth2/idpresponse` callback URL. */
  readonly userPoolClient: cognito.IUserPoolClient;
  /** The pool's hosted UI domain (Cognito or custom), where the load balancer sends browsers to log in. */
  readonly userPoolDomain: cognito.IUserPoolDomain;
}

/** The optional Valkey cache of results, keyed by content hash + engine version + languages + options. */
export interface OcrServiceCacheOptions {
  /**
   * Cache node type.
   * @default 'cache.t4g.micro'
   */
  readonly nodeType?: string;
  /**
   * Number of read replicas in other AZs (0 = a single node). With one or more, automatic failover
   * and Multi-AZ are on.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Valkey engine version.
   * @default '8.0'
   */
  readonly engineVersion?: string;
  /**
   * Time-to-live of cache entries (`OCR_CACHE_TTL_SECONDS`).
   * @default Duration.days(7)
   */
  readonly ttl?: Duration;
  /**
   * Days of automatic snapshots (0 turns them off: the cache can always be rebuilt).
   * @default 1
   */
  readonly snapshotRetentionDays?: number;
}

/** A tracing sidecar (AWS X-Ray daemon or an OpenTelemetry collector listening on UDP 2000). */
export interface OcrServiceTracingOptions {
  /**
   * The sidecar image, from a registry the VPC reaches without NAT: your ECR repository or an ECR
   * pull-through cache of `public.ecr.aws/xray/aws-xray-daemon` (`PullThroughCacheImage.fromCache()`,
   * pulled once from a network with internet access first). Public registries are not reachable from
   * private subnets without NAT.
   */
  readonly image: ecs.ContainerImage;
  /**
   * CPU units reserved for the sidecar.
   * @default 32
   */
  readonly cpu?: number;
  /**
   * Memory reserved for the sidecar, in MiB.
   * @default 256
   */
  readonly memoryLimitMiB?: number;
}

/** Props of `OcrServiceCluster`. */
export interface OcrServiceClusterProps {
  // ----- Network -----
  /**
   * The CostOptimizedVpc to run in; the construct requires the endpoints its tasks call.
   * Mutually exclusive with `vpc`.
   * @default - a new CostOptimizedVpc (2 AZs), unless `vpc` or `cluster` is given
   */
  readonly network?: CostOptimizedVpc;
  /**
   * Your VPC. Its private subnets need a route to ECR, CloudWatch Logs, S3 and DynamoDB (NAT or endpoints).
   * @default - see `network`
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of the tasks and of the stream handler.
   * @default - `network.workloadSubnets`, else the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Subnets of the load balancer.
   * @default - public subnets when `internetFacing`, else the same subnets as the tasks
   */
  readonly loadBalancerSubnets?: ec2.SubnetSelection;
  /**
   * An existing ECS cluster (in the same VPC). It must have the FARGATE_SPOT capacity provider for Spot capacity.
   * @default - a new cluster with Container Insights (enhanced observability)
   */
  readonly cluster?: ecs.ICluster;

  // ----- Container -----
  /**
   * The OCR worker image. It must implement the service container contract (docs/ocr-service-cluster.md).
   * @default - built from `assets/ocr-worker` for `cpuArchitecture`
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU architecture of the tasks; the bundled image is built for it. ARM64 (Graviton) is ~20%
   * cheaper per vCPU-hour on Fargate but on-demand only: Fargate Spot takes X86_64 Linux tasks only,
   * so ARM64 needs `capacity: OcrServiceCapacity.ON_DEMAND`.
   * @default ecs.CpuArchitecture.X86_64
   */
  readonly cpuArchitecture?: ecs.CpuArchitecture;
  /**
   * OCR backend of the service (`OCR_ENGINE`); the bundled image is built for it. `NATIVE_TESSERACT`
   * reads the same model to the same text, with less time per page and a larger image. With your own
   * `image`, the image must contain it (and, with `NATIVE_TESSERACT`, the `pdfRenderer`).
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
   * Command of the service container.
   * @default - with the bundled image, `OcrServiceApi.BUNDLED_IMAGE_COMMAND` (`src/service/main.ts`); with your `image`, its own command
   */
  readonly command?: string[];
  /**
   * Task CPU units (Fargate combinations apply).
   * @default 1024
   */
  readonly cpu?: number;
  /**
   * Task memory in MiB.
   * @default 3072
   */
  readonly memoryLimitMiB?: number;
  /**
   * Container port (`PORT`).
   * @default 8000
   */
  readonly containerPort?: number;
  /**
   * OCR worker processes per task (`OCR_WORKERS`).
   * @default 1
   */
  readonly workersPerTask?: number;
  /**
   * OCR languages (`OCR_LANGUAGES`), tesseract codes joined by `+`. With the bundled image, only
   * languages it has data for (`eng`; others fail at synth); other languages need an `image` whose
   * worker has their `@tesseract.js-data` packages.
   * @default 'eng'
   */
  readonly languages?: string;
  /**
   * Largest accepted document (`OCR_MAX_DOCUMENT_BYTES`); larger uploads get 413.
   * @default Size.mebibytes(50)
   */
  readonly maxDocumentSize?: Size;
  /**
   * Time bound of one document in the engine (`OCR_DOC_TIMEOUT_SECONDS`).
   * @default Duration.minutes(5)
   */
  readonly documentTimeout?: Duration;
  /**
   * Mount the container's root filesystem read-only, with `/tmp` as a writable task volume. The image
   * must declare `VOLUME /tmp` (the bundled worker image does): Fargate creates other bind mounts
   * writable by root only, and the worker runs as the non-root user `node`. Turn it off only for an
   * image of yours that writes elsewhere.
   * @default true
   */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * Extra environment variables of the service container (non-secret).
   * @default - none
   */
  readonly environment?: { [key: string]: string };
  /**
   * Secrets injected as environment variables (Secrets Manager or SSM Parameter Store). The
   * construct requires the `secretsmanager` endpoint of a CostOptimizedVpc (add `ssm` yourself for parameters).
   * @default - none
   */
  readonly secrets?: { [key: string]: ecs.Secret };
  /**
   * Namespace of the service's EMF metrics (`OCR_METRICS_NAMESPACE`).
   * @default 'CdkOcrConstructs'
   */
  readonly metricsNamespace?: string;

  // ----- Capacity and scaling -----
  /**
   * On-demand or Fargate Spot.
   * @default OcrServiceCapacity.ON_DEMAND
   */
  readonly capacity?: OcrServiceCapacity;
  /**
   * Minimum number of tasks.
   * @default 1
   */
  readonly minCapacity?: number;
  /**
   * Maximum number of tasks.
   * @default 3
   */
  readonly maxCapacity?: number;
  /**
   * Tasks at deployment.
   * @default 2
   */
  readonly desiredCount?: number;
  /**
   * Average CPU at or above which one task is added (step scaling).
   * @default 70
   */
  readonly cpuScaleOutPercent?: number;
  /**
   * Average CPU at or below which one task is removed (step scaling).
   * @default 30
   */
  readonly cpuScaleInPercent?: number;
  /**
   * Target of ALB requests per task per minute (target tracking, scale-out only).
   * @default 300
   */
  readonly requestsPerTargetPerMinute?: number;

  // ----- Timings (Fargate Spot's two-minute notice) -----
  /**
   * Upper bound on one HTTP request (`OCR_REQUEST_TIMEOUT_SECONDS`). Must be less than `deregistrationDelay`.
   * @default Duration.seconds(30)
   */
  readonly requestTimeout?: Duration;
  /**
   * How long the target group lets in-flight requests finish on a deregistering task. Less than 120 s.
   * @default Duration.seconds(60)
   */
  readonly deregistrationDelay?: Duration;
  /**
   * SIGTERM-to-SIGKILL time of the container (ECS `stopTimeout`), at most 120 s.
   * @default Duration.seconds(120)
   */
  readonly stopTimeout?: Duration;
  /**
   * After SIGTERM, how long in-flight documents may keep running before the service hands them
   * back (`OCR_SHUTDOWN_GRACE_SECONDS`). Less than `stopTimeout`, more than `requestTimeout`.
   * @default - `stopTimeout` minus 20 seconds
   */
  readonly shutdownGrace?: Duration;
  /**
   * Time for the OCR workers to warm up before failed health checks count.
   * @default Duration.seconds(120)
   */
  readonly healthCheckGracePeriod?: Duration;

  // ----- Load balancer -----
  /**
   * Put the load balancer on the internet. Requires `certificate` and one of `jwtAuthentication`,
   * `oidcAuthentication` or `cognitoAuthentication`, unless `allowUnauthenticatedAccess`.
   * @default false
   */
  readonly internetFacing?: boolean;
  /**
   * Certificate of an HTTPS listener. Required when internet-facing; on an internal load balancer it needs `domainName`.
   * @default - internal HTTP listener on port 80
   */
  readonly certificate?: acm.ICertificate;
  /**
   * The DNS name clients (and the stream handler) use, covered by `certificate`.
   * @default - the load balancer's DNS name
   */
  readonly domainName?: string;
  /**
   * Verify JWT bearer tokens on the load balancer (HTTPS only).
   * @default - none
   */
  readonly jwtAuthentication?: OcrServiceJwtAuthentication;
  /**
   * OpenID Connect login on the load balancer (HTTPS only).
   * @default - none
   */
  readonly oidcAuthentication?: OcrServiceOidcAuthentication;
  /**
   * Amazon Cognito login on the load balancer (HTTPS only).
   * @default - none
   */
  readonly cognitoAuthentication?: OcrServiceCognitoAuthentication;
  /**
   * Explicit opt-out: an internet-facing load balancer without authentication on the load balancer
   * (e.g. the service sits behind your own API gateway or checks tokens itself).
   * @default false
   */
  readonly allowUnauthenticatedAccess?: boolean;
  /**
   * Who may connect to the load balancer (also: `connections.allowDefaultPortFrom(...)`).
   * @default - nobody but the stream trigger when internal; any IPv4 address when internet-facing
   */
  readonly allowedClients?: ec2.IPeer[];
  /**
   * ARN of a WAFv2 web ACL (REGIONAL) to associate with the load balancer.
   * @default - none
   */
  readonly webAclArn?: string;
  /**
   * Deletion protection of the load balancer (it holds no data; protection blocks stack deletion).
   * @default false
   */
  readonly loadBalancerDeletionProtection?: boolean;
  /**
   * Load balancer idle timeout; must exceed `requestTimeout`.
   * @default Duration.seconds(60)
   */
  readonly idleTimeout?: Duration;

  // ----- Data -----
  /**
   * Bucket of documents and results.
   * @default - a new versioned, encrypted bucket
   */
  readonly documentsBucket?: s3.IBucket;
  /**
   * Status table (partition key `document_id`, string) with a NEW_AND_OLD_IMAGES stream.
   * @default - a new on-demand table with point-in-time recovery
   */
  readonly table?: dynamodb.ITable;
  /**
   * Key prefix of documents uploaded through `POST /extract`.
   * @default 'uploads/'
   */
  readonly uploadsPrefix?: string;
  /**
   * Key prefix of results.
   * @default 'results/'
   */
  readonly resultsPrefix?: string;
  /**
   * The Valkey result cache; pass `{}` for the defaults.
   * @default - no cache
   */
  readonly cache?: OcrServiceCacheOptions;

  // ----- Stream trigger -----
  /**
   * Retries of a failed hand-off batch (with bisection) before the batch goes to the S3 on-failure destination.
   * @default 3
   */
  readonly streamRetryAttempts?: number;
  /**
   * Stream records per handler invocation.
   * @default 10
   */
  readonly streamBatchSize?: number;
  /**
   * Timeout of one `POST /process` call of the stream handler.
   * @default Duration.seconds(10)
   */
  readonly handoffTimeout?: Duration;

  /**
   * Claims per document before the service marks it FAILED (`OCR_MAX_ATTEMPTS`).
   * @default 3
   */
  readonly maxAttempts?: number;

  // ----- Sweep -----
  /**
   * Run the sweep that hands off stale PENDING items again and releases expired PROCESSING claims.
   * @default true (with your own `table`, only when `statusIndexName` is given)
   */
  readonly sweep?: boolean;
  /**
   * How often the sweep runs.
   * @default Duration.minutes(5)
   */
  readonly sweepInterval?: Duration;
  /**
   * A PENDING item unchanged for this long is handed off again by the sweep.
   * @default Duration.minutes(10)
   */
  readonly stalePendingAfter?: Duration;
  /**
   * With your own `table`: the name of its index whose partition key is `status` (string).
   * @default - 'status-index' on the table the construct creates
   */
  readonly statusIndexName?: string;

  // ----- Operations -----
  /**
   * Tracing sidecar.
   * @default - no sidecar
   */
  readonly tracing?: OcrServiceTracingOptions;
  /**
   * Retention of the service's and the handler's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Customer-managed key for the table, the documents bucket, logs and the cache.
   * @default - AWS managed keys
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Removal policy of the table and the documents bucket (log groups are always destroyed).
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Instruction set of the stream handler.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Create a CloudWatch dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Create the alarms (5xx, latency, unhealthy tasks, stream trigger errors and lag, pending backlog).
   * They have no actions: add yours with `alarm.addAlarmAction(...)`.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Action of every alarm (e.g. `new cloudwatch_actions.SnsAction(topic)`).
   * @default - no action: the alarms show on the dashboard; add actions with `alarm.addAlarmAction(...)`
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * Alarm when more documents than this are PENDING (needs the sweep, which counts them).
   * @default 100
   */
  readonly pendingDocumentsAlarmThreshold?: number;
}

/** Answers Lambda's on-failure destination for stream batches: writes into the documents bucket. */
class DocumentsBucketFailureDestination implements lambda.IEventSourceDlq {
  constructor(private readonly bucket: s3.IBucket, private readonly prefix: string) {}

  public bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    // Lambda writes `aws/lambda/<mapping>/<shard>/<date>/...` with the function's role; unlike
    // aws-cdk-lib's S3OnFailureDestination (read-write on the whole bucket), only that prefix.
    this.bucket.grantPut(targetHandler, `${this.prefix}*`);
    targetHandler.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }));
    return { destination: this.bucket.bucketArn };
  }
}

/**
 * The OCR engine as an always-on HTTP service: an ECS Fargate service behind an Application Load
 * Balancer, with a DynamoDB status table whose stream hands new PENDING documents to the service,
 * an S3 documents bucket, an optional Valkey cache and tracing sidecar, autoscaling, alarms and a
 * dashboard.
 */
export class OcrServiceCluster extends Construct implements ec2.IConnectable {
  /** Where Lambda writes stream batches it gave up on (inside the documents bucket). */
  public static readonly FAILED_HANDOFFS_PREFIX = 'aws/lambda/';

  /** The VPC of the tasks, load balancer and in-VPC handlers: from `network`, `vpc` or `cluster`, else the created `network`'s. */
  public readonly vpc: ec2.IVpc;
  /** The CostOptimizedVpc the construct created (undefined with `vpc`, `network` or `cluster`). */
  public readonly network?: CostOptimizedVpc;
  /** The ECS cluster the service runs in: the `cluster` you passed, else a new one with Container Insights and Fargate (Spot) capacity providers. */
  public readonly cluster: ecs.ICluster;
  /** Fargate task definition of the service (x86_64 Linux; `cpu` and `memoryLimitMiB`). */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The OCR service container. */
  public readonly container: ecs.ContainerDefinition;
  /** Whether the in-VPC handlers (stream trigger, sweep) send X-Ray traces: they can reach X-Ray. */
  private readonly inVpcHandlersCanTrace: boolean;
  /** The tracing sidecar, with `tracing`. */
  public readonly tracingContainer?: ecs.ContainerDefinition;
  /** The ECS Fargate service running the OCR tasks in the workload subnets, with circuit-breaker rollback. */
  public readonly service: ecs.FargateService;
  /** Security group of the tasks: inbound only from the load balancer (and the handlers when internet-facing). */
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  /** Log group of the service containers (encrypted with `encryptionKey` if given; destroyed with the stack). */
  public readonly serviceLogGroup: logs.LogGroup;
  /** The internal (default) or internet-facing Application Load Balancer in front of the service. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Security group of the load balancer: inbound from `allowedClients` on the listener port, no default outbound. */
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Clients of the service: `ocr.connections.allowDefaultPortFrom(client)` opens the listener port to them. */
  public readonly connections: ec2.Connections;
  /** The listener clients call: HTTPS on 443 with `certificate`, else HTTP on 80; authenticates first if configured. */
  public readonly listener: elbv2.ApplicationListener;
  /** HTTP-to-HTTPS redirect listener (internet-facing only). */
  public readonly redirectListener?: elbv2.ApplicationListener;
  /** Target group of the tasks (IP targets, least outstanding requests, health check on `/health`). */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Bucket of ALB access logs and S3 server access logs (SSE-S3: ELB log delivery cannot use KMS). */
  public readonly accessLogsBucket: s3.Bucket;
  /** Bucket of the documents and OCR results: the `documentsBucket` you passed, else a new encrypted, versioned one. */
  public readonly documentsBucket: s3.IBucket;
  /** Status table of the documents (one item per document, with a stream): the `table` you passed, else a new one. */
  public readonly table: dynamodb.ITable;
  /** Task-count autoscaling of the service (CPU step scaling between the minimum and maximum capacity). */
  public readonly scalableTarget: ecs.ScalableTaskCount;
  /** The stream handler. */
  public readonly streamHandler: lambda.Function;
  /** Execution role of the stream handler. */
  public readonly streamHandlerRole: iam.Role;
  /** Log group of the stream handler. */
  public readonly streamHandlerLogGroup: logs.LogGroup;
  /** Table stream trigger of the stream handler: PENDING inserts and claims returned to PENDING; failed batches go to the documents bucket. */
  public readonly streamEventSource: DynamoEventSource;
  /** The Valkey replication group, with `cache`. */
  public readonly cacheReplicationGroup?: elasticache.CfnReplicationGroup;
  /** Subnet group of the cache (the workload subnets), with `cache`. */
  public readonly cacheSubnetGroup?: elasticache.CfnSubnetGroup;
  /** Security group of the cache: inbound only from the service tasks on the cache port, with `cache`. */
  public readonly cacheSecurityGroup?: ec2.SecurityGroup;
  /** AUTH token of the cache. */
  public readonly cacheAuthSecret?: secretsmanager.Secret;
  /** Association of the `webAclArn` WAF web ACL with the load balancer, with `webAclArn`. */
  public readonly webAclAssociation?: wafv2.CfnWebACLAssociation;
  /**
   * Private DNS namespace through which the stream trigger reaches the tasks when the load balancer
   * is internet-facing (a private subnet has no route to it, and its listener demands authentication).
   */
  public readonly serviceDiscoveryNamespace?: servicediscovery.PrivateDnsNamespace;
  /** The sweep handler (with `sweep`). */
  public readonly sweepHandler?: lambda.Function;
  /** Execution role of the sweep handler (with `sweep`). */
  public readonly sweepHandlerRole?: iam.Role;
  /** Log group of the sweep handler (with `sweep`). */
  public readonly sweepHandlerLogGroup?: logs.LogGroup;
  /** Dead-letter queue of the sweep's scheduled invocations. */
  public readonly sweepDeadLetterQueue?: sqs.Queue;
  /** EventBridge rule that invokes the sweep every `sweepInterval` (with `sweep`). */
  public readonly sweepSchedule?: events.Rule;
  /** Name of the status index (partition key `status`), when there is one. */
  public readonly statusIndexName?: string;
  /** Value of the `Service` dimension of the service's and the sweep's EMF metrics. */
  public readonly metricsServiceName: string;
  /** Namespace of the service's and the sweep's EMF metrics. */
  public readonly metricsNamespace: string;
  /** CloudWatch dashboard of the service (unless `dashboard: false`). */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Tasks answering 5xx (also a deployment rollback alarm). */
  public readonly target5xxAlarm?: cloudwatch.Alarm;
  /** Tasks failing /health (also a deployment rollback alarm). */
  public readonly unhealthyTasksAlarm?: cloudwatch.Alarm;
  /** Every alarm created (actions only with `alarmAction`). */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Base URL of the service as the stream handler calls it. */
  public readonly serviceUrl: string;
  /** Environment of the service container (the contract; secrets excluded). */
  public readonly containerEnvironment: { [key: string]: string };

  constructor(scope: Construct, id: string, props: OcrServiceClusterProps = {}) {
    super(scope, id);
    const check = new PropChecker(CONSTRUCT_TYPE, id);
    const timings = validateProps(check, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const port = props.containerPort ?? OcrServiceApi.DEFAULT_PORT;
    const capacity = props.capacity ?? OcrServiceCapacity.ON_DEMAND;
    const uploadsPrefix = props.uploadsPrefix ?? 'uploads/';
    const resultsPrefix = props.resultsPrefix ?? 'results/';
    const internetFacing = props.internetFacing ?? false;

    // ----- Network -----
    if (props.network) {
      this.vpc = props.network.vpc;
    } else if (props.vpc) {
      this.vpc = props.vpc;
    } else if (props.cluster) {
      this.vpc = props.cluster.vpc;
    } else {
      this.network = new CostOptimizedVpc(this, 'Network', { maxAzs: 2 });
      this.vpc = this.network.vpc;
    }
    const network = props.network ?? this.network;
    const workloadSubnets = props.vpcSubnets ?? network?.workloadSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    // The stream trigger and the sweep run in the VPC with the tasks: in a CostOptimizedVpc (no route
    // out) their traces reach X-Ray only through its endpoint, which is there with `tracing`.
    this.inVpcHandlersCanTrace = !network || props.tracing !== undefined;
    if (network) {
      const endpoints = ['ecr.api', 'ecr.dkr', 'logs', 's3', 'dynamodb'];
      if (props.tracing) endpoints.push('xray');
      if (props.secrets || props.cache) endpoints.push('secretsmanager');
      network.requireEndpoints(endpoints);
    }

    // ----- Cluster -----
    if (props.cluster) {
      this.cluster = props.cluster;
      if (capacity !== OcrServiceCapacity.ON_DEMAND) {
        if (props.cluster instanceof ecs.Cluster) {
          props.cluster.enableFargateCapacityProviders();
        } else {
          Annotations.of(this).addWarningV2('cdk-ocr-constructs:spotNeedsCapacityProviders',
            'capacity uses FARGATE_SPOT: make sure the imported cluster has the FARGATE and FARGATE_SPOT capacity providers');
        }
      }
    } else {
      this.cluster = new ecs.Cluster(this, 'Cluster', {
        vpc: this.vpc,
        containerInsightsV2: ecs.ContainerInsights.ENHANCED,
        enableFargateCapacityProviders: true,
      });
    }

    // ----- Data -----
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      // ALB access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy,
      autoDeleteObjects: false,
    });
    {
      const reasonLogs = 'This bucket receives the ALB access logs and S3 server access logs of the OCR service; logging its own access would log into itself.';
      const reasonKms = 'Elastic Load Balancing access-log delivery supports only SSE-S3 on the target bucket, so this access-log bucket cannot use SSE-KMS.';
      const reasonReplication = 'Access logs of the OCR service are kept in one region for a year; cross-region replication would double their cost without a recovery need.';
      acknowledgeNagFindings(this.accessLogsBucket, [
        { ruleId: 'AwsSolutions-S1', reason: reasonLogs },
        { ruleId: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: reasonLogs },
        { ruleId: 'HIPAA.Security-S3BucketLoggingEnabled', reason: reasonLogs },
        { ruleId: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: reasonKms },
        { ruleId: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: reasonKms },
        { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: reasonReplication },
        { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: reasonReplication },
      ]);
    }

    if (props.documentsBucket) {
      this.documentsBucket = props.documentsBucket;
    } else {
      const bucket = new s3.Bucket(this, 'DocumentsBucket', {
        encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.KMS_MANAGED,
        encryptionKey: props.encryptionKey,
        bucketKeyEnabled: props.encryptionKey ? true : undefined,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: true,
        lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
        removalPolicy,
      });
      this.enableServerAccessLogs(bucket, 'documents-bucket/');
      const reasonReplication = 'Documents and OCR results are versioned in one region; cross-region replication is a disaster-recovery choice for the owner of the data, not a default of the OCR service.';
      acknowledgeNagFindings(bucket, [
        { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: reasonReplication },
        { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: reasonReplication },
      ]);
      this.documentsBucket = bucket;
    }

    if (props.table) {
      if (!props.table.tableStreamArn) {
        check.fail('table', 'must have a stream (NEW_AND_OLD_IMAGES); import it with tableStreamArn');
      }
      this.table = props.table;
    } else {
      const table = new dynamodb.Table(this, 'StatusTable', {
        partitionKey: { name: OcrDocumentAttributes.DOCUMENT_ID, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
        encryptionKey: props.encryptionKey,
        stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        timeToLiveAttribute: OcrDocumentAttributes.EXPIRES_AT,
        removalPolicy,
      });
      // The sweep's view of unfinished work. Partition key `status` concentrates writes on four
      // values; one index partition absorbs 1000 writes/s, far above an OCR fleet's status changes.
      table.addGlobalSecondaryIndex({
        indexName: DEFAULT_STATUS_INDEX,
        partitionKey: { name: OcrDocumentAttributes.STATUS, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [
          OcrDocumentAttributes.BUCKET, OcrDocumentAttributes.KEY, OcrDocumentAttributes.FILE_TYPE,
          OcrDocumentAttributes.UPDATED_AT, OcrDocumentAttributes.LEASE_EXPIRES_AT, OcrDocumentAttributes.OWNER,
        ],
      });
      const reasonBackup = 'The OCR status table has point-in-time recovery (35 days of continuous backups); an AWS Backup plan is the account owner\'s choice and is not created by a construct.';
      acknowledgeNagFindings(table, [
        { ruleId: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: reasonBackup },
        { ruleId: 'HIPAA.Security-DynamoDBInBackupPlan', reason: reasonBackup },
      ]);
      this.table = table;
    }

    // ----- Load balancer -----
    this.loadBalancerSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: this.vpc,
      description: 'OCR service load balancer',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing,
      vpcSubnets: props.loadBalancerSubnets ?? (internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : workloadSubnets),
      securityGroup: this.loadBalancerSecurityGroup,
      dropInvalidHeaderFields: true,
      idleTimeout: timings.idleTimeout,
      deletionProtection: props.loadBalancerDeletionProtection ?? false,
    });
    if (Token.isUnresolved(Stack.of(this).region)) {
      // The bucket policy for ALB access logs names the region's Elastic Load Balancing account.
      check.fail('scope', 'must be in a stack with an explicit region (env: { region }): ALB access-log delivery is granted to the region\'s Elastic Load Balancing account');
    }
    this.loadBalancer.logAccessLogs(this.accessLogsBucket, 'alb');
    const listenerPort = props.certificate ? 443 : 80;
    // Internal: nobody but the stream trigger until the user allows clients (`allowedClients` or
    // `connections.allowDefaultPortFrom(...)`); internet-facing: anyone, authenticated on the listener.
    const clients = props.allowedClients ?? (internetFacing ? [ec2.Peer.anyIpv4()] : []);
    this.connections = new ec2.Connections({ securityGroups: [this.loadBalancerSecurityGroup], defaultPort: ec2.Port.tcp(listenerPort) });
    for (const client of clients) {
      this.loadBalancerSecurityGroup.addIngressRule(client, ec2.Port.tcp(listenerPort), 'OCR service clients');
    }

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      vpc: this.vpc,
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: timings.deregistrationDelay,
      // OCR requests differ by orders of magnitude in cost: send the next one to the task with the
      // fewest in flight rather than round robin.
      loadBalancingAlgorithmType: elbv2.TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
      healthCheck: {
        path: OcrServiceApi.HEALTH_PATH,
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    const forward = elbv2.ListenerAction.forward([this.targetGroup]);
    let defaultAction = forward;
    if (props.jwtAuthentication) {
      // JWT validation on ALB is recent in aws-cdk-lib; fail clearly on an older peer version.
      if (typeof (elbv2.ListenerAction as { authenticateJwt?: unknown }).authenticateJwt !== 'function') {
        check.fail('jwtAuthentication', 'needs an aws-cdk-lib release with ListenerAction.authenticateJwt (2.276.0 is tested); upgrade aws-cdk-lib or use oidcAuthentication');
      }
      defaultAction = elbv2.ListenerAction.authenticateJwt({ ...props.jwtAuthentication, next: forward });
    } else if (props.cognitoAuthentication) {
      defaultAction = new elbv2_actions.AuthenticateCognitoAction({ ...props.cognitoAuthentication, next: forward });
    } else if (props.oidcAuthentication) {
      defaultAction = elbv2.ListenerAction.authenticateOidc({
        ...props.oidcAuthentication,
        scope: props.oidcAuthentication.scope ?? 'openid',
        onUnauthenticatedRequest: elbv2.UnauthenticatedAction.AUTHENTICATE,
        next: forward,
      });
    }
    this.listener = this.loadBalancer.addListener('Listener', {
      port: listenerPort,
      protocol: props.certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      certificates: props.certificate ? [props.certificate] : undefined,
      sslPolicy: props.certificate ? elbv2.SslPolicy.RECOMMENDED_TLS : undefined,
      open: false,
      defaultAction,
    });
    if (props.jwtAuthentication) {
      // The load balancer fetches the issuer's JWKS over HTTPS (the OIDC and Cognito actions open this themselves).
      this.loadBalancerSecurityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'JWKS endpoint of the JWT issuer');
    }
    // The listener's default action names the target group; record the dependency for the ALB->task rule.
    this.targetGroup.registerListener(this.listener);
    if (internetFacing) {
      this.redirectListener = this.loadBalancer.addListener('RedirectListener', {
        port: 80,
        protocol: elbv2.ApplicationProtocol.HTTP,
        open: false,
        defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
      });
      for (const client of clients) {
        this.loadBalancerSecurityGroup.addIngressRule(client, ec2.Port.tcp(80), 'OCR service clients (redirect to HTTPS)');
      }
      const reason = 'This listener only answers 301 to the HTTPS listener of the OCR service (no content, no forwarding), so it needs no certificate.';
      acknowledgeNagFindings(this.redirectListener, [
        { ruleId: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason }, { ruleId: 'HIPAA.Security-ELBv2ACMCertificateRequired', reason },
      ]);
    }
    if (props.webAclArn) {
      this.webAclAssociation = new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
        resourceArn: this.loadBalancer.loadBalancerArn,
        webAclArn: props.webAclArn,
      });
    }
    {
      const acks = [];
      if (!props.webAclArn && !internetFacing) {
        const reason = 'The OCR service load balancer is internal (reachable from inside the VPC only); pass webAclArn to attach a WAF web ACL.';
        acks.push({ ruleId: 'NIST.800.53.R5-ALBWAFEnabled', reason });
      }
      if (!(props.loadBalancerDeletionProtection ?? false)) {
        const reason = 'The OCR service load balancer holds no data and is recreated with the stack; deletion protection would block stack deletion (set loadBalancerDeletionProtection to turn it on).';
        acks.push({ ruleId: 'NIST.800.53.R5-ELBDeletionProtectionEnabled', reason }, { ruleId: 'HIPAA.Security-ELBDeletionProtectionEnabled', reason });
      }
      if (acks.length > 0) acknowledgeNagFindings(this.loadBalancer, acks);
      if (!props.certificate) {
        const reason = 'The internal OCR service listener uses HTTP inside the VPC only (no internet route; clients limited by security group); pass certificate and domainName for HTTPS.';
        acknowledgeNagFindings(this.listener, [
          { ruleId: 'NIST.800.53.R5-ALBHttpToHttpsRedirection', reason }, { ruleId: 'HIPAA.Security-ALBHttpToHttpsRedirection', reason },
          { ruleId: 'NIST.800.53.R5-ELBv2ACMCertificateRequired', reason }, { ruleId: 'HIPAA.Security-ELBv2ACMCertificateRequired', reason },
        ]);
      }
      if (internetFacing && clients.length > 0) {
        acknowledgeNagFindings(this.loadBalancerSecurityGroup, [{
          ruleId: 'AwsSolutions-EC23',
          reason: 'The OCR service load balancer is internet-facing by explicit choice (internetFacing), HTTPS only, with authentication on the listener unless explicitly opted out.',
        }]);
      }
    }

    // ----- Cache -----
    this.serviceSecurityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', {
      vpc: this.vpc,
      description: 'OCR service tasks: inbound only from the load balancer',
      allowAllOutbound: true,
    });
    let cacheEnvironment: { [key: string]: string } = {};
    const containerSecrets: { [key: string]: ecs.Secret } = { ...(props.secrets ?? {}) };
    if (props.cache) {
      const cache = this.createCache(props.cache, workloadSubnets, props.encryptionKey);
      const host = cache.attrPrimaryEndPointAddress;
      const cachePort = cache.attrPrimaryEndPointPort;
      cacheEnvironment = {
        [OcrServiceEnvironment.REDIS_URL]: `rediss://${host}:${cachePort}`,
        [OcrServiceEnvironment.REDIS_HOST]: host,
        [OcrServiceEnvironment.REDIS_PORT]: cachePort,
        [OcrServiceEnvironment.REDIS_TLS]: 'true',
        [OcrServiceEnvironment.CACHE_TTL_SECONDS]: String((props.cache.ttl ?? Duration.days(7)).toSeconds()),
      };
      containerSecrets[OcrServiceEnvironment.REDIS_AUTH_TOKEN] = ecs.Secret.fromSecretsManager(this.cacheAuthSecret!);
    }

    this.metricsNamespace = props.metricsNamespace ?? 'CdkOcrConstructs';
    this.metricsServiceName = Names.uniqueResourceName(this, { maxLength: 64 });
    this.statusIndexName = props.table ? props.statusIndexName : DEFAULT_STATUS_INDEX;

    // ----- Task -----
    this.serviceLogGroup = new logs.LogGroup(this, 'ServiceLogGroup', {
      retention: logRetention,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'TaskDefinition', {
      cpu: props.cpu ?? 1024,
      memoryLimitMiB: props.memoryLimitMiB ?? 3072,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    if (!props.image && !fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))) {
      check.fail('image', `is required: the bundled OCR worker (${WORKER_DIRECTORY}) is not in this installation`);
    }
    // the worker's own default when unset (see defaultPdfRenderer)
    const pdfRenderer = props.pdfRenderer ?? defaultPdfRenderer(props.ocrEngine);
    if (!props.image) {
      // the service refuses to start with a language it has no data for: say so at synth, not in a crash loop
      const problem = bundledImageLanguageProblem((props.languages ?? 'eng').split('+'), bundledWorkerLanguages(), "an 'image'");
      if (problem) check.fail('languages', problem);
      const rendererProblem = bundledImageRendererProblem(pdfRenderer, props.ocrEngine, "an 'image'");
      if (rendererProblem) check.fail('pdfRenderer', rendererProblem);
    }
    const image = props.image ?? ecs.ContainerImage.fromDockerImageAsset(workerImageAsset(this, 'WorkerImage', { cpuArchitecture: props.cpuArchitecture, ocrEngine: props.ocrEngine }));
    this.containerEnvironment = {
      ...(props.environment ?? {}),
      [OcrServiceEnvironment.MODE]: OcrServiceEnvironment.MODE_SERVICE,
      [OcrServiceEnvironment.PORT]: String(port),
      [OcrServiceEnvironment.TABLE_NAME]: this.table.tableName,
      [OcrServiceEnvironment.DOCUMENTS_BUCKET]: this.documentsBucket.bucketName,
      [OcrServiceEnvironment.UPLOADS_PREFIX]: uploadsPrefix,
      [OcrServiceEnvironment.RESULTS_PREFIX]: resultsPrefix,
      [OcrServiceEnvironment.REQUEST_TIMEOUT_SECONDS]: String(timings.requestTimeout.toSeconds()),
      [OcrServiceEnvironment.SHUTDOWN_GRACE_SECONDS]: String(timings.shutdownGrace.toSeconds()),
      [OcrServiceEnvironment.LEASE_SECONDS]: String(Math.max(timings.documentTimeout.toSeconds() + 60, 300)),
      [OcrServiceEnvironment.MAX_DOCUMENT_BYTES]: String((props.maxDocumentSize ?? Size.mebibytes(50)).toBytes()),
      [OcrServiceEnvironment.WORKERS]: String(props.workersPerTask ?? 1),
      [OcrServiceEnvironment.DOC_TIMEOUT_SECONDS]: String(timings.documentTimeout.toSeconds()),
      [OcrServiceEnvironment.LANGUAGES]: props.languages ?? 'eng',
      [OcrServiceEnvironment.OCR_ENGINE]: props.ocrEngine ?? OcrEngine.TESSERACT_JS,
      [OcrServiceEnvironment.PDF_RENDERER]: pdfRenderer,
      [OcrServiceEnvironment.MAX_ATTEMPTS]: String(props.maxAttempts ?? 3),
      [OcrServiceEnvironment.METRICS_NAMESPACE]: this.metricsNamespace,
      [OcrServiceEnvironment.METRICS_SERVICE]: this.metricsServiceName,
      ...cacheEnvironment,
      ...(props.tracing ? { [OcrServiceEnvironment.XRAY_DAEMON_ADDRESS]: '127.0.0.1:2000' } : {}),
    };
    const readonlyRoot = props.readonlyRootFilesystem ?? true;
    this.container = this.taskDefinition.addContainer('Service', {
      image,
      command: props.command ?? (props.image ? undefined : OcrServiceApi.BUNDLED_IMAGE_COMMAND),
      essential: true,
      portMappings: [{ containerPort: port, name: 'http', protocol: ecs.Protocol.TCP }],
      environment: this.containerEnvironment,
      secrets: Object.keys(containerSecrets).length > 0 ? containerSecrets : undefined,
      stopTimeout: timings.stopTimeout,
      readonlyRootFilesystem: readonlyRoot,
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'ocr-service',
        logGroup: this.serviceLogGroup,
        // A slow log pipe must never block request handling; the buffer absorbs bursts.
        mode: ecs.AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    });
    if (readonlyRoot) {
      // Scratch space for the engine (rendered pages, uploads in flight) on the task's ephemeral storage.
      this.taskDefinition.addVolume({ name: 'tmp' });
      this.container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
    }
    if (props.tracing) {
      this.tracingContainer = this.taskDefinition.addContainer('Tracing', {
        image: props.tracing.image,
        essential: false,
        cpu: props.tracing.cpu ?? 32,
        memoryReservationMiB: props.tracing.memoryLimitMiB ?? 256,
        portMappings: [{ containerPort: 2000, protocol: ecs.Protocol.UDP }],
        logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'tracing', logGroup: this.serviceLogGroup, mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
      });
      this.taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'],
        resources: ['*'],
      }));
    }
    // Every image of the task must be pullable from the workload subnets as configured.
    const withoutInternet = subnetsWithoutInternet(this.vpc, workloadSubnets);
    const images: [string, ecs.ContainerDefinition | undefined][] = [['image', this.container], ['tracing.image', this.tracingContainer]];
    for (const [prop, container] of images) {
      const problem = container ? imagePullProblem(container.imageName, withoutInternet) : undefined;
      if (problem) check.fail(prop, problem);
    }
    this.table.grantReadWriteData(this.taskDefinition.taskRole);
    this.documentsBucket.grantRead(this.taskDefinition.taskRole);
    this.documentsBucket.grantPut(this.taskDefinition.taskRole, `${uploadsPrefix}*`);
    this.documentsBucket.grantPut(this.taskDefinition.taskRole, `${resultsPrefix}*`);

    // ----- Service -----
    const capacityProviderStrategies = capacity === OcrServiceCapacity.SPOT
      ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]
      : capacity === OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE
        ? [{ capacityProvider: 'FARGATE', base: 1, weight: 0 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }]
        : undefined;
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: timings.desiredCount,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.seconds(120),
      vpcSubnets: workloadSubnets,
      securityGroups: [this.serviceSecurityGroup],
      assignPublicIp: false,
      capacityProviderStrategies,
      cloudMapOptions: internetFacing ? {
        cloudMapNamespace: this.createNamespace(),
        name: 'ocr',
        dnsRecordType: servicediscovery.DnsRecordType.A,
        dnsTtl: Duration.seconds(10),
      } : undefined,
      propagateTags: ecs.PropagatedTagSource.SERVICE,
      enableECSManagedTags: true,
    });
    this.targetGroup.addTarget(this.service.loadBalancerTarget({ containerName: 'Service', containerPort: port }));

    // ----- Scaling -----
    this.scalableTarget = this.service.autoScaleTaskCount({ minCapacity: timings.minCapacity, maxCapacity: timings.maxCapacity });
    // Scale out at 70% CPU and in at 30% is a band, not a target: target tracking takes one target
    // value, so CPU uses step scaling with a no-change band in between (no flapping).
    this.scalableTarget.scaleOnMetric('CpuBand', {
      metric: this.service.metricCpuUtilization({ period: Duration.minutes(1) }),
      scalingSteps: [
        { upper: timings.cpuScaleIn, change: -1 },
        { lower: timings.cpuScaleOut, change: +1 },
      ],
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(2),
      evaluationPeriods: 3,
    });
    // Requests per task: scale out early on bursts (before CPU catches up); scale-in stays with
    // the CPU band so that the two policies never pull in opposite directions.
    this.scalableTarget.scaleOnRequestCount('RequestsPerTarget', {
      requestsPerTarget: timings.requestsPerTarget,
      targetGroup: this.targetGroup,
      disableScaleIn: true,
      scaleOutCooldown: Duration.minutes(1),
    });

    // ----- Stream trigger -----
    if (internetFacing) {
      // Straight to the tasks through Cloud Map (A records of the task IPs), inside the VPC.
      this.serviceUrl = `http://ocr.${this.serviceDiscoveryNamespace!.namespaceName}:${port}`;
    } else {
      const scheme = props.certificate ? 'https' : 'http';
      this.serviceUrl = `${scheme}://${props.domainName ?? this.loadBalancer.loadBalancerDnsName}`;
    }
    const handoffTimeout = timings.handoffTimeout;
    const batchSize = props.streamBatchSize ?? 10;
    const handler = createHandler(this, 'StreamTrigger', (s, i, p) => new StreamTriggerFunction(s, i, p), {
      purpose: 'OCR service stream trigger',
      // Records are handed off one after another; each call is bounded by the hand-off timeout.
      timeout: Duration.seconds(Math.min(900, batchSize * handoffTimeout.toSeconds() + 30)),
      invocation: 'poll',
      architecture: props.architecture,
      encryptionKey: props.encryptionKey,
      logRetention,
      // It calls the internal load balancer, so it runs in the VPC; it calls no AWS API.
      vpc: this.vpc,
      vpcSubnets: workloadSubnets,
      // In the construct's network its traces reach X-Ray only through the endpoint that `tracing` adds.
      tracing: this.inVpcHandlersCanTrace,
      environment: {
        [OcrStreamHandlerEnvironment.SERVICE_URL]: this.serviceUrl,
        [OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS]: String(handoffTimeout.toMilliseconds()),
      },
    });
    this.streamHandler = handler.function;
    this.streamHandlerRole = handler.role;
    this.streamHandlerLogGroup = handler.logGroup;
    if (internetFacing) {
      this.streamHandler.connections.allowTo(this.serviceSecurityGroup, ec2.Port.tcp(port), 'OCR stream trigger to the tasks (Cloud Map)');
    } else {
      this.streamHandler.connections.allowTo(this.loadBalancer, ec2.Port.tcp(listenerPort), 'OCR stream trigger to the service');
    }

    const pending = lambda.FilterRule.or(...OcrDocumentStatuses.PENDING_SPELLINGS);
    this.streamEventSource = new DynamoEventSource(this.table, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: props.streamRetryAttempts ?? 3,
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new DocumentsBucketFailureDestination(this.documentsBucket, OcrServiceCluster.FAILED_HANDOFFS_PREFIX),
      filters: [
        // New documents, as producers insert them: lower-case `pending` or upper case.
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { NewImage: { [OcrDocumentAttributes.STATUS]: { S: pending } } },
        }),
        // Work handed back: a task's claim returned to PENDING (SIGTERM, or the claim expired).
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('MODIFY'),
          dynamodb: {
            NewImage: { [OcrDocumentAttributes.STATUS]: { S: pending } },
            OldImage: { [OcrDocumentAttributes.STATUS]: { S: lambda.FilterRule.isEqual(OcrDocumentStatus.PROCESSING) } },
          },
        }),
      ],
    });
    this.streamHandler.addEventSource(this.streamEventSource);

    // ----- Sweep -----
    const sweepEnabled = (props.sweep ?? true) && this.statusIndexName !== undefined;
    if (props.sweep === true && this.statusIndexName === undefined) {
      check.fail('sweep', 'needs \'statusIndexName\' (an index of your table with partition key \'status\')');
    }
    if (sweepEnabled) this.createSweep(props, workloadSubnets, logRetention, listenerPort, port, internetFacing);

    if (props.alarms ?? true) {
      this.createAlarms(props, timings);
      // A deployment that makes the tasks answer 5xx or fail /health is rolled back even when the
      // new tasks pass their health checks long enough for the circuit breaker.
      this.service.enableDeploymentAlarms(
        [this.target5xxAlarm!.alarmName, this.unhealthyTasksAlarm!.alarmName],
        { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      );
    }
    if (props.dashboard ?? true) {
      (this as { dashboard?: cloudwatch.Dashboard }).dashboard = this.createDashboard();
    }

    // What a producer and an operator need after `cdk deploy --outputs-file`.
    new CfnOutput(this, 'ServiceUrl', { value: this.serviceUrl, description: 'OCR service base URL (the load balancer)' });
    new CfnOutput(this, 'DocumentsBucketName', { value: this.documentsBucket.bucketName, description: 'Bucket of the documents and their results' });
    new CfnOutput(this, 'StatusTableName', { value: this.table.tableName, description: 'Status table: a PENDING item names a document to OCR' });
    this.acknowledgeFindings(handler.role, !!props.encryptionKey);
  }

  /** Let a producer submit documents: upload under the uploads prefix and insert a PENDING item. */
  public grantSubmitDocuments(grantee: iam.IGrantable): iam.Grant {
    this.documentsBucket.grantPut(grantee, `${this.containerEnvironment[OcrServiceEnvironment.UPLOADS_PREFIX]}*`);
    // Items of a table with a customer-managed key are encrypted with the caller's permissions too.
    this.table.encryptionKey?.grantEncryptDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:GetItem');
  }

  /** Let a consumer read statuses and results. */
  public grantReadResults(grantee: iam.IGrantable): iam.Grant {
    this.documentsBucket.grantRead(grantee, `${this.containerEnvironment[OcrServiceEnvironment.RESULTS_PREFIX]}*`);
    this.table.encryptionKey?.grantDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
  }

  /** Requests reaching the tasks (Sum). */
  public metricRequestCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.requestCount({ period: Duration.minutes(1), ...props });
  }

  /** Time from the load balancer to the task's response (p99 by default). */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1), ...props });
  }

  /** 5xx answers of the tasks (Sum). */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(1), ...props });
  }

  /** 5xx answers of the load balancer itself, e.g. 502/503 with no healthy task (Sum). */
  public metricLoadBalancer5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(1), ...props });
  }

  /** Tasks failing the `/health` check (Maximum). */
  public metricUnhealthyTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  /** Average CPU of the service's tasks, percent. */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricCpuUtilization({ period: Duration.minutes(1), ...props });
  }

  /** Average memory of the service's tasks, percent. */
  public metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricMemoryUtilization({ period: Duration.minutes(1), ...props });
  }

  /** Running tasks (Container Insights). */
  public metricRunningTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: 'Average',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** The queue: items with status PENDING, as counted by the sweep (Maximum). */
  public metricPendingDocuments(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric(OcrServiceMetrics.PENDING_DOCUMENTS, { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  /** Documents the service finished with status SUCCEEDED (the engine's EMF metric, Sum). */
  public metricDocumentsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric('DocumentsSucceeded', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /** Documents the service finished with status FAILED (the engine's EMF metric, Sum). */
  public metricDocumentsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric('DocumentsFailed', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /** Age of the oldest stream record the trigger has not handled yet (Maximum, ms). */
  public metricStreamIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.streamHandler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  private serviceMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { Service: this.metricsServiceName },
      ...props,
    });
  }

  private createSweep(
    props: OcrServiceClusterProps, subnets: ec2.SubnetSelection, logRetention: logs.RetentionDays,
    listenerPort: number, port: number, internetFacing: boolean,
  ): void {
    const handoffTimeout = props.handoffTimeout ?? Duration.seconds(10);
    const interval = props.sweepInterval ?? Duration.minutes(5);
    const handler = createHandler(this, 'Sweep', (s, i, p) => new StaleSweepFunction(s, i, p), {
      purpose: 'OCR service stale-work sweep',
      timeout: Duration.minutes(2),
      invocation: 'async',
      architecture: props.architecture,
      encryptionKey: props.encryptionKey,
      logRetention,
      vpc: this.vpc,
      vpcSubnets: subnets,
      tracing: this.inVpcHandlersCanTrace,
      environment: {
        [OcrStreamHandlerEnvironment.SERVICE_URL]: this.serviceUrl,
        [OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS]: String(handoffTimeout.toMilliseconds()),
        [OcrStreamHandlerEnvironment.TABLE_NAME]: this.table.tableName,
        [OcrStreamHandlerEnvironment.STATUS_INDEX_NAME]: this.statusIndexName!,
        [OcrStreamHandlerEnvironment.STALE_PENDING_SECONDS]: String((props.stalePendingAfter ?? Duration.minutes(10)).toSeconds()),
        [OcrStreamHandlerEnvironment.SWEEP_MAX_ITEMS]: '100',
        [OcrStreamHandlerEnvironment.METRICS_NAMESPACE]: this.metricsNamespace,
        [OcrStreamHandlerEnvironment.METRICS_SERVICE]: this.metricsServiceName,
      },
    });
    // Exactly the two calls it makes: query the status index, conditionally release a claim.
    handler.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${this.table.tableArn}/index/${this.statusIndexName}`],
    }));
    handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [this.table.tableArn] }));
    this.table.encryptionKey?.grantEncryptDecrypt(handler.role);
    if (internetFacing) {
      handler.function.connections.allowTo(this.serviceSecurityGroup, ec2.Port.tcp(port), 'OCR sweep to the tasks (Cloud Map)');
    } else {
      handler.function.connections.allowTo(this.loadBalancer, ec2.Port.tcp(listenerPort), 'OCR sweep to the service');
    }
    const schedule = new events.Rule(this, 'SweepSchedule', {
      description: 'OCR service: re-drive stale PENDING documents and release expired claims',
      schedule: events.Schedule.rate(interval),
      targets: [new events_targets.LambdaFunction(handler.function, { retryAttempts: 0 })],
    });
    if (this.table.encryptionKey) {
      acknowledgeNagFindings(handler.role.node.findChild('DefaultPolicy'), [{
        ruleId: 'AwsSolutions-IAM5',
        reason: 'The sweep decrypts and re-encrypts status items with the table key; KMS data-key actions are wildcards by name only, on this one key.',
        findings: ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
      }]);
    }
    const self = this as {
      sweepHandler?: lambda.Function;
      sweepHandlerRole?: iam.Role;
      sweepHandlerLogGroup?: logs.LogGroup;
      sweepDeadLetterQueue?: sqs.Queue;
      sweepSchedule?: events.Rule;
    };
    self.sweepHandler = handler.function;
    self.sweepHandlerRole = handler.role;
    self.sweepHandlerLogGroup = handler.logGroup;
    self.sweepDeadLetterQueue = handler.deadLetterQueue;
    self.sweepSchedule = schedule;
  }

  private createAlarms(props: OcrServiceClusterProps, timings: Timings): void {
    const add = (
      id: string, metric: cloudwatch.IMetric, threshold: number, description: string,
      comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, periods = 3,
    ) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `OCR service: ${description}`,
        actionsEnabled: true,
      });
      if (props.alarmAction) {
        alarm.addAlarmAction(props.alarmAction);
      } else {
        const reason = 'The OCR service cannot choose who is paged: this alarm shows on the dashboard, and alarmAction (or alarm.addAlarmAction) routes it to the owner.';
        acknowledgeNagFindings(alarm, [{ ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason }, { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason }]);
      }
      this.alarms.push(alarm);
      return alarm;
    };
    const self = this as { target5xxAlarm?: cloudwatch.Alarm; unhealthyTasksAlarm?: cloudwatch.Alarm };
    self.target5xxAlarm = add('Target5xxAlarm', this.metricTarget5xxCount({ period: Duration.minutes(5) }), 5, 'the tasks answered 5xx at least 5 times in each of 3 five-minute periods');
    add('LoadBalancer5xxAlarm', this.metricLoadBalancer5xxCount({ period: Duration.minutes(5) }), 5, 'the load balancer answered 5xx (no healthy task, timeouts) at least 5 times in each of 3 five-minute periods');
    add('LatencyAlarm', this.metricTargetResponseTime({ period: Duration.minutes(5) }), timings.requestTimeout.toSeconds() * 0.8,
      'p99 response time above 80% of the per-request bound for 15 minutes', cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    self.unhealthyTasksAlarm = add('UnhealthyTasksAlarm', this.metricUnhealthyTaskCount(), 1, 'a task has failed /health for 3 minutes');
    add('StreamTriggerErrorsAlarm', this.streamHandler.metricErrors({ period: Duration.minutes(5) }), 1, 'the stream trigger failed (retries, then the S3 on-failure destination)', undefined, 1);
    add('StreamLagAlarm', this.metricStreamIteratorAge({ period: Duration.minutes(5) }), Duration.minutes(15).toMilliseconds(), 'new documents wait more than 15 minutes for their hand-off', cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 1);
    if (this.sweepHandler) {
      add('PendingBacklogAlarm', this.metricPendingDocuments(), props.pendingDocumentsAlarmThreshold ?? 100,
        `more than ${props.pendingDocumentsAlarmThreshold ?? 100} documents are PENDING for 15 minutes`, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
    }
  }

  private createDashboard(): cloudwatch.Dashboard {
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    const graph = (title: string, left: cloudwatch.IMetric[], right?: cloudwatch.IMetric[]) =>
      new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
    dashboard.addWidgets(
      graph('Requests', [this.metricRequestCount()]),
      graph('Latency (p50, p99)', [this.metricTargetResponseTime({ statistic: 'p50', label: 'p50' }), this.metricTargetResponseTime({ label: 'p99' })]),
      graph('5xx', [this.metricTarget5xxCount({ label: 'tasks' }), this.metricLoadBalancer5xxCount({ label: 'load balancer' })]),
    );
    dashboard.addWidgets(
      graph('CPU and memory (%)', [this.metricCpuUtilization({ label: 'CPU' }), this.metricMemoryUtilization({ label: 'memory' })]),
      graph('Tasks', [this.metricRunningTaskCount({ label: 'running' }), this.metricUnhealthyTaskCount({ label: 'unhealthy' })]),
      graph('Documents', [this.metricDocumentsSucceeded({ label: 'succeeded' }), this.metricDocumentsFailed({ label: 'failed' })], [this.metricPendingDocuments({ label: 'pending (queue)' })]),
    );
    dashboard.addWidgets(
      graph('Stream trigger', [this.streamHandler.metricInvocations({ label: 'invocations' }), this.streamHandler.metricErrors({ label: 'errors' })], [this.metricStreamIteratorAge({ label: 'iterator age (ms)' })]),
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 16, height: 6 }),
    );
    return dashboard;
  }

  private createNamespace(): servicediscovery.PrivateDnsNamespace {
    // A name unique to this construct (two clusters in one VPC must not collide); not a physical
    // name anyone types: the stream trigger gets it from the construct.
    const suffix = Names.uniqueId(this).replace(/[^A-Za-z0-9]/g, '').slice(-12).toLowerCase();
    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'ServiceDiscovery', {
      name: `ocr-${suffix}.internal`,
      vpc: this.vpc,
      description: 'OCR service tasks, for the stream trigger',
    });
    (this as { serviceDiscoveryNamespace?: servicediscovery.PrivateDnsNamespace }).serviceDiscoveryNamespace = namespace;
    return namespace;
  }

  /**
   * S3 server access logs delivered by bucket policy (aws-cdk-lib's `serverAccessLogsBucket` uses
   * ACLs unless a feature flag is set in the user's app; ACLs are off on these buckets).
   */
  private enableServerAccessLogs(bucket: s3.Bucket, prefix: string): void {
    (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: this.accessLogsBucket.bucketName,
      logFilePrefix: prefix,
    };
    const stack = Stack.of(this);
    this.accessLogsBucket.addToResourcePolicy(new iam.PolicyStatement({
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [this.accessLogsBucket.arnForObjects(`${prefix}*`)],
      conditions: {
        ArnLike: { 'aws:SourceArn': bucket.bucketArn },
        StringEquals: { 'aws:SourceAccount': stack.account },
      },
    }));
  }

  private createCache(
    options: OcrServiceCacheOptions, subnets: ec2.SubnetSelection, encryptionKey: kms.IKey | undefined,
  ): elasticache.CfnReplicationGroup {
    const replicas = options.replicas ?? 1;
    const snapshotRetentionDays = options.snapshotRetentionDays ?? 1;
    const self = this as {
      cacheAuthSecret?: secretsmanager.Secret;
      cacheSecurityGroup?: ec2.SecurityGroup;
      cacheSubnetGroup?: elasticache.CfnSubnetGroup;
      cacheReplicationGroup?: elasticache.CfnReplicationGroup;
    };
    const authSecret = new secretsmanager.Secret(this, 'CacheAuthToken', {
      description: 'AUTH token of the OCR service result cache (Valkey)',
      encryptionKey,
      // ElastiCache AUTH tokens: 16-128 printable characters without @, " and /.
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'CacheSecurityGroup', {
      vpc: this.vpc,
      description: 'OCR service result cache: inbound only from the service tasks',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(this.serviceSecurityGroup, ec2.Port.tcp(CACHE_PORT), 'OCR service tasks');
    const subnetGroup = new elasticache.CfnSubnetGroup(this, 'CacheSubnetGroup', {
      description: 'OCR service result cache',
      subnetIds: this.vpc.selectSubnets(subnets).subnetIds,
    });
    const group = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: 'OCR service result cache',
      engine: 'valkey',
      engineVersion: options.engineVersion ?? '8.0',
      cacheNodeType: options.nodeType ?? 'cache.t4g.micro',
      numCacheClusters: replicas + 1,
      automaticFailoverEnabled: replicas > 0,
      multiAzEnabled: replicas > 0,
      port: CACHE_PORT,
      cacheSubnetGroupName: subnetGroup.ref,
      securityGroupIds: [securityGroup.securityGroupId],
      transitEncryptionEnabled: true,
      transitEncryptionMode: 'required',
      atRestEncryptionEnabled: true,
      kmsKeyId: encryptionKey?.keyArn,
      authToken: authSecret.secretValue.unsafeUnwrap(),
      snapshotRetentionLimit: snapshotRetentionDays,
      autoMinorVersionUpgrade: true,
    });
    // A cache holds nothing that cannot be recomputed: it goes with the stack.
    group.applyRemovalPolicy(RemovalPolicy.DESTROY);

    const acks = [];
    if (snapshotRetentionDays < 15) {
      const reason = `The OCR result cache only holds results that are also in S3 and DynamoDB, so ${snapshotRetentionDays} day(s) of snapshots suffice; a lost cache is rebuilt by recomputation.`;
      acks.push({ ruleId: 'NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup', reason }, { ruleId: 'HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup', reason });
    }
    if (replicas === 0) {
      acks.push({ ruleId: 'AwsSolutions-AEC4', reason: 'The OCR result cache was configured with cache.replicas = 0: a single node is an explicit cost choice, and the service works without its cache.' });
    }
    if (acks.length > 0) acknowledgeNagFindings(group, acks);
    const rotation = 'Rotating an ElastiCache AUTH token needs a coordinated ROTATE/SET update of the replication group and a restart of the OCR tasks; the token never leaves Secrets Manager and the cache accepts only the service security group.';
    const secretAcks = [
      { ruleId: 'AwsSolutions-SMG4', reason: rotation },
      { ruleId: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: rotation },
      { ruleId: 'HIPAA.Security-SecretsManagerRotationEnabled', reason: rotation },
    ];
    if (!encryptionKey) {
      const reason = 'The OCR cache AUTH token is encrypted with the Secrets Manager AWS managed key; pass encryptionKey to use a customer-managed key.';
      secretAcks.push({ ruleId: 'NIST.800.53.R5-SecretsManagerUsingKMSKey', reason }, { ruleId: 'HIPAA.Security-SecretsManagerUsingKMSKey', reason });
    }
    acknowledgeNagFindings(authSecret, secretAcks);

    self.cacheAuthSecret = authSecret;
    self.cacheSecurityGroup = securityGroup;
    self.cacheSubnetGroup = subnetGroup;
    self.cacheReplicationGroup = group;
    return group;
  }

  /** Whether ECS pulls an image of this task from ECR (then the execution role may call GetAuthorizationToken). */
  private get pullsFromEcr(): boolean {
    const policy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
    return !!policy && JSON.stringify(Stack.of(this).resolve(policy.document.toJSON())).includes('ecr:GetAuthorizationToken');
  }

  /** By-design findings on the resources this construct created, each with its reason. */
  private acknowledgeFindings(handlerRole: iam.Role, customerKey: boolean): void {
    const taskDefinition = this.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
    acknowledgeNagFindings(taskDefinition, [{
      ruleId: 'AwsSolutions-ECS2',
      reason: 'The OCR service container gets its non-secret configuration (table, bucket, timings) as environment variables by contract; secrets are injected from Secrets Manager.',
    }]);

    acknowledgeInlinePolicyOf(this.taskDefinition.taskRole, 'OCR service task');
    if (this.taskDefinition.executionRole) acknowledgeInlinePolicyOf(this.taskDefinition.executionRole, 'OCR service task execution');
    const taskPolicy = this.taskDefinition.taskRole.node.tryFindChild('DefaultPolicy');
    if (taskPolicy) {
      const bucket = this.documentsBucket;
      const findings = [
        'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*',
        nagResourceFinding(this, bucket.arnForObjects('*')),
        nagResourceFinding(this, bucket.arnForObjects(`${this.containerEnvironment[OcrServiceEnvironment.UPLOADS_PREFIX]}*`)),
        nagResourceFinding(this, bucket.arnForObjects(`${this.containerEnvironment[OcrServiceEnvironment.RESULTS_PREFIX]}*`)),
        // grantReadWriteData covers the table's indexes (the status index).
        nagResourceFinding(this, `${this.table.tableArn}/index/*`),
      ];
      if (bucket.encryptionKey || this.table.encryptionKey) findings.push('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*');
      if (this.tracingContainer) findings.push('Resource::*');
      acknowledgeNagFindings(taskPolicy, [{
        ruleId: 'AwsSolutions-IAM5',
        reason: 'The OCR service reads documents at any key its producers name (their records carry their own key) and writes only under its uploads and results prefixes; it queries the indexes of its own status table; wildcard actions are the S3 read and multipart-upload families; X-Ray actions support no resource.',
        findings,
      }]);
    }

    const executionPolicy = this.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
    if (executionPolicy && this.pullsFromEcr) {
      acknowledgeNagFindings(executionPolicy, [{
        ruleId: 'AwsSolutions-IAM5',
        reason: 'ecr:GetAuthorizationToken, which ECS needs to pull the OCR service image from ECR, supports no resource-level permissions; image pulls themselves are limited to the image repository.',
        findings: ['Resource::*'],
      }]);
    }
    const handlerPolicy = handlerRole.node.tryFindChild('DefaultPolicy');
    if (handlerPolicy) {
      const findings = ['Action::s3:Abort*', nagResourceFinding(this, this.documentsBucket.arnForObjects(`${OcrServiceCluster.FAILED_HANDOFFS_PREFIX}*`))];
      if (this.documentsBucket.encryptionKey) findings.push('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*');
      acknowledgeNagFindings(handlerPolicy, [{
        ruleId: 'AwsSolutions-IAM5',
        reason: 'Lambda writes stream batches it gave up on under aws/lambda/ in the documents bucket with the trigger\'s role (S3 on-failure destination); object names are chosen by Lambda.',
        findings,
      }]);
    }
    if (!customerKey) {
      const reason = 'Log groups of the OCR service are encrypted by CloudWatch Logs with service-managed keys; pass encryptionKey to use a customer-managed KMS key.';
      for (const logGroup of [this.serviceLogGroup, this.streamHandlerLogGroup, ...(this.sweepHandlerLogGroup ? [this.sweepHandlerLogGroup] : [])]) {
        acknowledgeNagFindings(logGroup, [
          { ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason }, { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason },
        ]);
      }
    }
  }
}

interface Timings {
  readonly requestTimeout: Duration;
  readonly deregistrationDelay: Duration;
  readonly stopTimeout: Duration;
  readonly shutdownGrace: Duration;
  readonly idleTimeout: Duration;
  readonly documentTimeout: Duration;
  readonly handoffTimeout: Duration;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly desiredCount: number;
  readonly cpuScaleOut: number;
  readonly cpuScaleIn: number;
  readonly requestsPerTarget: number;
}

/** Every prop rule that does not need the constructed resources. */
function validateProps(check: PropChecker, props: OcrServiceClusterProps): Timings {
  if (props.network && props.vpc) check.fail('vpc', 'and \'network\' are mutually exclusive');
  if (isArm64(props.cpuArchitecture) && (props.capacity ?? OcrServiceCapacity.ON_DEMAND) !== OcrServiceCapacity.ON_DEMAND) {
    check.fail('cpuArchitecture', "ARM64 needs 'capacity: ON_DEMAND': Fargate Spot runs X86_64 Linux tasks only");
  }
  const vpcIdsKnown = props.cluster && props.vpc && !Token.isUnresolved(props.vpc.vpcId) && !Token.isUnresolved(props.cluster.vpc.vpcId);
  if (vpcIdsKnown && props.cluster!.vpc.vpcId !== props.vpc!.vpcId) {
    check.fail('cluster', 'must be in \'vpc\'');
  }
  if (props.cluster && props.network && props.cluster.vpc !== props.network.vpc) check.fail('cluster', 'must be in \'network.vpc\'');

  const seconds = (name: string, value: Duration | undefined, fallback: number, min: number, max: number): Duration => {
    const d = value ?? Duration.seconds(fallback);
    if (!Token.isUnresolved(d.toSeconds({ integral: false }))) {
      const s = d.toSeconds({ integral: false });
      if (!Number.isInteger(s) || s < min || s > max) check.fail(name, `must be a whole number of seconds from ${min} to ${max}, got ${s}`);
    }
    return d;
  };
  const stopTimeout = seconds('stopTimeout', props.stopTimeout, 120, 2, 120);
  const requestTimeout = seconds('requestTimeout', props.requestTimeout, 30, 1, 118);
  const deregistrationDelay = seconds('deregistrationDelay', props.deregistrationDelay, 60, 0, 119);
  const shutdownGrace = seconds('shutdownGrace', props.shutdownGrace, Math.max(stopTimeout.toSeconds() - 20, 1), 1, 119);
  const idleTimeout = seconds('idleTimeout', props.idleTimeout, 60, 1, 4000);
  const documentTimeout = seconds('documentTimeout', props.documentTimeout, 300, 1, 3600);
  const handoffTimeout = seconds('handoffTimeout', props.handoffTimeout, 10, 1, 60);
  seconds('healthCheckGracePeriod', props.healthCheckGracePeriod, 120, 0, 2147483647);
  seconds('sweepInterval', props.sweepInterval, 300, 60, 86400);
  seconds('stalePendingAfter', props.stalePendingAfter, 600, 60, 86400);
  if (requestTimeout.toSeconds() >= deregistrationDelay.toSeconds()) {
    check.fail('requestTimeout', `(${requestTimeout.toSeconds()} s) must be less than 'deregistrationDelay' (${deregistrationDelay.toSeconds()} s), so that in-flight requests finish before a task leaves the target group`);
  }
  if (shutdownGrace.toSeconds() >= stopTimeout.toSeconds()) {
    check.fail('shutdownGrace', `(${shutdownGrace.toSeconds()} s) must be less than 'stopTimeout' (${stopTimeout.toSeconds()} s), so that work is handed back before SIGKILL`);
  }
  if (requestTimeout.toSeconds() > shutdownGrace.toSeconds()) {
    check.fail('requestTimeout', `(${requestTimeout.toSeconds()} s) must not exceed 'shutdownGrace' (${shutdownGrace.toSeconds()} s): a request accepted just before SIGTERM must be able to finish`);
  }
  if (requestTimeout.toSeconds() >= idleTimeout.toSeconds()) {
    check.fail('idleTimeout', `(${idleTimeout.toSeconds()} s) must be greater than 'requestTimeout' (${requestTimeout.toSeconds()} s)`);
  }

  const cpu = props.cpu ?? 1024;
  const memoryMiB = props.memoryLimitMiB ?? 3072;
  if (!Token.isUnresolved(cpu) && !Token.isUnresolved(memoryMiB)) {
    const size = fargateSizeProblem(cpu / 1024, memoryMiB);
    if (size?.prop === 'cpu') check.fail('cpu', `must be one of ${FARGATE_VCPUS.map((v) => v * 1024).join(', ')} CPU units (Fargate task sizes), got ${cpu}`);
    if (size) check.fail('memoryLimitMiB', size.problem);
  }
  check.integerInRange('containerPort', props.containerPort, 1024, 65535);
  check.integerInRange('workersPerTask', props.workersPerTask, 1, 64);
  check.integerInRange('minCapacity', props.minCapacity, 0, 1000);
  check.integerInRange('maxCapacity', props.maxCapacity, 1, 1000);
  check.integerInRange('desiredCount', props.desiredCount, 0, 1000);
  check.integerInRange('cpuScaleOutPercent', props.cpuScaleOutPercent, 2, 100);
  check.integerInRange('cpuScaleInPercent', props.cpuScaleInPercent, 1, 99);
  check.integerInRange('requestsPerTargetPerMinute', props.requestsPerTargetPerMinute, 1, 1_000_000);
  check.integerInRange('streamRetryAttempts', props.streamRetryAttempts, 0, 10_000);
  check.integerInRange('streamBatchSize', props.streamBatchSize, 1, 100);
  const minCapacity = props.minCapacity ?? 1;
  const maxCapacity = props.maxCapacity ?? 3;
  const desiredCount = props.desiredCount ?? Math.min(Math.max(2, minCapacity), maxCapacity);
  if (minCapacity > maxCapacity) check.fail('minCapacity', `(${minCapacity}) must not exceed 'maxCapacity' (${maxCapacity})`);
  if (desiredCount < minCapacity || desiredCount > maxCapacity) {
    check.fail('desiredCount', `must be from 'minCapacity' (${minCapacity}) to 'maxCapacity' (${maxCapacity}), got ${desiredCount}`);
  }
  const cpuScaleOut = props.cpuScaleOutPercent ?? 70;
  const cpuScaleIn = props.cpuScaleInPercent ?? 30;
  if (cpuScaleIn >= cpuScaleOut) check.fail('cpuScaleInPercent', `(${cpuScaleIn}) must be less than 'cpuScaleOutPercent' (${cpuScaleOut})`);
  if (props.languages !== undefined && !/^[a-z_]{3,}(\+[a-z_]{3,})*$/.test(props.languages)) {
    check.fail('languages', `must be tesseract language codes joined by '+', e.g. 'eng+deu', got '${props.languages}'`);
  }
  for (const prefix of ['uploadsPrefix', 'resultsPrefix'] as const) {
    const value = props[prefix];
    if (value !== undefined && !/^[A-Za-z0-9!_.*'()\-/]+\/$/.test(value)) check.fail(prefix, `must be a non-empty S3 key prefix ending with '/', got '${value}'`);
  }
  if (props.uploadsPrefix !== undefined && props.uploadsPrefix === (props.resultsPrefix ?? 'results/')) {
    check.fail('uploadsPrefix', 'must differ from \'resultsPrefix\'');
  }

  // Exposure and authentication.
  const authentications = [
    props.jwtAuthentication && 'jwtAuthentication', props.oidcAuthentication && 'oidcAuthentication', props.cognitoAuthentication && 'cognitoAuthentication',
  ].filter((x): x is string => !!x);
  if (authentications.length > 1) check.fail(authentications[0], `and '${authentications.slice(1).join('\', \'')}' are mutually exclusive`);
  const authenticated = authentications.length > 0;
  if (authenticated && !props.certificate) check.fail('certificate', 'is required for authentication on the load balancer (authentication runs on HTTPS listeners only)');
  if (props.internetFacing) {
    if (!props.certificate) check.fail('certificate', 'is required when \'internetFacing\' is true: the service is not put on the internet over plain HTTP');
    if (!authenticated && !props.allowUnauthenticatedAccess) {
      check.fail('internetFacing', 'requires \'jwtAuthentication\', \'oidcAuthentication\' or \'cognitoAuthentication\' on the load balancer; set \'allowUnauthenticatedAccess: true\' to opt out explicitly');
    }
  } else if (props.allowUnauthenticatedAccess) {
    check.fail('allowUnauthenticatedAccess', 'only applies when \'internetFacing\' is true');
  }
  if (props.certificate && !props.internetFacing && !props.domainName) {
    check.fail('domainName', 'is required with \'certificate\' on an internal load balancer: the stream handler calls the service by the name the certificate covers');
  }
  if (props.cache) {
    check.integerInRange('cache.replicas', props.cache.replicas, 0, 5);
    check.integerInRange('cache.snapshotRetentionDays', props.cache.snapshotRetentionDays, 0, 35);
  }
  const contractVariables = new Set(Object.entries(OcrServiceEnvironment).filter(([k]) => k !== 'MODE_SERVICE').map(([, v]) => String(v)));
  for (const prop of ['secrets', 'environment'] as const) {
    for (const name of Object.keys(props[prop] ?? {})) {
      if (contractVariables.has(name)) check.fail(prop, `must not set the contract variable '${name}': the construct sets it (use the matching prop)`);
    }
  }
  return {
    requestTimeout,
    deregistrationDelay,
    stopTimeout,
    shutdownGrace,
    idleTimeout,
    documentTimeout,
    handoffTimeout,
    minCapacity,
    maxCapacity,
    desiredCount,
    cpuScaleOut,
    cpuScaleIn,
    requestsPerTarget: props.requestsPerTargetPerMinute ?? 300,
  };
}
