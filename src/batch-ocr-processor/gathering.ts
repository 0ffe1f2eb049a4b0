import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GatherFunction } from './gather-function';
import { commonHandlerOptions, grantSubmitJob, HandlerContext } from './handlers';
import { GATHER_MAX_RECEIVE_COUNT } from './jobs';
import { LIMITS } from './request';
import { createDeadLetterQueue } from '../common/dead-letter-queue';
import { createHandler, Handler } from '../common/handler';

/** Defaults of `gathering`: a window short next to a Fargate task's start, and jobs of up to 1,000 documents. */
export const GATHERING_DEFAULTS = { window: Duration.seconds(30), maxDocuments: 1000 } as const;

/** The gathering of single-document requests: their queue, its dead-letter queue and the handler that submits them. */
export interface Gathering {
  readonly gather: Handler;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

/**
 * Unless `gathering.enabled` is false: a queue ('GatherQueue', with 'GatherDeadLetterQueue') the
 * submit handler puts single-document requests in, and the handler ('Gather') that submits what
 * arrived in one batching window as one job.
 *
 * Lambda's SQS event source (AWS Lambda Developer Guide, "Lambda parameters for Amazon SQS event
 * source mappings" and "Handling errors for an SQS event source"): batch size up to 10,000 for
 * standard queues, above 10 only with a batching window of at least 1 s, a window of at most 300 s,
 * every batch within the 6 MB invocation payload (a request's message is at most about 1.5 KB), and
 * ReportBatchItemFailures so that only the failed requests come back.
 */
export function createGathering(scope: Construct, context: HandlerContext, submit: Handler, textract?: Handler): Gathering | undefined {
  const { props, storage } = context;
  if (props.gathering?.enabled === false) return undefined;
  const key = props.encryptionKey;
  const gather = createHandler(scope, 'Gather', (s, i, p) => new GatherFunction(s, i, p), {
    ...commonHandlerOptions(context), purpose: 'OCR request gathering', timeout: Duration.seconds(120), memorySize: 512, invocation: 'poll',
  });
  const deadLetterQueue = createDeadLetterQueue(scope, 'GatherDeadLetterQueue', {
    deadLetterOf: 'the OCR request gathering queue', encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY,
  });
  const queue = new sqs.Queue(scope, 'GatherQueue', {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
    // At least six times the handler timeout, as Lambda recommends for SQS event sources, plus the window.
    visibilityTimeout: Duration.seconds(6 * 120 + 300),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: GATHER_MAX_RECEIVE_COUNT },
  });
  const maxDocuments = props.gathering?.maxDocuments
    ?? Math.min(GATHERING_DEFAULTS.maxDocuments, props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren);
  gather.function.addEventSource(new lambdaEventSources.SqsEventSource(queue, {
    batchSize: maxDocuments,
    maxBatchingWindow: props.gathering?.window ?? GATHERING_DEFAULTS.window,
    reportBatchItemFailures: true,
  }));
  gather.function.addEnvironment('GATHER_MAX_RECEIVE_COUNT', String(GATHER_MAX_RECEIVE_COUNT));
  grantSubmitJob(scope, gather.role, context);
  storage.jobTable.grantReadWriteData(gather.role);
  storage.outputBucket.grantPut(gather.role, `${storage.outputPrefix}*`);
  // The front doors that take one document at a time queue it.
  for (const entry of [submit, ...(textract ? [textract] : [])]) {
    queue.grantSendMessages(entry.role);
    entry.function.addEnvironment('GATHER_QUEUE_URL', queue.queueUrl);
  }
  return { gather, queue, deadLetterQueue };
}
