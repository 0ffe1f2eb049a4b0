import { Duration, RemovalPolicy, SecretValue, Size } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { HandlerProps, MonitoringProps, OcrWorkerProps } from '../common/shared-props';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { CostLineItem, NetworkCostEstimate } from '../cost-optimized-vpc/pricing';

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

/**
 * Tracing: the service traces each request with OpenTelemetry and exports the spans over OTLP/HTTP
 * to an AWS Distro for OpenTelemetry (ADOT) collector beside it, which sends them to AWS X-Ray
 * (`PutTraceSegments`, through the VPC's `xray` endpoint).
 *
 * @see https://aws-otel.github.io/docs/setup/ecs
 * @see https://docs.aws.amazon.com/xray/latest/devguide/xray-sdk-migration.html
 */
export interface OcrServiceTracingOptions {
  /**
   * Whether the tasks trace to X-Ray. Off: no collector, and the in-VPC handlers of a CostOptimizedVpc
   * the construct uses do not trace either (their traces would need the `xray` endpoint).
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * The collector image: an ADOT collector (it must have the `otlp` receiver and `awsxray` exporter,
   * as ADOT's image has), from a registry the tasks reach. In private subnets without NAT that is ECR:
   * your repository, or `PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ecr-public',
   * upstreamRepository: 'aws-observability/aws-otel-collector', tag: 'v0.49.0' })` through your
   * account's pull-through cache rule for public.ecr.aws. Not the X-Ray daemon: it does not receive OTLP.
   * @default - ADOT collector v0.49.0 from public.ecr.aws, built into a container image asset at
   * deploy (like the bundled worker) and so pulled from the CDK asset repository in your account's ECR
   */
  readonly image?: ecs.ContainerImage;
  /**
   * CPU units reserved for the collector.
   * @default 32
   */
  readonly cpu?: number;
  /**
   * Memory of the collector, in MiB: its hard limit, taken from the task's memory (the service
   * container gets the rest). The collector's Go runtime is told to stay within 80 % of it.
   * @default 256
   */
  readonly memoryLimitMiB?: number;
}

/**
 * Props of `OcrServiceCluster`. The worker (`image`, `ocrEngine`, `ocrLanguages`, `maxDocumentSize`,
 * `documentTimeout`...), logs and alarms (`logRetention`, `alarmActions`) and the Lambda handlers'
 * `architecture` are the props every construct of the library shares.
 */
export interface OcrServiceClusterProps extends OcrWorkerProps, MonitoringProps, HandlerProps {
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
   * Command of the service container.
   * @default - with the bundled image, `OcrServiceApi.BUNDLED_IMAGE_COMMAND` (`src/service/main.ts`); with your `image`, its own command
   */
  readonly command?: string[];
  /**
   * vCPUs per task: 0.25, 0.5, 1, 2, 4, 8 or 16 (Fargate task sizes).
   * @default 1
   */
  readonly vcpu?: number;
  /**
   * Memory per task, within Fargate's range for `vcpu` (e.g. 2-8 GiB in 1 GiB steps with 1 vCPU).
   * @default Size.gibibytes(3)
   */
  readonly memory?: Size;
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
   * SNS topics a `StartDocumentTextDetection` may name in `NotificationChannel` (the service's
   * Amazon Textract API): when the job ends, the service publishes Textract's completion message
   * (`JobId`, `Status`, `API`, `JobTag`, `Timestamp`, `DocumentLocation`) to the topic. The service
   * publishes with its task role, which is granted `sns:Publish` on exactly these topics (and
   * `kms:GenerateDataKey` and `kms:Decrypt` on the key of an encrypted topic: import one with
   * `Topic.fromTopicAttributes` and its `keyArn`); the request's
   * `RoleArn` is checked for shape only. A Start naming any other topic is refused with
   * InvalidParameterException. Standard topics in the stack's region; in a CostOptimizedVpc the
   * construct adds the SNS interface endpoint.
   * @default - none: a Start with `NotificationChannel` is refused
   */
  readonly textractNotificationTopics?: sns.ITopic[];
  /**
   * Buckets a `StartDocumentTextDetection` may name in `OutputConfig` besides the documents bucket:
   * when the job ends, the service writes its `GetDocumentTextDetection` pages to
   * `s3://bucket/{S3Prefix}/{JobId}/1`, `/2`, ... as Amazon Textract does. The task role is granted
   * `s3:PutObject` on the objects of exactly these buckets (and `kms:GenerateDataKey` on a bucket's
   * key when the bucket object has one: import an SSE-KMS bucket with `Bucket.fromBucketAttributes`
   * and its `encryptionKey`). Buckets in the stack's region. In the documents bucket the service writes only under
   * `resultsPrefix`, so there `S3Prefix` must begin with it. Any other bucket is refused with
   * AccessDeniedException.
   * @default - none: only the documents bucket, under `resultsPrefix`
   */
  readonly textractOutputBuckets?: s3.IBucket[];
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
   * Tracing of every request to AWS X-Ray, with OpenTelemetry and a collector sidecar.
   * @default - on, with the ADOT collector image built at deploy
   */
  readonly tracing?: OcrServiceTracingOptions;
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
   * Create a CloudWatch dashboard.
   * @default true
   */
  readonly dashboard?: boolean;
  /**
   * Create the alarms (5xx, latency, unhealthy tasks, stream trigger errors and lag, pending backlog),
   * each with every one of `alarmActions`.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * Alarm when more documents than this are PENDING (needs the sweep, which counts them).
   * @default 100
   */
  readonly pendingDocumentsAlarmThreshold?: number;
}

/** Fixed monthly cost of an OcrServiceCluster: the worker kept warm. */
export interface OcrServiceCostEstimate {
  /** Region whose prices were used. */
  readonly region: string;
  /** What the configuration costs each month with no documents: its minimum tasks running, load balancer, cache, keys, alarms, dashboard and its own network. */
  readonly fixedMonthlyUsd: number;
  /** The service's own fixed items: the tasks running all month, the load balancer, cache nodes, KMS keys, alarms, dashboards, secrets, web ACLs. */
  readonly lineItems: CostLineItem[];
  /**
   * The network part, when the construct created its CostOptimizedVpc.
   * @default - undefined when the network is shared or the user's
   */
  readonly network?: NetworkCostEstimate;
  /** Scanned pages the minimum tasks OCR in a month at the benchmark's throughput: above it, more tasks run and cost more. */
  readonly scannedPagesPerMonthAtMinCapacity: number;
  /** What the figures include, assume and leave out. */
  readonly notes: string[];
}
