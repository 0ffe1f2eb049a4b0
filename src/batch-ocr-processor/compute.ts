import * as fs from 'fs';
import * as path from 'path';
import { Duration, Names, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults';
import { ProcessorNetwork } from './network';
import { BatchOcrProcessorProps } from './props';
import { jobInputPrefixes, ProcessorStorage } from './storage';
import { CONSTRUCT } from './validation';
import { PropChecker } from '../common/errors';
import { imagePullProblem, subnetsWithoutInternet } from '../common/image-pull';
import { DEFAULT_DOCUMENT_TIMEOUT, DEFAULT_LOG_RETENTION, DEFAULT_MAX_DOCUMENT_SIZE, DEFAULT_OCR_LANGUAGES } from '../common/shared-props';
import { WorkerBatchEnvironment, WorkerExitCode } from '../common/worker-contract';
import { bundledImageLanguageProblem, bundledImageLanguages, bundledImageRendererProblem, defaultPdfRenderer, OcrEngine, PdfRenderer, WORKER_DIRECTORY, workerImageAsset } from '../common/worker-image';

/** The worker image the jobs run and what the construct knows of it. */
export interface WorkerImage {
  readonly image: ecs.ContainerImage;
  /** The ECR repository, with `repository` or `createRepository`. */
  readonly repository?: ecr.IRepository;
  /** The bundled image's asset, when the construct builds it. */
  readonly imageAsset?: ecr_assets.DockerImageAsset;
  /** The languages the image has data for, when the construct builds it (your own image's are unknown). */
  readonly languages?: string[];
  readonly pdfRenderer: PdfRenderer;
}

/**
 * The worker image: `image`, the `repository`'s tag, a created repository ('Repository') or the
 * bundled worker ('WorkerImage'), whose languages and renderer are checked against the props.
 */
export function createWorkerImage(scope: Construct, props: BatchOcrProcessorProps): WorkerImage {
  const tag = props.imageTag ?? 'latest';
  // The worker's own default when unset; checked against the bundled image below.
  const pdfRenderer = props.pdfRenderer ?? defaultPdfRenderer(props.ocrEngine);
  if (props.image) return { image: props.image, pdfRenderer };
  if (props.repository) return { image: ecs.ContainerImage.fromEcrRepository(props.repository, tag), repository: props.repository, pdfRenderer };
  if (props.createRepository) {
    const key = props.encryptionKey;
    const repository = new ecr.Repository(scope, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.MUTABLE,
      encryption: key ? ecr.RepositoryEncryption.KMS : ecr.RepositoryEncryption.AES_256,
      encryptionKey: key,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { description: 'Untagged images go after a week', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7), rulePriority: 1 },
        { description: 'Keep the 20 newest images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 20, rulePriority: 2 },
      ],
    });
    return { image: ecs.ContainerImage.fromEcrRepository(repository, tag), repository, pdfRenderer };
  }
  const check = new PropChecker(CONSTRUCT, scope.node.id);
  if (!fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))) {
    check.fail('image', `has no default: the bundled worker (${WORKER_DIRECTORY}/Dockerfile) is missing from this installation; pass 'image', 'repository' or 'createRepository'`);
  }
  const ocrLanguages = props.ocrLanguages ?? DEFAULT_OCR_LANGUAGES;
  const problem = bundledImageLanguageProblem(ocrLanguages, "an 'image' or 'repository'");
  if (problem) check.fail('ocrLanguages', problem);
  const rendererProblem = bundledImageRendererProblem(pdfRenderer, props.ocrEngine, "an 'image' or 'repository'");
  if (rendererProblem) check.fail('pdfRenderer', rendererProblem);
  // the image holds the languages asked for (and eng): requests may name any of them
  const languages = bundledImageLanguages(ocrLanguages);
  const imageAsset = workerImageAsset(scope, 'WorkerImage', { cpuArchitecture: props.cpuArchitecture, ocrEngine: props.ocrEngine, languages: ocrLanguages });
  return { image: ecs.ContainerImage.fromDockerImageAsset(imageAsset), imageAsset, languages, pdfRenderer };
}

/** Where the jobs run: the task security group, the compute environments and the job queue. */
export interface ProcessorCompute {
  readonly securityGroup: ec2.SecurityGroup;
  readonly computeEnvironment: batch.FargateComputeEnvironment;
  readonly onDemandComputeEnvironment?: batch.FargateComputeEnvironment;
  readonly jobQueue: batch.JobQueue;
}

