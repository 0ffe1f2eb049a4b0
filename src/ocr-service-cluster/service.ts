import * as fs from 'fs';
import * as path from 'path';
import { Duration, Fn, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OcrServiceApi, OcrServiceEnvironment } from './contract';
import { OcrServiceCapacity, OcrServiceClusterProps } from './props';
import { addTracingCollector, collectorImageProblem, collectorMemoryMiB, OTLP_TRACES_ENDPOINT, tracingEnabled } from './tracing';
import { taskSizeOf, Timings } from './validation';
import { PropChecker } from '../common/errors';
import { imagePullProblem, subnetsWithoutInternet } from '../common/image-pull';
import { DEFAULT_LOG_RETENTION, DEFAULT_MAX_DOCUMENT_SIZE, DEFAULT_OCR_LANGUAGES } from '../common/shared-props';
import { bundledImageLanguageProblem, bundledImageRendererProblem, defaultPdfRenderer, OcrEngine, WORKER_DIRECTORY, workerImageAsset } from '../common/worker-image';

/** Name of the service container: the target group routes to it. */
const SERVICE_CONTAINER = 'Service';

/** What the task reads and writes, and what its container is told. */
export interface TaskContext {
  readonly vpc: ec2.IVpc;
  readonly workloadSubnets: ec2.SubnetSelection;
  readonly documentsBucket: s3.IBucket;
  readonly table: dynamodb.ITable;
  readonly timings: Timings;
  /** Container port of the tasks. */
  readonly port: number;
  readonly uploadsPrefix: string;
  readonly resultsPrefix: string;
  readonly metricsNamespace: string;
  readonly metricsServiceName: string;
  /** Environment and secrets of the result cache, when there is one. */
  readonly cache?: { readonly environment: { [key: string]: string }; readonly secrets: { [key: string]: ecs.Secret } };
}

/** The task definition of the service and its containers. */
export interface OcrTask {
  readonly logGroup: logs.LogGroup;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly tracingContainer?: ecs.ContainerDefinition;
  readonly containerEnvironment: { [key: string]: string };
}

/**
 * The Fargate task definition: the service container (the worker image in service mode, configured
 * through the contract's environment), its log group, the tracing collector, and the task
 * role's access to the table and the bucket.
 */
/** The unprivileged user every container of the task runs as. */
const NON_ROOT_USER = '1000:1000';

