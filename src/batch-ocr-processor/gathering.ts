import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { GatherFunction } from './gather-function';
import { commonHandlerOptions, HandlerContext } from './handlers';
import { createPolledQueue } from './polled-queue';
import { GATHER_MAX_RECEIVE_COUNT, LIMITS } from './request';
import { createHandler, Handler } from '../common/handler';

const GATHER_HANDLER_TIMEOUT = Duration.seconds(120);

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
  const { props } = context;
  if (props.gathering?.enabled === false) return undefined;
  const gather = createHandler(scope, 'Gather', (s, i, p) => new GatherFunction(s, i, p), {
    ...commonHandlerOptions(context), purpose: 'OCR request gathering', timeout: GATHER_HANDLER_TIMEOUT, memorySize: 512, invocation: 'poll',
  });
  const maxDocuments = props.gathering?.maxDocuments
    ?? Math.min(GATHERING_DEFAULTS.maxDocuments, props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren);
  const { queue, deadLetterQueue } = createPolledQueue(scope, 'Gather', gather, context, {
    holds: 'the OCR request gathering queue',
    handlerTimeout: GATHER_HANDLER_TIMEOUT,
    batchingWindow: props.gathering?.window ?? GATHERING_DEFAULTS.window,
    maxReceiveCount: GATHER_MAX_RECEIVE_COUNT,
    batchSize: maxDocuments,
  });
  gather.function.addEnvironment('GATHER_MAX_RECEIVE_COUNT', String(GATHER_MAX_RECEIVE_COUNT));
  // The front doors that take one document at a time queue it.
  for (const entry of [submit, ...(textract ? [textract] : [])]) {
    queue.grantSendMessages(entry.role);
    entry.function.addEnvironment('GATHER_QUEUE_URL', queue.queueUrl);
  }
  return { gather, queue, deadLetterQueue };
}
