import { Duration, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { WorkerImage, WorkerJob } from './compute';
import { DEFAULTS } from './defaults';
import { JobStateFunction } from './job-state-function';
import { ProcessorNetwork } from './network';
import { DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD } from './packing';
import { ApiAuthorization, BatchOcrProcessorProps } from './props';
import { LIMITS } from './request';
import { StatusFunction } from './status-function';
import { callerInputPrefixes, ProcessorStorage } from './storage';
import { SubmitFunction } from './submit-function';
import { TextractApiFunction } from './textract-api-function';
import { UploadFunction } from './upload-function';
import { createHandler, CreateHandlerOptions, Handler } from '../common/handler';
import { allowEventBridgeToUseKey } from '../common/key-policy';
import { DEFAULT_LOG_RETENTION } from '../common/shared-props';
import { WorkerBatchEnvironment } from '../common/worker-contract';

/** What the handlers are given: the resources they call and the settings they read. */
export interface HandlerContext {
  readonly props: BatchOcrProcessorProps;
  readonly network: ProcessorNetwork;
  readonly storage: ProcessorStorage;
  readonly image: WorkerImage;
  readonly worker: WorkerJob;
  readonly jobQueueArn: string;
  readonly metricsNamespace: string;
  readonly metricsService: string;
}

/** Options every handler of the processor is created with: its environment, VPC, logs and key. */
export function commonHandlerOptions(context: HandlerContext): Omit<CreateHandlerOptions, 'purpose' | 'timeout' | 'invocation'> {
  const { props, storage, worker } = context;
  const environment: { [name: string]: string } = {
    POWERTOOLS_SERVICE_NAME: context.metricsService,
    METRICS_NAMESPACE: context.metricsNamespace,
    POWERTOOLS_METRICS_NAMESPACE: context.metricsNamespace,
    [WorkerBatchEnvironment.INPUT_BUCKET]: storage.inputBucket.bucketName,
    [WorkerBatchEnvironment.OUTPUT_BUCKET]: storage.outputBucket.bucketName,
    [WorkerBatchEnvironment.OUTPUT_PREFIX]: storage.outputPrefix,
    JOB_TABLE_NAME: storage.jobTable.tableName,
    IDEMPOTENCY_TABLE_NAME: storage.idempotencyTable.tableName,
    JOB_QUEUE: context.jobQueueArn,
    JOB_DEFINITION_NAME: worker.jobDefinitionName,
    MAX_DOCUMENTS_PER_JOB: String(props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren),
    TARGET_BYTES_PER_CHILD: String(props.targetBytesPerChild?.toBytes() ?? DEFAULT_TARGET_BYTES_PER_CHILD),
    MAX_DOCUMENTS_PER_CHILD: String(props.maxDocumentsPerChild ?? DEFAULT_MAX_DOCUMENTS_PER_CHILD),
    [WorkerBatchEnvironment.MAX_DOCUMENT_BYTES]: worker.environment[WorkerBatchEnvironment.MAX_DOCUMENT_BYTES],
    [WorkerBatchEnvironment.LANGUAGES]: worker.environment[WorkerBatchEnvironment.LANGUAGES],
    [WorkerBatchEnvironment.DPI]: worker.environment[WorkerBatchEnvironment.DPI],
    RECORD_TTL_DAYS: String(props.outputBucket ? 0 : Math.ceil(storage.resultExpiration.toDays({ integral: false }))),
    PRESIGN_SECONDS: String((props.presignedUrlExpiry ?? Duration.minutes(15)).toSeconds()),
    UPLOAD_PREFIX: props.uploadPrefix ?? DEFAULTS.uploadPrefix,
    // Who may do what through the API: see the "Who can do what" table of the docs.
    API_AUTHORIZATION: props.authorization ?? ApiAuthorization.IAM,
    ALLOWED_INPUT_PREFIXES: JSON.stringify(props.allowedInputPrefixes ?? []),
    CALLER_SCOPED_INPUT: String(props.callerScopedInput ?? false),
  };
  // Lambda proxy integrations must add CORS headers to their own responses.
  if (props.corsAllowOrigins) environment.CORS_ALLOW_ORIGINS = JSON.stringify(props.corsAllowOrigins);
  if (props.maxPagesPerDocument !== undefined) environment.OCR_MAX_PAGES = String(props.maxPagesPerDocument);
  // Requests asking for other languages are refused (400), not left to fail in the job.
  if (context.image.languages) environment.OCR_AVAILABLE_LANGUAGES = context.image.languages.join('+');
  return {
    architecture: props.architecture,
    encryptionKey: props.encryptionKey,
    logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    vpc: props.handlersInVpc ? context.network.vpc : undefined,
    vpcSubnets: props.handlersInVpc ? context.network.subnets : undefined,
    vpcProp: 'handlersInVpc',
    environment,
  };
}

/** The handlers behind the API and the recorder of the queue's job state changes. */
export interface ProcessorHandlers {
  readonly submit: Handler;
  readonly status: Handler;
  readonly upload: Handler;
  readonly jobState: Handler;
  readonly jobStateRule: events.Rule;
  /** Amazon Textract's API at the API's root (IAM authorization only: Textract's clients sign with SigV4). */
  readonly textract?: Handler;
}

/**
 * The submit, status and upload handlers of the API, Amazon Textract's API ('TextractApi', with IAM
 * authorization) and the job state recorder with its EventBridge rule ('JobStateRule'), each with
 * the permissions it needs and no more.
 */
export function createHandlers(scope: Construct, context: HandlerContext): ProcessorHandlers {
  const { props, storage } = context;
  const common = commonHandlerOptions(context);
  const submit = createHandler(scope, 'Submit', (s, i, p) => new SubmitFunction(s, i, p), {
    ...common, purpose: 'OCR job submission', timeout: Duration.seconds(29), memorySize: 512, invocation: 'sync',
  });
  const status = createHandler(scope, 'Status', (s, i, p) => new StatusFunction(s, i, p), {
    ...common, purpose: 'OCR job status', timeout: Duration.seconds(29), memorySize: 512, invocation: 'sync',
  });
  const upload = createHandler(scope, 'Upload', (s, i, p) => new UploadFunction(s, i, p), {
    ...common, purpose: 'OCR upload URL', timeout: Duration.seconds(10), invocation: 'sync',
  });
  // Adds up to 10,000 summary objects when a job finishes: minutes, not seconds.
  const jobState = createHandler(scope, 'JobState', (s, i, p) => new JobStateFunction(s, i, p), {
    ...common, purpose: 'OCR job state recorder', timeout: Duration.minutes(5), memorySize: 512, invocation: 'async',
  });

  // Textract's clients sign requests with SigV4; Cognito callers have no AWS credentials to sign with.
  const textract = (props.authorization ?? ApiAuthorization.IAM) === ApiAuthorization.IAM
    ? createHandler(scope, 'TextractApi', (s, i, p) => new TextractApiFunction(s, i, p), {
      ...common, purpose: 'Amazon Textract-compatible API', timeout: Duration.seconds(29), memorySize: 512, invocation: 'sync',
    })
    : undefined;

  const uploadPrefix = props.uploadPrefix ?? DEFAULTS.uploadPrefix;
  const results = `${storage.outputPrefix}*`;
  grantSubmitJob(scope, submit.role, context);
  // The submit handler checks (HEAD/List) only what callers may name: uploads and the allowed prefixes.
  for (const prefix of callerInputPrefixes(props)) storage.inputBucket.grantRead(submit.role, `${prefix}*`);
  storage.jobTable.grantReadWriteData(submit.role);
  storage.idempotencyTable.grantReadWriteData(submit.role);
  storage.outputBucket.grantPut(submit.role, results);
  storage.jobTable.grantReadData(status.role);
  storage.outputBucket.grantRead(status.role, results);
  storage.inputBucket.grantPut(upload.role, `${uploadPrefix}*`);
  if (textract) {
    // Start checks (HEAD) what callers may name and records the job; Get reads the job's summary and
    // its Textract output. Submitting to Batch (and writing the manifest) is added without gathering.
    for (const prefix of callerInputPrefixes(props)) storage.inputBucket.grantRead(textract.role, `${prefix}*`);
    storage.jobTable.grantReadWriteData(textract.role);
    storage.outputBucket.grantRead(textract.role, results);
    if (props.gathering?.enabled === false) {
      grantSubmitJob(scope, textract.role, context);
      storage.outputBucket.grantPut(textract.role, results);
    }
  }
  storage.jobTable.grantReadWriteData(jobState.role);
  storage.outputBucket.grantRead(jobState.role, results);
  if (textract) grantTextractDelivery(textract, jobState, context);
  // An array job's progress is its parent's arrayProperties.statusSummary. DescribeJobs has no
  // resource-level permissions (Service Authorization Reference, AWS Batch): Resource * is the only form.
  jobState.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['batch:DescribeJobs'], resources: ['*'] }));
  jobState.role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['events:PutEvents'],
    resources: [Stack.of(scope).formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' })],
  }));

  const jobStateRule = new events.Rule(scope, 'JobStateRule', {
    description: 'Batch job state changes of the OCR job queue',
    eventPattern: { source: ['aws.batch'], detailType: ['Batch Job State Change'], detail: { jobQueue: [context.jobQueueArn] } },
  });
  jobStateRule.addTarget(new targets.LambdaFunction(jobState.function, { retryAttempts: 4, deadLetterQueue: jobState.deadLetterQueue }));
  // EventBridge itself writes to the rule's dead-letter queue (and, with s3Trigger, to the ingest queue).
  if (props.encryptionKey) allowEventBridgeToUseKey(scope, props.encryptionKey);
  return { submit, status, upload, jobState, jobStateRule, textract };
}