export function createTask(scope: Construct, check: PropChecker, props: OcrServiceClusterProps, context: TaskContext): OcrTask {
  const { timings, port } = context;
  const logGroup = new logs.LogGroup(scope, 'ServiceLogGroup', {
    retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    encryptionKey: props.encryptionKey,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const taskSize = taskSizeOf(props);
  const taskDefinition = new ecs.FargateTaskDefinition(scope, 'TaskDefinition', {
    cpu: taskSize.vcpu * 1024,
    memoryLimitMiB: taskSize.memoryMiB,
    runtimePlatform: {
      cpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
      operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    },
  });
  // the worker's own default when unset (see defaultPdfRenderer)
  const pdfRenderer = props.pdfRenderer ?? defaultPdfRenderer(props.ocrEngine);
  const ocrLanguages = props.ocrLanguages ?? DEFAULT_OCR_LANGUAGES;
  const containerEnvironment = {
    ...(props.environment ?? {}),
    [OcrServiceEnvironment.MODE]: OcrServiceEnvironment.MODE_SERVICE,
    [OcrServiceEnvironment.PORT]: String(port),
    [OcrServiceEnvironment.TABLE_NAME]: context.table.tableName,
    [OcrServiceEnvironment.DOCUMENTS_BUCKET]: context.documentsBucket.bucketName,
    [OcrServiceEnvironment.UPLOADS_PREFIX]: context.uploadsPrefix,
    [OcrServiceEnvironment.RESULTS_PREFIX]: context.resultsPrefix,
    [OcrServiceEnvironment.REQUEST_TIMEOUT_SECONDS]: String(timings.requestTimeout.toSeconds()),
    [OcrServiceEnvironment.SHUTDOWN_GRACE_SECONDS]: String(timings.shutdownGrace.toSeconds()),
    [OcrServiceEnvironment.LEASE_SECONDS]: String(Math.max(timings.documentTimeout.toSeconds() + 60, 300)),
    [OcrServiceEnvironment.MAX_DOCUMENT_BYTES]: String((props.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE).toBytes()),
    [OcrServiceEnvironment.WORKERS]: String(props.workersPerTask ?? 1),
    [OcrServiceEnvironment.DOC_TIMEOUT_SECONDS]: String(timings.documentTimeout.toSeconds()),
    [OcrServiceEnvironment.LANGUAGES]: ocrLanguages.join('+'),
    [OcrServiceEnvironment.OCR_ENGINE]: props.ocrEngine ?? OcrEngine.TESSERACT_JS,
    [OcrServiceEnvironment.PDF_RENDERER]: pdfRenderer,
    [OcrServiceEnvironment.MAX_ATTEMPTS]: String(props.maxAttempts ?? 3),
    [OcrServiceEnvironment.METRICS_NAMESPACE]: context.metricsNamespace,
    [OcrServiceEnvironment.METRICS_SERVICE]: context.metricsServiceName,
    ...(context.cache?.environment ?? {}),
    ...textractDestinationsEnvironment(props),
    ...(tracingEnabled(props) ? { [OcrServiceEnvironment.OTLP_TRACES_ENDPOINT]: OTLP_TRACES_ENDPOINT } : {}),
  };
  const secrets = { ...(props.secrets ?? {}), ...(context.cache?.secrets ?? {}) };
  const readonlyRoot = props.readonlyRootFilesystem ?? true;
  // Each container gets a hard memory limit (the task's memory less the sidecar's), so a leak in one
  // cannot starve the other; AWS Control Tower's CT.ECS.PR.7 requires one on every container.
  const sidecarMemoryMiB = collectorMemoryMiB(props);
  if (sidecarMemoryMiB >= taskSize.memoryMiB) {
    check.fail('tracing', `memoryLimitMiB (${sidecarMemoryMiB}) must leave memory for the service container in the task's ${taskSize.memoryMiB} MiB`);
  }
  const container = taskDefinition.addContainer(SERVICE_CONTAINER, {
    image: serviceImageOf(scope, check, props),
    command: props.command ?? (props.image ? undefined : OcrServiceApi.BUNDLED_IMAGE_COMMAND),
    essential: true,
    // The worker image's unprivileged user (uid 1000, the node user of the Node base image); an
    // image of yours must run as uid 1000 too (AWS Control Tower's CT.ECS.PR.3 refuses a task
    // definition without a non-root user).
    user: NON_ROOT_USER,
    memoryLimitMiB: taskSize.memoryMiB - sidecarMemoryMiB,
    portMappings: [{ containerPort: port, name: 'http', protocol: ecs.Protocol.TCP }],
    environment: containerEnvironment,
    secrets: Object.keys(secrets).length > 0 ? secrets : undefined,
    stopTimeout: timings.stopTimeout,
    readonlyRootFilesystem: readonlyRoot,
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: 'ocr-service',
      logGroup,
      // A slow log pipe must never block request handling; the buffer absorbs bursts.
      mode: ecs.AwsLogDriverMode.NON_BLOCKING,
      maxBufferSize: Size.mebibytes(25),
    }),
  });
  if (readonlyRoot) {
    // Scratch space for the engine (rendered pages, uploads in flight) on the task's ephemeral storage.
    taskDefinition.addVolume({ name: 'tmp' });
    container.addMountPoints({ sourceVolume: 'tmp', containerPath: '/tmp', readOnly: false });
  }
  const tracingContainer = tracingEnabled(props) ? addTracingCollector(scope, taskDefinition, props, logGroup) : undefined;
  const collectorProblem = tracingContainer ? collectorImageProblem(tracingContainer.imageName) : undefined;
  if (collectorProblem) check.fail('tracing.image', collectorProblem);
  // Every image of the task must be pullable from the workload subnets as configured.
  const withoutInternet = subnetsWithoutInternet(context.vpc, context.workloadSubnets);
  const images: [string, ecs.ContainerDefinition | undefined][] = [['image', container], ['tracing.image', tracingContainer]];
  for (const [prop, imageContainer] of images) {
    const problem = imageContainer ? imagePullProblem(imageContainer.imageName, withoutInternet) : undefined;
    if (problem) check.fail(prop, problem);
  }
  context.table.grantReadWriteData(taskDefinition.taskRole);
  context.documentsBucket.grantRead(taskDefinition.taskRole);
  context.documentsBucket.grantPut(taskDefinition.taskRole, `${context.uploadsPrefix}*`);
  context.documentsBucket.grantPut(taskDefinition.taskRole, `${context.resultsPrefix}*`);
  grantTextractDestinations(taskDefinition.taskRole, props);
  return { logGroup, taskDefinition, container, tracingContainer, containerEnvironment };
}

/** The topics and buckets Textract's NotificationChannel and OutputConfig may name, for the service. */
function textractDestinationsEnvironment(props: OcrServiceClusterProps): { [key: string]: string } {
  const topics = props.textractNotificationTopics ?? [];
  const buckets = props.textractOutputBuckets ?? [];
  return {
    ...(topics.length > 0 ? { [OcrServiceEnvironment.TEXTRACT_NOTIFICATION_TOPICS]: Fn.join(',', topics.map((t) => t.topicArn)) } : {}),
    ...(buckets.length > 0 ? { [OcrServiceEnvironment.TEXTRACT_OUTPUT_BUCKETS]: Fn.join(',', buckets.map((b) => b.bucketName)) } : {}),
  };
}

