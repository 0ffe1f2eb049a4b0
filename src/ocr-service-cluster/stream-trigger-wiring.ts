import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { OcrDocumentAttributes, OcrDocumentStatus, OcrDocumentStatuses, OcrStreamHandlerEnvironment } from './contract';
import { OcrServiceClusterProps } from './props';
import { StreamTriggerFunction } from './stream-trigger-function';
import { Timings } from './validation';
import { createHandler, CreateHandlerOptions, Handler } from '../common/handler';

/** Where Lambda writes stream batches it gave up on (inside the documents bucket). */
export const FAILED_HANDOFFS_PREFIX = 'aws/lambda/';

/** How the in-VPC handlers (stream trigger, sweep) reach the service. */
export interface ServiceEndpoint {
  readonly vpc: ec2.IVpc;
  readonly workloadSubnets: ec2.SubnetSelection;
  /** Base URL of the service as the handlers call it. */
  readonly serviceUrl: string;
  /** Whether the handlers may send X-Ray traces (they can reach X-Ray). */
  readonly tracing: boolean;
  /** Whether the handlers call the tasks directly through Cloud Map (internet-facing load balancer). */
  readonly throughCloudMap: boolean;
  /** What the handlers open a connection to: the tasks (through Cloud Map) or the load balancer. */
  readonly target: ec2.IConnectable;
  /** Port of `target`. */
  readonly port: number;
}

/**
 * Base URL of the service for the handlers: through Cloud Map straight to the tasks when the load
 * balancer is internet-facing (a private subnet has no route to it, and its listener demands
 * authentication), else the internal load balancer by `domainName` or its DNS name.
 */
export function serviceUrlOf(
  props: OcrServiceClusterProps, loadBalancerDnsName: string, cloudMapNamespaceName: string | undefined, port: number,
): string {
  if (cloudMapNamespaceName !== undefined) return `http://ocr.${cloudMapNamespaceName}:${port}`;
  const scheme = props.certificate ? 'https' : 'http';
  return `${scheme}://${props.domainName ?? loadBalancerDnsName}`;
}

/**
 * Settings of a handler that calls the service (the stream trigger, the sweep): the library's handler
 * props, the VPC, and where the service is and how long one call may take.
 */
export function serviceCallerOptions(
  props: OcrServiceClusterProps, timings: Timings, endpoint: ServiceEndpoint,
): Omit<CreateHandlerOptions, 'purpose' | 'timeout' | 'invocation'> & { readonly environment: { [key: string]: string } } {
  return {
    architecture: props.architecture,
    encryptionKey: props.encryptionKey,
    logRetention: props.logRetention,
    // They call the service inside the VPC, so they run in it.
    vpc: endpoint.vpc,
    vpcSubnets: endpoint.workloadSubnets,
    // In the construct's network its traces reach X-Ray only through the endpoint that `tracing` adds.
    tracing: endpoint.tracing,
    environment: {
      [OcrStreamHandlerEnvironment.SERVICE_URL]: endpoint.serviceUrl,
      [OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS]: String(timings.handoffTimeout.toMilliseconds()),
    },
  };
}

/** Let an in-VPC handler open connections to the service. */
export function allowHandlerToService(handler: lambda.Function, endpoint: ServiceEndpoint, purpose: string): void {
  const description = endpoint.throughCloudMap ? `${purpose} to the tasks (Cloud Map)` : `${purpose} to the service`;
  handler.connections.allowTo(endpoint.target, ec2.Port.tcp(endpoint.port), description);
}

/** The stream trigger and the table stream mapping that invokes it. */
export interface StreamTrigger extends Handler {
  readonly eventSource: DynamoEventSource;
}

/**
 * The stream handler that hands PENDING documents to the service, invoked by the table's stream for
 * PENDING inserts and claims returned to PENDING; batches it gives up on go to the documents bucket.
 */
export function createStreamTrigger(
  scope: Construct, props: OcrServiceClusterProps, timings: Timings, endpoint: ServiceEndpoint,
  data: { readonly table: dynamodb.ITable; readonly documentsBucket: s3.IBucket },
): StreamTrigger {
  const handoffTimeout = timings.handoffTimeout;
  const batchSize = props.streamBatchSize ?? 10;
  const handler = createHandler(scope, 'StreamTrigger', (s, i, p) => new StreamTriggerFunction(s, i, p), {
    ...serviceCallerOptions(props, timings, endpoint),
    purpose: 'OCR service stream trigger',
    // Records are handed off one after another; each call is bounded by the hand-off timeout.
    timeout: Duration.seconds(Math.min(900, batchSize * handoffTimeout.toSeconds() + 30)),
    invocation: 'poll',
  });
  allowHandlerToService(handler.function, endpoint, 'OCR stream trigger');

  const pending = lambda.FilterRule.or(...OcrDocumentStatuses.PENDING_SPELLINGS);
  const eventSource = new DynamoEventSource(data.table, {
    startingPosition: lambda.StartingPosition.TRIM_HORIZON,
    batchSize,
    maxBatchingWindow: Duration.seconds(1),
    bisectBatchOnError: true,
    retryAttempts: props.streamRetryAttempts ?? 3,
    reportBatchItemFailures: true,
    parallelizationFactor: 1,
    onFailure: new DocumentsBucketFailureDestination(data.documentsBucket, FAILED_HANDOFFS_PREFIX),
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
  handler.function.addEventSource(eventSource);
  return { ...handler, eventSource };
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
