import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { commonHandlerOptions, HandlerContext } from './handlers';
import { createPolledQueue } from './polled-queue';
import { S3IngestFunction } from './s3-ingest-function';
import { createHandler, Handler } from '../common/handler';

const INGEST_HANDLER_TIMEOUT = Duration.seconds(60);

/** The S3 trigger: objects created in the input bucket, batched in a queue, submitted as jobs. */
export interface S3Trigger {
  readonly ingest: Handler;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly rule: events.Rule;
}

/**
 * With `s3Trigger`: an EventBridge rule ('IngestRule') for objects created in the input bucket, a
 * queue ('IngestQueue', with 'IngestDeadLetterQueue') that batches them and the handler ('S3Ingest')
 * that submits each batch as one job.
 */
export function createS3Trigger(scope: Construct, context: HandlerContext): S3Trigger | undefined {
  const { props, storage } = context;
  const trigger = props.s3Trigger;
  if (!trigger) return undefined;
  const common = commonHandlerOptions(context);
  const ingest = createHandler(scope, 'S3Ingest', (s, i, p) => new S3IngestFunction(s, i, p), {
    ...common,
    purpose: 'OCR S3 ingest',
    timeout: INGEST_HANDLER_TIMEOUT,
    memorySize: 512,
    invocation: 'poll',
    environment: {
      ...common.environment,
      // the options of the jobs it submits, beyond the processor's defaults
      ...(trigger.outputs !== undefined ? { INGEST_OUTPUTS: JSON.stringify(trigger.outputs) } : {}),
      ...(trigger.geometry !== undefined ? { INGEST_GEOMETRY: String(trigger.geometry) } : {}),
    },
  });
  const { queue, deadLetterQueue } = createPolledQueue(scope, 'Ingest', ingest, context, {
    holds: 'the OCR S3 ingest queue',
    handlerTimeout: INGEST_HANDLER_TIMEOUT,
    batchingWindow: trigger.maxBatchingWindow ?? Duration.seconds(60),
    maxReceiveCount: 5,
    batchSize: trigger.batchSize ?? 100,
  });
  const keyFilter = trigger.prefix && trigger.suffix
    ? events.Match.wildcard(`${trigger.prefix}*${trigger.suffix}`)
    : trigger.prefix ? events.Match.prefix(trigger.prefix) : trigger.suffix ? events.Match.suffix(trigger.suffix) : undefined;
  const rule = new events.Rule(scope, 'IngestRule', {
    description: 'Objects created in the OCR input bucket',
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: {
        bucket: { name: [storage.inputBucket.bucketName] },
        ...(keyFilter ? { object: { key: keyFilter } } : {}),
      },
    },
  });
  rule.addTarget(new targets.SqsQueue(queue));
  return { ingest, queue, deadLetterQueue, rule };
}
