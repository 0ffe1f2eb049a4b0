import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantSubmitJob, HandlerContext } from './handlers';
import { createDeadLetterQueue } from '../common/dead-letter-queue';
import { Handler } from '../common/handler';

/** A queue a handler drains in batches, and its dead-letter queue. */
export interface PolledQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export interface PolledQueueOptions {
  /** What the queue holds, for the dead-letter queue's description. */
  readonly holds: string;
  /** The draining handler's timeout: the queue hides a message at least six times that long. */
  readonly handlerTimeout: Duration;
  /** Longest wait of a batch, added to the visibility timeout. */
  readonly batchingWindow: Duration;
  /** Receives before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** Messages per invocation. */
  readonly batchSize: number;
}

/**
 * A queue ('<id>Queue', with '<id>DeadLetterQueue') that `handler` drains in batches of up to
 * `batchSize` gathered for up to `batchingWindow`, returning only the failed messages
 * (ReportBatchItemFailures). Encrypted with the construct's key (or SQS's), TLS only. The handler
 * submits what it drains as Batch jobs, so it gets the submit permissions.
 *
 * The visibility timeout is six times the handler's timeout plus the window, as Lambda recommends
 * for SQS event sources (Lambda Developer Guide, "Using Lambda with Amazon SQS").
 */
export function createPolledQueue(scope: Construct, id: string, handler: Handler, context: HandlerContext, options: PolledQueueOptions): PolledQueue {
  const key = context.props.encryptionKey;
  const deadLetterQueue = createDeadLetterQueue(scope, `${id}DeadLetterQueue`, {
    deadLetterOf: options.holds, encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY,
  });
  const queue = new sqs.Queue(scope, `${id}Queue`, {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
    visibilityTimeout: Duration.seconds(6 * options.handlerTimeout.toSeconds() + options.batchingWindow.toSeconds()),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: options.maxReceiveCount },
  });
  handler.function.addEventSource(new lambdaEventSources.SqsEventSource(queue, {
    batchSize: options.batchSize,
    maxBatchingWindow: options.batchingWindow,
    reportBatchItemFailures: true,
  }));
  grantJobSubmission(scope, handler.role, context);
  return { queue, deadLetterQueue };
}

/** What a handler that submits jobs may do: SubmitJob, the job records, the manifests. */
function grantJobSubmission(scope: Construct, role: iam.IRole, context: HandlerContext): void {
  grantSubmitJob(scope, role, context);
  context.storage.jobTable.grantReadWriteData(role);
  context.storage.outputBucket.grantPut(role, `${context.storage.outputPrefix}*`);
}
