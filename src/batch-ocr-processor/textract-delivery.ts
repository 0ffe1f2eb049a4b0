/**
 * What a StartDocumentTextDetection asked for beyond Get: Amazon Textract's completion message on an
 * SNS topic (NotificationChannel, with the caller's JobTag) and a copy of the result in an S3 bucket
 * (OutputConfig). Start checks and records them on the request's job record; the job state handler
 * delivers them at least once, when the request's document is done.
 *
 * Formats follow the Amazon Textract Developer Guide: "Amazon Textract Results Notification" (the
 * message's JobId, Status, API, JobTag, Timestamp in epoch milliseconds, DocumentLocation) and the
 * API reference's OutputConfig (S3Prefix defaults to "textract_output"; the result is stored as the
 * Get operation's response pages under `<S3Prefix>/<JobId>/1`, `/2`, ..., the layout AWS's
 * amazon-textract-caller lists).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Clients, JobRecord, ProcessorConfig } from './jobs';
import { MAX_RESULTS_LIMIT, readTextractAnswer } from './textract-result';

/** Textract's NotificationChannel: the topic to tell, and the role Textract would assume to publish (recorded, not assumed here). */
export interface TextractNotificationChannel {
  readonly SNSTopicArn: string;
  readonly RoleArn: string;
}

/** Textract's OutputConfig: the bucket the result pages go to, under S3Prefix. */
export interface TextractOutputConfig {
  readonly S3Bucket: string;
  readonly S3Prefix?: string;
}

/** What a Start recorded on the request's job record for its completion. */
export interface TextractDelivery {
  /** The document as the completion message names it. */
  readonly document: { readonly S3Bucket: string; readonly S3ObjectName: string };
  readonly jobTag?: string;
  readonly notificationChannel?: TextractNotificationChannel;
  readonly outputConfig?: TextractOutputConfig;
}

/** The API the completion message names. */
export const TEXTRACT_API = 'StartDocumentTextDetection';
/** The prefix Textract uses when OutputConfig has no S3Prefix. */
export const DEFAULT_OUTPUT_PREFIX = 'textract_output';

/** Whether a record has something to deliver when its document is done. */
export function hasDelivery(record: Pick<JobRecord, 'textract'> | undefined): boolean {
  return record?.textract?.notificationChannel !== undefined || record?.textract?.outputConfig !== undefined;
}

/** The keys of the result's pages: `<S3Prefix>/<JobId>/<n>`, from 1 (a prefix's trailing slashes are not doubled). */
export function outputPageKey(output: TextractOutputConfig, jobId: string, page: number): string {
  const prefix = (output.S3Prefix ?? DEFAULT_OUTPUT_PREFIX).replace(/\/+$/, '');
  return `${prefix.length > 0 ? `${prefix}/` : ''}${jobId}/${page}`;
}

/** Textract's completion message for a request (its documented fields; JobTag only when the caller gave one). */
export function completionMessage(record: Pick<JobRecord, 'jobId' | 'textract'>, status: string, timestamp: number): string {
  const delivery = record.textract!;
  return JSON.stringify({
    JobId: record.jobId,
    Status: status,
    API: TEXTRACT_API,
    ...(delivery.jobTag !== undefined ? { JobTag: delivery.jobTag } : {}),
    Timestamp: timestamp,
    DocumentLocation: { S3ObjectName: delivery.document.S3ObjectName, S3Bucket: delivery.document.S3Bucket },
  });
}

export interface DeliveryLog {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

export type DeliveryOutcome = 'delivered' | 'nothing-to-deliver' | 'delivered-before' | 'not-done' | 'failed';

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Deliver a finished request's OutputConfig pages, then its completion message, and only then mark
 * the record delivered: a failure leaves it unmarked, so the job state handler's retry delivers it
 * again (pages are overwritten with the same content; the message is published once more only if
 * the handler died after publishing and before marking, or two handlers raced: at least once, as
 * SNS itself delivers). Never throws: a failure is logged and answered 'failed', so that the caller
 * tries its other deliveries before it reports the failure.
 */
export async function deliverTextractResult(
  clients: Pick<Clients, 's3' | 'ddb'> & { sns?: Pick<SNSClient, 'send'> }, config: ProcessorConfig, record: JobRecord,
  log: DeliveryLog, now: () => number = Date.now,
): Promise<DeliveryOutcome> {
  if (!hasDelivery(record)) return 'nothing-to-deliver';
  if (record.textractDeliveredAt !== undefined) return 'delivered-before';
  const delivery = record.textract!;
  try {
    // Page by page, as Get answers (one or two of the worker's page objects per page): the handler
    // never holds a whole response, which for a long document is larger than its memory.
    let status: string | undefined;
    for (let page = 1; ; page++) {
      const answer = await readTextractAnswer(clients, config, record, record.jobId, (page - 1) * MAX_RESULTS_LIMIT, MAX_RESULTS_LIMIT);
      if (answer.kind !== 'final') return 'not-done';
      status ??= String(answer.page.JobStatus);
      if (!delivery.outputConfig) break;
      // The pages first: a subscriber told of completion finds them written.
      await clients.s3.send(new PutObjectCommand({
        Bucket: delivery.outputConfig.S3Bucket,
        Key: outputPageKey(delivery.outputConfig, record.jobId, page),
        Body: JSON.stringify(answer.page),
        ContentType: 'application/json',
      }));
      if (answer.page.NextToken === undefined) break;
    }
    if (delivery.notificationChannel) {
      if (!clients.sns) throw new Error('no SNS client to publish the completion message with');
      await clients.sns.send(new PublishCommand({
        TopicArn: delivery.notificationChannel.SNSTopicArn,
        Message: completionMessage(record, status, now()),
      }));
    }
    try {
      await clients.ddb.send(new UpdateCommand({
        TableName: config.jobTable,
        Key: { jobId: record.jobId },
        UpdateExpression: 'SET textractDeliveredAt = :now',
        // Marked once: a handler racing this one delivered too, and marks nothing more.
        ConditionExpression: 'attribute_exists(jobId) AND attribute_not_exists(textractDeliveredAt)',
        ExpressionAttributeValues: { ':now': new Date(now()).toISOString() },
      }));
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    log.info('Textract completion delivered', { jobId: record.jobId, status });
    return 'delivered';
  } catch (error) {
    log.warn('Could not deliver a Textract completion', { jobId: record.jobId, reason: (error as Error).message ?? String(error) });
    return 'failed';
  }
}
