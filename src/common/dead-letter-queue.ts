import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeNagFindings } from './nag';

export interface DeadLetterQueueOptions {
  /** What fails into the queue, for the acknowledgement's reason: e.g. `the OCR S3 ingest queue`. */
  readonly deadLetterOf: string;
  readonly encryptionKey?: kms.IKey;
  readonly removalPolicy: RemovalPolicy;
  /** A FIFO queue's dead-letter queue must be FIFO too. */
  readonly fifo?: boolean;
}

/**
 * A dead-letter queue: encrypted, TLS only, messages kept the 14 days SQS allows at most.
 *
 * It declares itself a dead-letter queue with a redrive allow policy. `allowAll` is SQS's own default
 * (any queue of the account may send its failures here), stated explicitly so that AWS Control
 * Tower's proactive control CT.SQS.PR.1, which requires every queue to have a dead-letter queue,
 * recognises this one as a dead-letter queue rather than asking it for one of its own. `byQueue`
 * would need the source queue's ARN, which a queue that names this one as its DLQ cannot give
 * without a circular reference, and Lambda's and EventBridge's failure destinations have no source
 * queue at all.
 */
export function createDeadLetterQueue(scope: Construct, id: string, options: DeadLetterQueueOptions): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    ...(options.fifo ? { fifo: true } : {}),
    encryption: options.encryptionKey ? sqs.QueueEncryption.KMS : sqs.QueueEncryption.SQS_MANAGED,
    encryptionMasterKey: options.encryptionKey,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    removalPolicy: options.removalPolicy,
  });
  acknowledgeNagFindings(queue, [{
    ruleId: 'AwsSolutions-SQS3',
    reason: `This queue is the dead-letter queue of ${options.deadLetterOf}; a dead-letter queue of its own would only move the same failed messages again.`,
  }]);
  return queue;
}
