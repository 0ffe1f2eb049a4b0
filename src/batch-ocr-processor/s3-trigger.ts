import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { commonHandlerOptions, grantSubmitJob, HandlerContext } from './handlers';
import { S3IngestFunction } from './s3-ingest-function';
import { createDeadLetterQueue } from '../common/dead-letter-queue';
import { createHandler, Handler } from '../common/handler';

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
  const key = props.encryptionKey;
  const ingest = createHandler(scope, 'S3Ingest', (s, i, p) => new S3IngestFunction(s, i, p), {
    ...commonHandlerOptions(context), purpose: 'OCR S3 ingest', timeout: Duration.seconds(60), memorySize: 512, invocation: 'poll',
  });
  const deadLetterQueue = createDeadLetterQueue(scope, 'IngestDeadLetterQueue', {
    deadLetterOf: 'the OCR S3 ingest queue', encryptionKey: key, removalPolicy: RemovalPolicy.DESTROY,
  });
  const queue = new sqs.Queue(scope, 'IngestQueue', {
    encryption: key ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: key,
    enforceSSL: true,
    removalPolicy: RemovalPolicy.DESTROY,
    // Six times the handler timeout, as Lambda recommends for SQS event sources.
    visibilityTimeout: Duration.seconds(360),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: 5 },
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
  ingest.function.addEventSource(new lambdaEventSources.SqsEventSource(queue, {
    batchSize: trigger.batchSize ?? 100,
    maxBatchingWindow: trigger.maxBatchingWindow ?? Duration.seconds(60),
    reportBatchItemFailures: true,
  }));
  grantSubmitJob(scope, ingest.role, context);
  storage.jobTable.grantReadWriteData(ingest.role);
  storage.outputBucket.grantPut(ingest.role, `${storage.outputPrefix}*`);
  return { ingest, queue, deadLetterQueue, rule };
}