/** The task security group, the Fargate (Spot) compute environment, the on-demand overflow one and the job queue. */
export function createCompute(scope: Construct, props: BatchOcrProcessorProps, network: ProcessorNetwork): ProcessorCompute {
  const securityGroup = new ec2.SecurityGroup(scope, 'TaskSecurityGroup', {
    vpc: network.vpc,
    description: 'OCR worker tasks: no inbound; HTTPS out to VPC endpoints and S3',
    allowAllOutbound: false,
  });
  securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to AWS APIs (VPC endpoints, S3 gateway endpoint)');
  const maxvCpus = props.maxvCpus ?? 16;
  const placement = { vpc: network.vpc, vpcSubnets: network.subnets, securityGroups: [securityGroup], maxvCpus };
  const computeEnvironment = new batch.FargateComputeEnvironment(scope, 'ComputeEnvironment', { ...placement, spot: props.spot ?? true });
  const order: batch.OrderedComputeEnvironment[] = [{ computeEnvironment, order: 1 }];
  let onDemandComputeEnvironment: batch.FargateComputeEnvironment | undefined;
  if (props.onDemandOverflow) {
    onDemandComputeEnvironment = new batch.FargateComputeEnvironment(scope, 'OnDemandComputeEnvironment', { ...placement, spot: false });
    order.push({ computeEnvironment: onDemandComputeEnvironment, order: 2 });
  }
  const capacityWait = props.capacityWaitLimit ?? Duration.hours(1);
  const misconfigurationWait = props.misconfigurationWaitLimit ?? Duration.minutes(10);
  const jobQueue = new batch.JobQueue(scope, 'JobQueue', {
    computeEnvironments: order,
    // Batch acts on the job at the head of the queue only; JobCleanup reaps what these miss.
    jobStateTimeLimitActions: [
      cancelAfter(batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY, capacityWait),
      cancelAfter(batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE, misconfigurationWait),
      cancelAfter(batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT, misconfigurationWait),
    ],
  });
  return { securityGroup, computeEnvironment, onDemandComputeEnvironment, jobQueue };
}

function cancelAfter(reason: batch.JobStateTimeLimitActionsReason, maxTime: Duration): batch.JobStateTimeLimitAction {
  return { reason, maxTime, action: batch.JobStateTimeLimitActionsAction.CANCEL, state: batch.JobStateTimeLimitActionsState.RUNNABLE };
}

/** The worker's job definition, its roles and its log group. */
export interface WorkerJob {
  readonly workerLogGroup: logs.LogGroup;
  readonly executionRole: iam.Role;
  readonly jobRole: iam.Role;
  readonly jobDefinitionName: string;
  readonly jobDefinition: batch.EcsJobDefinition;
  /** The worker's environment, which the handlers share part of. */
  readonly environment: { [name: string]: string };
}

/** Identity of the custom metrics the worker and the handlers publish. */
export interface MetricsIdentity {
  readonly namespace: string;
  readonly service: string;
}

/**
 * The worker's log group, task execution role, job role (read the input keys a job can name, write the output
 * prefix) and its job definition, with retries for infrastructure failures only.
 */
