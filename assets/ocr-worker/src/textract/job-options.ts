/**
 * What a StartDocumentTextDetection asks for besides the text: `JobTag`, `NotificationChannel` (an
 * Amazon SNS topic told when the job ends) and `OutputConfig` (an S3 bucket and prefix the result
 * pages are written to). They are checked when the job starts (a refusal starts nothing) and kept in
 * the job's status item, so that whichever task finishes the job honours them.
 *
 * Patterns and lengths are those of the Amazon Textract API reference (data types NotificationChannel
 * and OutputConfig, and StartDocumentTextDetection's JobTag).
 */
import { invalidParameter, TextractError } from './protocol.ts';

/** The options of one job, as the status item keeps them (attribute `textract_job`, JSON). */
export interface TextractJobOptions {
  api: 'StartDocumentTextDetection';
  jobTag?: string;
  /** NotificationChannel.SNSTopicArn; its RoleArn is checked and not kept (see parseNotificationChannel). */
  snsTopicArn?: string;
  /** OutputConfig: the pages go to `s3://bucket/{prefix}/{JobId}/1`, `/2`, ... */
  output?: { bucket: string; prefix: string };
}

/** Where the service may deliver: the topics and buckets its deployment allows. */
export interface JobDestinations {
  /** ARNs of the SNS topics the service may publish to (its task role's sns:Publish). */
  notificationTopics: readonly string[];
  /** Buckets OutputConfig may name besides the documents bucket (the task role's s3:PutObject on `bucket/*`). */
  outputBuckets: readonly string[];
  /** The service's documents bucket: its task role writes there only under the results prefix. */
  documentsBucket: string;
  resultsPrefix: string;
}

/** Textract's default OutputConfig.S3Prefix ("When not enabled, the prefix will be textract_output"). */
export const DEFAULT_OUTPUT_PREFIX = 'textract_output';

const JOB_TAG_PATTERN = /^[a-zA-Z0-9_.\-:]{1,1024}$/;
const SNS_TOPIC_ARN_PATTERN = /^arn:([a-z\d-]+):sns:[a-zA-Z\d-]{1,20}:\w{12}:.+$/;
const ROLE_ARN_PATTERN = /^arn:([a-z\d-]+):iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const S3_BUCKET_PATTERN = /^[0-9A-Za-z.\-_]{3,255}$/;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function stringIn(v: unknown, min: number, max: number): v is string {
  return typeof v === 'string' && v.length >= min && v.length <= max;
}

/**
 * NotificationChannel: the topic must be one the deployment allows. RoleArn names a role Amazon
 * Textract would assume to publish (it trusts textract.amazonaws.com, not this service): it is checked
 * for shape only, and the service publishes with its own task role.
 */
function parseNotificationChannel(v: unknown, destinations: JobDestinations): string {
  if (!isObject(v)) throw invalidParameter('NotificationChannel must be an object with SNSTopicArn and RoleArn.');
  const { SNSTopicArn, RoleArn } = v;
  if (!stringIn(SNSTopicArn, 20, 1024) || !SNS_TOPIC_ARN_PATTERN.test(SNSTopicArn)) {
    throw invalidParameter('NotificationChannel.SNSTopicArn must be an SNS topic ARN (arn:aws:sns:region:account:name).');
  }
  if (!stringIn(RoleArn, 20, 2048) || !ROLE_ARN_PATTERN.test(RoleArn)) {
    throw invalidParameter('NotificationChannel.RoleArn must be an IAM role ARN (arn:aws:iam::account:role/name).');
  }
  if (!destinations.notificationTopics.includes(SNSTopicArn)) {
    throw invalidParameter(destinations.notificationTopics.length === 0
      ? 'NotificationChannel is not available: this service is allowed to publish to no SNS topic.'
      : `NotificationChannel.SNSTopicArn '${SNSTopicArn}' is not a topic this service publishes to (allowed: ${destinations.notificationTopics.join(', ')}).`);
  }
  return SNSTopicArn;
}

