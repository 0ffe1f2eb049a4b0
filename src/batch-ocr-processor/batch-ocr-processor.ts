import { CfnOutput, Duration, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledgeProcessorFindings } from './compliance';
import { createCompute, createWorkerImage, createWorkerJob } from './compute';
import { estimateProcessorCost } from './cost';
import { createGathering } from './gathering';
import { createHandlers, HandlerContext } from './handlers';
import { createNetwork } from './network';
import { createAlarms, createDashboard } from './observability';
import { BatchOcrCostEstimate, BatchOcrProcessorProps } from './props';
import { createRestApi } from './rest-api';
import { createS3Trigger } from './s3-trigger';
import { createStorage } from './storage';
import { validateProps } from './validation';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

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
  /** Role of the worker job: reads the input keys a job can name (uploads, `allowedInputPrefixes`, the S3 trigger's prefix), writes the output prefix. */
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
  /**
   * Handler of Amazon Textract's StartDocumentTextDetection and GetDocumentTextDetection at the API's
   * root (`POST /`), with IAM authorization (not with `ApiAuthorization.COGNITO`).
   */
  public readonly textractApiFunction?: lambda.Function;
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
  /** The handler that submits gathered single-document requests as one job (unless `gathering.enabled` is false). */
  public readonly gatherFunction?: lambda.Function;
  /** The queue single-document requests wait in for their gathered job (unless `gathering.enabled` is false). */
  public readonly gatherQueue?: sqs.Queue;
  /** Dead-letter queue of `gatherQueue`. */
  public readonly gatherDeadLetterQueue?: sqs.Queue;
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

  constructor(scope: Construct, id: string, props: BatchOcrProcessorProps = {}) {
    super(scope, id);
    this.props = props;
    validateProps(id, props, Stack.of(this).region);
    this.metricsNamespace = props.metricsNamespace ?? 'CdkOcrConstructs';
    this.metricsService = `BatchOcr-${Names.uniqueId(this).slice(-24)}`;

    // Network: the user's VPC or a CostOptimizedVpc with the endpoints the tasks (and handlers) call.
    const network = createNetwork(this, props);
    this.network = network.network;
    this.vpc = network.vpc;

    // Data: input and output buckets, job and idempotency tables.
    const storage = createStorage(this, props);
    this.inputBucket = storage.inputBucket;
    this.outputBucket = storage.outputBucket;
    this.accessLogsBucket = storage.accessLogsBucket;
    this.outputPrefix = storage.outputPrefix;
    this.jobTable = storage.jobTable;
    this.idempotencyTable = storage.idempotencyTable;

    // Worker image, compute environments, job queue and the worker's job definition.
    const image = createWorkerImage(this, props);
    this.repository = image.repository;
    this.imageAsset = image.imageAsset;
    const compute = createCompute(this, props, network);
    this.securityGroup = compute.securityGroup;
    this.computeEnvironment = compute.computeEnvironment;
    this.onDemandComputeEnvironment = compute.onDemandComputeEnvironment;
    this.jobQueue = compute.jobQueue;
    const worker = createWorkerJob(this, props, image, network, storage, { namespace: this.metricsNamespace, service: this.metricsService });
    this.workerLogGroup = worker.workerLogGroup;
    this.executionRole = worker.executionRole;
    this.jobRole = worker.jobRole;
    this.jobDefinitionName = worker.jobDefinitionName;
    this.jobDefinition = worker.jobDefinition;

    // Handlers: the API's, the job state recorder and, with s3Trigger, the S3 ingest.
    const context: HandlerContext = {
      props,
      network,
      storage,
      image,
      worker,
      jobQueueArn: this.jobQueue.jobQueueArn,
      metricsNamespace: this.metricsNamespace,
      metricsService: this.metricsService,
    };
    const handlers = createHandlers(this, context);
    this.submitFunction = handlers.submit.function;
    this.statusFunction = handlers.status.function;
    this.uploadFunction = handlers.upload.function;
    this.jobStateFunction = handlers.jobState.function;
    this.textractApiFunction = handlers.textract?.function;
    this.jobStateRule = handlers.jobStateRule;
    const trigger = createS3Trigger(this, context);
    this.ingestFunction = trigger?.ingest.function;
    this.ingestQueue = trigger?.queue;
    this.ingestDeadLetterQueue = trigger?.deadLetterQueue;
    this.ingestRule = trigger?.rule;
    const gathering = createGathering(this, context, handlers.submit, handlers.textract);
    this.gatherFunction = gathering?.gather.function;
    this.gatherQueue = gathering?.queue;
    this.gatherDeadLetterQueue = gathering?.deadLetterQueue;
    const allHandlers = [
      handlers.submit, handlers.status, handlers.upload, handlers.jobState,
      ...(handlers.textract ? [handlers.textract] : []),
      ...(trigger ? [trigger.ingest] : []), ...(gathering ? [gathering.gather] : []),
    ];

    // REST API: methods, authorization, gateway responses, logging, usage plan, WAF.
    const api = createRestApi(this, props, handlers);
    this.api = api.api;
    this.apiAccessLogGroup = api.accessLogGroup;
    this.apiGatewayCloudWatchRole = api.cloudWatchRole;
    this.usagePlan = api.usagePlan;
    this.apiKey = api.apiKey;
    this.webAclAssociation = api.webAclAssociation;

    // Operations: alarms and the dashboard.
    const watched = { processor: this, api: this.api, handlers: allHandlers, workerLogGroup: this.workerLogGroup };
    const alarms = createAlarms(this, watched, props.alarmActions);
    this.jobsFailedAlarm = alarms.jobsFailed;
    this.handlerErrorsAlarm = alarms.handlerErrors;
    this.api5xxAlarm = alarms.api5xx;
    if (props.dashboard ?? true) this.dashboard = createDashboard(this, watched, alarms.handlerErrorsMetric);

    // cdk-nag: the findings this design accepts, each with its reason.
    acknowledgeProcessorFindings(this, props, {
      storage,
      worker,
      handlers,
      ingest: trigger?.ingest,
      gather: gathering?.gather,
      allHandlers,
      api: this.api,
      apiAccessLogGroup: this.apiAccessLogGroup,
      alarms: [this.jobsFailedAlarm, this.handlerErrorsAlarm, this.api5xxAlarm],
    });

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'OCR API base URL' });
    new CfnOutput(this, 'InputBucketName', { value: this.inputBucket.bucketName });
    new CfnOutput(this, 'OutputBucketName', { value: this.outputBucket.bucketName });
    new CfnOutput(this, 'JobQueueArn', { value: this.jobQueue.jobQueueArn });
    new CfnOutput(this, 'JobDefinitionName', { value: this.jobDefinitionName });
    new CfnOutput(this, 'WorkerLogGroupName', { value: this.workerLogGroup.logGroupName });
    // The estimate at synth, when every resource it counts exists (see estimateMonthlyCost).
    new CfnOutput(this, 'MonthlyFixedCostEstimateUsd', {
      description: 'Estimated fixed monthly cost in USD before any document (network it created, keys, alarms, dashboard)',
      value: Lazy.string({ produce: () => this.estimateMonthlyCost().fixedMonthlyUsd.toFixed(2) }),
    });
    new CfnOutput(this, 'CostPer1000OnePageScansEstimateUsd', {
      description: 'Estimated all-in cost in USD of 1,000 one-page scans, tasks shared, on this configuration\'s capacity (Spot or on-demand)',
      value: Lazy.string({
        produce: () => {
          const onePageScans = this.estimateMonthlyCost().perThousandDocuments[0];
          return ((this.props.spot ?? true) ? onePageScans.allInSpotUsd : onePageScans.allInUsd).toFixed(3);
        },
      }),
    });
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
   * Fixed monthly cost of this configuration (the CostOptimizedVpc it created, with its endpoints and
   * flow-log key; every KMS key, alarm and dashboard it created) and the all-in cost of 1,000
   * documents of three shapes and of 1,000 pages on Fargate and Fargate Spot, next to Textract.
   */
  public estimateMonthlyCost(): BatchOcrCostEstimate {
    // Only a network this construct created is priced here.
    return estimateProcessorCost(this, this.props, { ownNetwork: this.props.network ? undefined : this.network });
  }
}