export function createWorkerJob(
  scope: Construct, props: BatchOcrProcessorProps, image: WorkerImage, network: ProcessorNetwork, storage: ProcessorStorage, metrics: MetricsIdentity,
): WorkerJob {
  const workerLogGroup = new logs.LogGroup(scope, 'WorkerLogGroup', {
    retention: props.logRetention ?? DEFAULT_LOG_RETENTION, encryptionKey: props.encryptionKey, removalPolicy: RemovalPolicy.DESTROY,
  });
  const executionRole = new iam.Role(scope, 'ExecutionRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    description: 'Pulls the OCR worker image and writes its logs',
  });
  const jobRole = new iam.Role(scope, 'JobRole', {
    assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
    description: 'OCR worker: reads input documents, writes results under the output prefix',
  });
  // Least privilege: read only the input keys a job can name; write only the output prefix (and
  // read the manifests there).
  for (const prefix of jobInputPrefixes(props)) storage.inputBucket.grantRead(jobRole, `${prefix}*`);
  storage.outputBucket.grantRead(jobRole, `${storage.outputPrefix}*`);
  storage.outputBucket.grantPut(jobRole, `${storage.outputPrefix}*`);

  const vcpu = props.vcpu ?? DEFAULTS.vcpu;
  const memory = props.memory ?? DEFAULTS.memory;
  const workers = props.workersPerTask ?? Math.max(1, Math.floor(vcpu));
  // 512 MiB stay with the worker process; the documents processed at once share the rest (at least 512 MiB each).
  const documentMemoryMb = Math.max(512, Math.floor((memory.toMebibytes() - 512) / workers));
  const environment: { [name: string]: string } = {
    [WorkerBatchEnvironment.INPUT_BUCKET]: storage.inputBucket.bucketName,
    [WorkerBatchEnvironment.OUTPUT_BUCKET]: storage.outputBucket.bucketName,
    [WorkerBatchEnvironment.OUTPUT_PREFIX]: storage.outputPrefix,
    [WorkerBatchEnvironment.LANGUAGES]: (props.ocrLanguages ?? DEFAULT_OCR_LANGUAGES).join('+'),
    [WorkerBatchEnvironment.DPI]: String(props.ocrDpi ?? 300),
    [WorkerBatchEnvironment.OCR_ENGINE]: props.ocrEngine ?? OcrEngine.TESSERACT_JS,
    [WorkerBatchEnvironment.PDF_RENDERER]: image.pdfRenderer,
    [WorkerBatchEnvironment.WORKERS]: String(workers),
    [WorkerBatchEnvironment.DOC_TIMEOUT_SECONDS]: String((props.documentTimeout ?? DEFAULT_DOCUMENT_TIMEOUT).toSeconds()),
    [WorkerBatchEnvironment.DOC_MEMORY_MB]: String(documentMemoryMb),
    [WorkerBatchEnvironment.MAX_DOCUMENT_BYTES]: String((props.maxDocumentSize ?? DEFAULT_MAX_DOCUMENT_SIZE).toBytes()),
    [WorkerBatchEnvironment.METRICS_NAMESPACE]: metrics.namespace,
    [WorkerBatchEnvironment.METRICS_SERVICE]: metrics.service,
  };
  if (props.maxPagesPerDocument !== undefined) environment.OCR_MAX_PAGES = String(props.maxPagesPerDocument);

  const jobDefinitionName = Names.uniqueResourceName(scope, { maxLength: 100, separator: '-', allowedSpecialCharacters: '-_' }) + '-worker';
  const container = new batch.EcsFargateContainerDefinition(scope, 'WorkerContainer', {
    image: image.image,
    cpu: vcpu,
    memory,
    ephemeralStorageSize: props.ephemeralStorage ?? Size.gibibytes(21),
    environment,
    jobRole,
    executionRole,
    readonlyRootFilesystem: true,
    // The worker image's unprivileged user (uid 1000, the node user of the Node base image).
    user: '1000:1000',
    // The root filesystem is read-only: the worker writes temporary files to /tmp only.
    volumes: [batch.EcsVolume.host({ name: 'tmp', containerPath: '/tmp' })],
    logging: ecs.LogDrivers.awsLogs({ logGroup: workerLogGroup, streamPrefix: 'ocr-worker' }),
    fargatePlatformVersion: ecs.FargatePlatformVersion.LATEST,
    fargateCpuArchitecture: props.cpuArchitecture ?? ecs.CpuArchitecture.X86_64,
    fargateOperatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
    assignPublicIp: false,
  });
  // The image name the job definition renders (aws-batch binds the image when the container is created).
  const imageName = (container as unknown as { imageConfig?: ecs.ContainerImageConfig }).imageConfig?.imageName;
  const pullProblem = imageName ? imagePullProblem(imageName, subnetsWithoutInternet(network.vpc, network.subnets)) : undefined;
  if (pullProblem) new PropChecker(CONSTRUCT, scope.node.id).fail('image', pullProblem);
  const jobDefinition = new batch.EcsJobDefinition(scope, 'JobDefinition', {
    jobDefinitionName,
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
      batch.RetryStrategy.of(batch.Action.RETRY, batch.Reason.custom({ onExitCode: String(WorkerExitCode.INFRA) })),
      batch.RetryStrategy.of(batch.Action.EXIT, batch.Reason.custom({ onStatusReason: '*' })),
    ],
  });
  return { workerLogGroup, executionRole, jobRole, jobDefinitionName, jobDefinition, environment };
}
