/**
 * What happens when a Textract job of the service ends, as Amazon Textract does it:
 *
 * - OutputConfig: the job's GetDocumentTextDetection pages (1,000 blocks each) are written to
 *   `s3://S3Bucket/{S3Prefix}/{JobId}/1`, `/2`, ... (S3Prefix defaults to `textract_output`), before
 *   the job's status turns final, so that a job Get reports finished has its output in place. A page
 *   that cannot be written hands the document back, as a result that cannot be stored does.
 * - NotificationChannel: once the status is final, Textract's completion message goes to the SNS
 *   topic (Amazon Textract Developer Guide, "Amazon Textract Results Notification"):
 *   `{ JobId, Status, API, JobTag, Timestamp, DocumentLocation: { S3ObjectName, S3Bucket } }`, Timestamp
 *   in epoch milliseconds, JobTag only when the Start gave one. A publish that fails is logged and
 *   counted (metric TextractNotificationsFailed); the job stays as it ended.
 *
 * The service publishes and writes with its own credentials (its task role): NotificationChannel's
 * RoleArn, a role Amazon Textract would assume, is not used.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { OcrResult } from '../result.ts';
import type { DocumentHooks, LogFn } from '../service/service.ts';
import type { DocumentItem, ObjectWriter } from '../service/stores.ts';
import { isAccessDenied } from '../s3-errors.ts';
import { jobOptionsOf, outputKey, type JobDestinations, type TextractJobOptions } from './job-options.ts';
import { allAnswerPages, finishedAnswer } from './paging.ts';
import { invalidParameter, TextractError } from './protocol.ts';

/** Publishes one message to an SNS topic. */
export interface Notifier {
  publish(topicArn: string, message: string): Promise<void>;
}

/** Amazon SNS's Publish, with the service's credentials. */
export class SnsNotifier implements Notifier {
  private readonly sns: SNSClient;
  constructor(sns: SNSClient) { this.sns = sns; }

  async publish(topicArn: string, message: string): Promise<void> {
    await this.sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
  }
}

/** Textract's completion message, its fields in the order the Developer Guide lists them. */
export interface CompletionMessage {
  JobId: string;
  Status: 'SUCCEEDED' | 'PARTIAL_SUCCESS' | 'FAILED';
  API: 'StartDocumentTextDetection';
  JobTag?: string;
  Timestamp: number;
  DocumentLocation: { S3ObjectName: string; S3Bucket: string };
}

export function completionMessage(item: DocumentItem, options: TextractJobOptions, status: CompletionMessage['Status'], timestamp: number): CompletionMessage {
  return {
    JobId: item.document_id,
    Status: status,
    API: options.api,
    ...(options.jobTag !== undefined ? { JobTag: options.jobTag } : {}),
    Timestamp: timestamp,
    DocumentLocation: { S3ObjectName: item.key ?? '', S3Bucket: item.bucket ?? '' },
  };
}

/** The object Textract writes first under a job's output prefix: proof, at Start, that the bucket takes writes. */
export const ACCESS_CHECK_OBJECT = '.s3_access_check';

export interface TextractDeliveriesDeps {
  destinations: JobDestinations;
  writer: ObjectWriter;
  /** Absent: no topic is allowed (destinations.notificationTopics is empty). */
  notifier?: Notifier;
  log?: LogFn;
  /** EMF metric lines (stdout in production). */
  metrics?: (line: string) => void;
  metricsNamespace: string;
  metricsService: string;
}

/** The OutputConfig and NotificationChannel of the service's Textract jobs: checked at Start, delivered at the end. */
export class TextractDeliveries implements DocumentHooks {
  readonly destinations: JobDestinations;
  private readonly writer: ObjectWriter;
  private readonly notifier: Notifier | undefined;
  private readonly log: LogFn;
  private readonly metrics: (line: string) => void;
  private readonly metricsNamespace: string;
  private readonly metricsService: string;
  /** Counters for tests and logs. */
  readonly counters = { notificationsSent: 0, notificationsFailed: 0, outputPagesWritten: 0 };

  constructor(deps: TextractDeliveriesDeps) {
    this.destinations = deps.destinations;
    this.writer = deps.writer;
    this.notifier = deps.notifier;
    this.log = deps.log ?? (() => undefined);
    this.metrics = deps.metrics ?? (() => undefined);
    this.metricsNamespace = deps.metricsNamespace;
    this.metricsService = deps.metricsService;
  }

  /**
   * At Start, before the job exists: the output location must take writes, so that a job whose
   * output cannot be stored is refused then (AccessDeniedException) rather than failing later.
   */
  async checkOutputAccess(jobId: string, options: TextractJobOptions): Promise<void> {
    if (!options.output) return;
    const key = outputKey(options.output, jobId, ACCESS_CHECK_OBJECT);
    const problem = this.writer.locationProblem(options.output.bucket, key);
    if (problem) throw invalidParameter(`OutputConfig: ${problem}`);
    try {
      await this.writer.putObject(options.output.bucket, key, new Uint8Array(0), 'application/octet-stream');
    } catch (err) {
      if (isAccessDenied(err)) {
        throw new TextractError('AccessDeniedException', `This service may not write to s3://${options.output.bucket}/${key} (${(err as Error).name}): its task role needs s3:PutObject there, and the bucket's KMS key if it has one.`);
      }
      if ((err as Error).name === 'NoSuchBucket') throw invalidParameter(`OutputConfig.S3Bucket '${options.output.bucket}' does not exist.`);
      throw err;
    }
  }

  /** OutputConfig: every page of the job's Get answer, before its status turns final. */
  async beforeComplete(item: DocumentItem, result: OcrResult): Promise<void> {
    const options = jobOptionsOf(item.textract_job);
    if (!options?.output) return;
    const pages = allAnswerPages(finishedAnswer(item.document_id, result, item), item.document_id);
    for (const [i, page] of pages.entries()) {
      await this.writer.putObject(options.output.bucket, outputKey(options.output, item.document_id, i + 1), JSON.stringify(page), 'application/json');
      this.counters.outputPagesWritten++;
    }
  }

  /** NotificationChannel: the completion message, once the status is final. Never throws. */
  async afterComplete(item: DocumentItem, result: OcrResult | undefined): Promise<void> {
    const options = jobOptionsOf(item.textract_job);
    if (!options?.snsTopicArn) return;
    const message = completionMessage(item, options, finishedAnswer(item.document_id, result, item).JobStatus, Date.now());
    try {
      if (!this.notifier) throw new Error('no SNS client: the service was started without allowed notification topics');
      await this.notifier.publish(options.snsTopicArn, JSON.stringify(message));
      this.counters.notificationsSent++;
      this.log('info', 'Textract completion published', { jobId: item.document_id, status: message.Status, topicArn: options.snsTopicArn });
    } catch (err) {
      this.counters.notificationsFailed++;
      this.log('error', 'Textract completion could not be published; the job is unchanged', {
        jobId: item.document_id, status: message.Status, topicArn: options.snsTopicArn, error: `${(err as Error).name}: ${(err as Error).message}`,
      });
      this.metrics(JSON.stringify({
        _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: this.metricsNamespace, Dimensions: [['Service']], Metrics: [{ Name: 'TextractNotificationsFailed', Unit: 'Count' }] }] },
        Service: this.metricsService,
        TextractNotificationsFailed: 1,
      }));
    }
  }
}