/** The key prefix of a job's pages: S3Prefix without leading or trailing slashes. */
function trimmedPrefix(prefix: string): string {
  return prefix.replace(/^\/+|\/+$/g, '');
}

/**
 * OutputConfig: a bucket the deployment allows. In the documents bucket the service writes only under
 * its results prefix (its task role may write nowhere else there), so S3Prefix must begin with it.
 */
function parseOutputConfig(v: unknown, destinations: JobDestinations): { bucket: string; prefix: string } {
  if (!isObject(v)) throw invalidParameter('OutputConfig must be an object with S3Bucket and optionally S3Prefix.');
  const { S3Bucket, S3Prefix } = v;
  if (typeof S3Bucket !== 'string' || !S3_BUCKET_PATTERN.test(S3Bucket)) throw invalidParameter('OutputConfig.S3Bucket must be a bucket name (3-255 characters).');
  if (S3Prefix !== undefined && (!stringIn(S3Prefix, 1, 1024) || !/\S/.test(S3Prefix))) {
    throw invalidParameter('OutputConfig.S3Prefix must be 1-1024 characters, not only white space.');
  }
  const prefix = trimmedPrefix(S3Prefix ?? DEFAULT_OUTPUT_PREFIX);
  if (S3Bucket === destinations.documentsBucket) {
    if (!`${prefix}/`.startsWith(destinations.resultsPrefix)) {
      throw new TextractError('AccessDeniedException', `In the documents bucket '${S3Bucket}' this service writes only under '${destinations.resultsPrefix}': set OutputConfig.S3Prefix to begin with it, e.g. '${destinations.resultsPrefix}textract'.`);
    }
  } else if (!destinations.outputBuckets.includes(S3Bucket)) {
    throw new TextractError('AccessDeniedException', `OutputConfig.S3Bucket '${S3Bucket}' is not a bucket this service writes to (allowed: ${[destinations.documentsBucket, ...destinations.outputBuckets].join(', ')}).`);
  }
  return { bucket: S3Bucket, prefix };
}

/** The job options of a Start request; a TextractError names the field that cannot be honoured. */
export function parseJobOptions(body: Json, destinations: JobDestinations): TextractJobOptions {
  if (body.JobTag !== undefined && (typeof body.JobTag !== 'string' || !JOB_TAG_PATTERN.test(body.JobTag))) {
    throw invalidParameter('JobTag must be 1-1024 letters, digits, _ . - or :.');
  }
  if (body.KMSKeyId !== undefined) {
    throw invalidParameter('KMSKeyId is not supported by this service: output objects are encrypted with their bucket\'s default encryption.');
  }
  return {
    api: 'StartDocumentTextDetection',
    ...(body.JobTag !== undefined ? { jobTag: body.JobTag as string } : {}),
    ...(body.NotificationChannel !== undefined ? { snsTopicArn: parseNotificationChannel(body.NotificationChannel, destinations) } : {}),
    ...(body.OutputConfig !== undefined ? { output: parseOutputConfig(body.OutputConfig, destinations) } : {}),
  };
}

/** Whether a job asks for anything to happen when it ends. */
export function hasDeliveries(options: TextractJobOptions): boolean {
  return options.snsTopicArn !== undefined || options.output !== undefined;
}

/** The key of page `n` (from 1) of a job's output: `{prefix}/{JobId}/{n}`, the layout Textract writes. */
export function outputKey(output: { prefix: string }, jobId: string, page: number | string): string {
  return output.prefix ? `${output.prefix}/${jobId}/${page}` : `${jobId}/${page}`;
}

/** The options kept in a status item, or undefined for a document that is no Textract job (or an unreadable value). */
export function jobOptionsOf(stored: string | undefined): TextractJobOptions | undefined {
  if (!stored) return undefined;
  try {
    const parsed = JSON.parse(stored) as TextractJobOptions;
    return parsed?.api === 'StartDocumentTextDetection' ? parsed : undefined;
  } catch {
    return undefined;
  }
}