/**
 * Publishing to the allowed topics and writing the allowed buckets' objects, nothing more. An
 * encrypted topic needs its publisher to have kms:GenerateDataKey and kms:Decrypt on its key (Amazon
 * SNS Developer Guide, "Managing Amazon SNS encryption keys"); a PutObject into a bucket whose default
 * encryption is SSE-KMS needs kms:GenerateDataKey on its key, kms:Decrypt only for multipart parts,
 * which single-request pages do not use (AWS re:Post Knowledge Center, "s3-large-file-encryption-kms-key").
 */
function grantTextractDestinations(role: iam.IRole, props: OcrServiceClusterProps): void {
  const topics = props.textractNotificationTopics ?? [];
  if (topics.length > 0) {
    iam.Grant.addToPrincipal({ grantee: role, actions: ['sns:Publish'], resourceArns: topics.map((t) => t.topicArn) });
    for (const topic of topics) topic.masterKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }
  const buckets = props.textractOutputBuckets ?? [];
  if (buckets.length > 0) {
    iam.Grant.addToPrincipal({ grantee: role, actions: ['s3:PutObject'], resourceArns: buckets.map((b) => b.arnForObjects('*')) });
    for (const bucket of buckets) bucket.encryptionKey?.grant(role, 'kms:GenerateDataKey');
  }
}

/** The `image` you passed, else the bundled worker built for `cpuArchitecture` and `ocrEngine` (checked against its languages and renderer). */
function serviceImageOf(scope: Construct, check: PropChecker, props: OcrServiceClusterProps): ecs.ContainerImage {
  if (props.image) return props.image;
  if (!fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))) {
    check.fail('image', `is required: the bundled OCR worker (${WORKER_DIRECTORY}) is not in this installation`);
  }
  // The image is built with the languages asked for; one without a data package would fail only the
  // image build (at deploy): say so at synth.
  const ocrLanguages = props.ocrLanguages ?? DEFAULT_OCR_LANGUAGES;
  const languageProblem = bundledImageLanguageProblem(ocrLanguages, "an 'image'");
  if (languageProblem) check.fail('ocrLanguages', languageProblem);
  const rendererProblem = bundledImageRendererProblem(props.pdfRenderer ?? defaultPdfRenderer(props.ocrEngine), props.ocrEngine, "an 'image'");
  if (rendererProblem) check.fail('pdfRenderer', rendererProblem);
  return ecs.ContainerImage.fromDockerImageAsset(workerImageAsset(scope, 'WorkerImage', { cpuArchitecture: props.cpuArchitecture, ocrEngine: props.ocrEngine, languages: ocrLanguages }));
}

/** Where the service runs and whom it serves. */
export interface ServiceContext {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly securityGroup: ec2.SecurityGroup;
  readonly workloadSubnets: ec2.SubnetSelection;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly port: number;
  readonly timings: Timings;
  /** Cloud Map registration of the tasks (internet-facing load balancer only). */
  readonly cloudMapOptions?: ecs.CloudMapOptions;
}

/**
 * The Fargate service behind the target group, on the capacity `capacity` asks for, with
 * circuit-breaker rollback and task-count autoscaling on CPU (a band) and requests per task.
 */
export function createService(
  scope: Construct, props: OcrServiceClusterProps, context: ServiceContext,
): { service: ecs.FargateService; scalableTarget: ecs.ScalableTaskCount } {
  const { timings } = context;
  const capacity = props.capacity ?? OcrServiceCapacity.ON_DEMAND;
  const capacityProviderStrategies = capacity === OcrServiceCapacity.SPOT
    ? [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }]
    : capacity === OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE
      ? [{ capacityProvider: 'FARGATE', base: 1, weight: 0 }, { capacityProvider: 'FARGATE_SPOT', weight: 1 }]
      : undefined;
  const service = new ecs.FargateService(scope, 'Service', {
    cluster: context.cluster,
    taskDefinition: context.taskDefinition,
    desiredCount: timings.desiredCount,
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    circuitBreaker: { enable: true, rollback: true },
    healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.seconds(120),
    vpcSubnets: context.workloadSubnets,
    securityGroups: [context.securityGroup],
    assignPublicIp: false,
    capacityProviderStrategies,
    cloudMapOptions: context.cloudMapOptions,
    propagateTags: ecs.PropagatedTagSource.SERVICE,
    enableECSManagedTags: true,
  });
  context.targetGroup.addTarget(service.loadBalancerTarget({ containerName: SERVICE_CONTAINER, containerPort: context.port }));

  const scalableTarget = service.autoScaleTaskCount({ minCapacity: timings.minCapacity, maxCapacity: timings.maxCapacity });
  // Scale out at 70% CPU and in at 30% is a band, not a target: target tracking takes one target
  // value, so CPU uses step scaling with a no-change band in between (no flapping).
  scalableTarget.scaleOnMetric('CpuBand', {
    metric: service.metricCpuUtilization({ period: Duration.minutes(1) }),
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
  scalableTarget.scaleOnRequestCount('RequestsPerTarget', {
    requestsPerTarget: timings.requestsPerTarget,
    targetGroup: context.targetGroup,
    disableScaleIn: true,
    scaleOutCooldown: Duration.minutes(1),
  });
  return { service, scalableTarget };
}