/**
 * What Textract's NotificationChannel and OutputConfig need: the Start handler knows which topics and
 * buckets callers may name; the job state handler publishes to exactly those topics (and uses a
 * topic's KMS key as an SNS publisher must: kms:GenerateDataKey* and kms:Decrypt, Amazon SNS
 * Developer Guide, "Key management") and writes the result pages to those buckets.
 */
function grantTextractDelivery(textract: Handler, jobState: Handler, context: HandlerContext): void {
  const { props, storage } = context;
  const topics = props.textractNotificationTopics ?? [];
  const buckets = props.textractOutputBuckets ?? [];
  const environment = {
    TEXTRACT_NOTIFICATION_TOPICS: JSON.stringify(topics.map((t) => t.topicArn)),
    TEXTRACT_OUTPUT_BUCKETS: JSON.stringify(buckets.map((b) => b.bucketName)),
  };
  for (const [name, value] of Object.entries(environment)) textract.function.addEnvironment(name, value);
  for (const topic of topics) {
    topic.grantPublish(jobState.role);
    topic.masterKey?.grant(jobState.role, 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
  // Pages go anywhere in these buckets but under the results prefix (the handler refuses that prefix
  // in the output bucket): their keys are the caller's S3Prefix and the job id. PutObject only; with
  // SSE-KMS, S3 needs the writer's kms:GenerateDataKey on the bucket's key (Amazon S3 User Guide,
  // "Using server-side encryption with AWS KMS keys": permissions).
  for (const bucket of [storage.outputBucket, ...buckets]) {
    iam.Grant.addToPrincipal({ grantee: jobState.role, actions: ['s3:PutObject'], resourceArns: [bucket.arnForObjects('*')] });
    bucket.encryptionKey?.grant(jobState.role, 'kms:GenerateDataKey');
  }
  // and never over the processor's results, whatever the handler does: an explicit deny wins over the
  // allow above (IAM User Guide, "Policy evaluation logic")
  jobState.role.addToPrincipalPolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    actions: ['s3:PutObject'],
    resources: [storage.outputBucket.arnForObjects(`${storage.outputPrefix}*`)],
  }));
}

/**
 * Let a handler submit the worker's jobs to the queue: any revision of the job definition, by name,
 * and look a job up by name before submitting it again.
 */
export function grantSubmitJob(scope: Construct, role: iam.IGrantable, context: Pick<HandlerContext, 'worker' | 'jobQueueArn'>): void {
  const stack = Stack.of(scope);
  const jobDefinitionArn = `arn:${stack.partition}:batch:${stack.region}:${stack.account}:job-definition/${context.worker.jobDefinitionName}`;
  iam.Grant.addToPrincipal({
    grantee: role,
    actions: ['batch:SubmitJob'],
    // The queue, and the job definition by name (every revision: EcrBatchAutoUpdater adds them).
    resourceArns: [context.jobQueueArn, jobDefinitionArn, `${jobDefinitionArn}:*`],
  });
  // Before submitting a job id again, the handler looks its job up by name (ListJobs has no
  // resource-level permissions: Service Authorization Reference, AWS Batch).
  iam.Grant.addToPrincipal({ grantee: role, actions: ['batch:ListJobs'], resourceArns: ['*'] });
}
