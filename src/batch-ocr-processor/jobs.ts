/**
 * Handler logic of BatchOcrProcessor, as plain functions over their AWS clients (the `*.lambda.ts`
 * files wire real clients; the tests pass aws-sdk-client-mock clients).
 *
 * The job record in DynamoDB is the source of truth for a job's state: Batch forgets jobs after
 * about 7 days, and a Batch SUCCEEDED job can hold FAILED documents (a bad document is a result,
 * not a crash), so status comes from our record and the worker's summary objects.
 */
import { randomUUID } from 'crypto';
import { BatchClient, DescribeJobsCommand, JobSummary, ListJobsCommand, SubmitJobCommand, SubmitJobCommandInput } from '@aws-sdk/client-batch';
import { EventBridgeClient, PutEventsCommand, PutEventsCommandInput } from '@aws-sdk/client-eventbridge';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DEFAULT_MAX_DOCUMENTS_PER_CHILD, DEFAULT_TARGET_BYTES_PER_CHILD, JobPlan, planJob } from './packing';
import { CallerAuth, GATHER_MAX_RECEIVE_COUNT, LIMITS, OcrRequestOptions, OutputFormat, RequestError, SubmitRequest } from './request';
import { deliverTextractResult, DeliveryLog, TextractDelivery } from './textract-delivery';
import { WorkerBatchEnvironment, workerManifestKey, workerSummariesPrefix, workerSummaryKey } from '../common/worker-contract';


/** Everything the handlers read from their environment. */
export interface ProcessorConfig {
  readonly inputBucket: string;
  readonly outputBucket: string;
  /** Worker output prefix, ending with '/'. */
  readonly outputPrefix: string;
  readonly jobTable: string;
  readonly jobQueue: string;
  /** Job definition NAME (no revision): Batch runs its latest ACTIVE revision. */
  readonly jobDefinitionName: string;
  readonly maxDocuments: number;
  /** Bytes of input an array child takes before the next child starts (see packDocuments). */
  readonly targetBytesPerChild: number;
  /** Most documents per array child. */
  readonly maxDocumentsPerChild: number;
  /** Largest input object accepted, bytes (0 = no limit). */
  readonly maxDocumentBytes: number;
  readonly defaultOptions: OcrRequestOptions;
  /** The options of jobs submitted by the S3 trigger: the defaults with `s3Trigger`'s outputs and geometry. */
  readonly ingestOptions: OcrRequestOptions;
  /** The languages the worker image has data for, when known (the bundled image); else any is passed on. */
  readonly availableLanguages?: string[];
  /** Days the job record lives (matches the result expiry); 0 = forever. */
  readonly recordTtlDays: number;
  readonly presignSeconds: number;
  readonly eventSource: string;
  readonly eventBusName: string;
  readonly uploadPrefix: string;
  /** How API callers authenticate, which decides where their id comes from. @default 'IAM' */
  readonly callerAuth?: CallerAuth;
  /** Prefixes of the input bucket every API caller may name ('' = the whole bucket). @default - only the caller's own uploads */
  readonly allowedInputPrefixes?: string[];
  /** Each caller may only name keys under `<prefix><caller-id>/` of `allowedInputPrefixes`. */
  readonly callerScopedInput?: boolean;
  /** Origins whose browsers may read the API's responses (CORS). @default - none */
  readonly corsAllowOrigins?: string[];
  /** The queue single-document requests are gathered in; unset: every request is a job of its own. */
  readonly gatherQueueUrl?: string;
  /** Receives of a gathered request before the queue moves it to its dead-letter queue. */
  readonly gatherMaxReceiveCount: number;
  /** The SNS topics (ARNs) a Textract Start may name in NotificationChannel. @default - none */
  readonly textractNotificationTopics?: string[];
  /** Buckets besides the output bucket a Textract Start may name in OutputConfig. @default - none */
  readonly textractOutputBuckets?: string[];
}

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ProcessorConfig {
  const need = (name: string): string => {
    const v = env[name];
    if (!v) throw new Error(`Environment variable ${name} is not set`);
    return v;
  };
  const num = (name: string, fallback: number): number => (env[name] ? Number(env[name]) : fallback);
  const defaultOptions: OcrRequestOptions = {
    languages: (env.OCR_LANGUAGES ?? 'eng').split('+').filter((l) => l.length > 0),
    dpi: num(WorkerBatchEnvironment.DPI, 300),
    maxPages: env.OCR_MAX_PAGES ? Number(env.OCR_MAX_PAGES) : undefined,
  };
  return {
    inputBucket: need(WorkerBatchEnvironment.INPUT_BUCKET),
    outputBucket: need(WorkerBatchEnvironment.OUTPUT_BUCKET),
    outputPrefix: env.OCR_OUTPUT_PREFIX ?? 'results/',
    jobTable: need('JOB_TABLE_NAME'),
    jobQueue: env.JOB_QUEUE ?? '',
    jobDefinitionName: env.JOB_DEFINITION_NAME ?? '',
    maxDocuments: num('MAX_DOCUMENTS_PER_JOB', LIMITS.maxArrayChildren),
    targetBytesPerChild: num('TARGET_BYTES_PER_CHILD', DEFAULT_TARGET_BYTES_PER_CHILD),
    maxDocumentsPerChild: num('MAX_DOCUMENTS_PER_CHILD', DEFAULT_MAX_DOCUMENTS_PER_CHILD),
    maxDocumentBytes: num(WorkerBatchEnvironment.MAX_DOCUMENT_BYTES, 0),
    availableLanguages: env.OCR_AVAILABLE_LANGUAGES ? env.OCR_AVAILABLE_LANGUAGES.split('+').filter((l) => l.length > 0) : undefined,
    defaultOptions,
    ingestOptions: {
      ...defaultOptions,
      ...(env.INGEST_OUTPUTS ? { outputs: JSON.parse(env.INGEST_OUTPUTS) as OutputFormat[] } : {}),
      ...(env.INGEST_GEOMETRY ? { geometry: env.INGEST_GEOMETRY === 'true' } : {}),
    },
    recordTtlDays: num('RECORD_TTL_DAYS', 0),
    presignSeconds: num('PRESIGN_SECONDS', 900),
    eventSource: env.EVENT_SOURCE ?? 'cdk-ocr-constructs',
    eventBusName: env.EVENT_BUS_NAME ?? 'default',
    uploadPrefix: env.UPLOAD_PREFIX ?? 'uploads/',
    callerAuth: env.API_AUTHORIZATION === 'COGNITO' ? 'COGNITO' : 'IAM',
    allowedInputPrefixes: env.ALLOWED_INPUT_PREFIXES ? JSON.parse(env.ALLOWED_INPUT_PREFIXES) as string[] : [],
    callerScopedInput: env.CALLER_SCOPED_INPUT === 'true',
    corsAllowOrigins: env.CORS_ALLOW_ORIGINS ? JSON.parse(env.CORS_ALLOW_ORIGINS) as string[] : undefined,
    gatherQueueUrl: env.GATHER_QUEUE_URL || undefined,
    gatherMaxReceiveCount: num('GATHER_MAX_RECEIVE_COUNT', GATHER_MAX_RECEIVE_COUNT),
    textractNotificationTopics: env.TEXTRACT_NOTIFICATION_TOPICS ? JSON.parse(env.TEXTRACT_NOTIFICATION_TOPICS) as string[] : [],
    textractOutputBuckets: env.TEXTRACT_OUTPUT_BUCKETS ? JSON.parse(env.TEXTRACT_OUTPUT_BUCKETS) as string[] : [],
  };
}

export interface Clients {
  readonly s3: S3Client;
  readonly batch: BatchClient;
  readonly ddb: DynamoDBDocumentClient;
  readonly events: EventBridgeClient;
  /** Only the handlers that queue documents for gathering have one. */
  readonly sqs?: SQSClient;
  /** The job state handler's, for Textract's completion messages. */
  readonly sns?: SNSClient;
}

/**
 * Job states of our record. GATHERING: a single-document request waiting for its gathered job.
 * SUBMIT_FAILED: SubmitJob reported a failure; the others mirror Batch (for an array job, its
 * children: see recordStateChange).
 */
export type JobState = 'GATHERING' | 'SUBMITTING' | 'SUBMIT_FAILED' | 'SUBMITTED' | 'PENDING' | 'RUNNABLE' | 'STARTING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';
/** Batch's final states. */
const FINAL: readonly string[] = ['SUCCEEDED', 'FAILED'];
/** The states a job moves through before a final one, in order. */
const ORDER: readonly string[] = ['SUBMITTING', 'SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'];
/**
 * Besides the states before its own, the one a Batch event may move a record out of: an event for
 * the job proves that Batch accepted a SubmitJob that reported a failure (a timeout after Batch had
 * created the job).
 */
const REPAIRABLE = 'SUBMIT_FAILED';

/** Per-state counts of an array job's children, as Batch reports them (DescribeJobs' arrayProperties.statusSummary). */
export interface ChildStates { [state: string]: number }

/** Where a job came from: the API, the S3 trigger, or the gathering of single-document requests. */
export type JobSource = 'api' | 's3' | 'gathered';

/** A request whose document a gathered job holds. */
export interface GatheredRequest {
  readonly jobId: string;
  readonly documentIndex: number;
  /** The request has a Textract completion to deliver (its record's `textract`). */
  readonly deliver?: boolean;
}

export interface JobRecord {
  readonly jobId: string;
  readonly jobName: string;
  readonly state: JobState;
  readonly documentCount: number;
  /** Array children (1 for a plain job). */
  readonly children: number;
  readonly source: JobSource;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly batchJobId?: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly statusReason?: string;
  readonly manifestKey?: string;
  readonly inputKey?: string;
  readonly expiresAt?: number;
  /** Document outcomes, added up by the state handler when the job finished. */
  readonly counts?: JobCounts;
  /** Array jobs: how many children are in each Batch state, as of `childStatesAt`. */
  readonly childStates?: ChildStates;
  readonly childStatesAt?: string;
  /** Who submitted the job: the API caller's id, or SYSTEM_OWNER for the S3 trigger. Only the owner reads it through the API. */
  readonly owner?: string;
  /** A gathered job: the requests whose documents it holds, each told when it finishes. */
  readonly gatheredRequests?: GatheredRequest[];
  /** A gathered request: the job its document was submitted in, the document's index in that job and the child that reads it. */
  readonly gatheredInto?: string;
  readonly documentIndex?: number;
  readonly childIndex?: number;
  /** A Textract Start: its JobTag, NotificationChannel and OutputConfig, delivered when the document is done. */
  readonly textract?: TextractDelivery;
  /** When that delivery went out: its pages written and its message published. */
  readonly textractDeliveredAt?: string;
  /**
   * Set with the final state, in the same conditional write: the job's completion deliveries (its
   * event, its gathered requests' events and Textract completions) are still owed. Removed once all
   * went out; each one that went out is marked on its own (completionEventAt, announcedAt,
   * textractDeliveredAt), so a retry redoes only the others.
   */
  readonly deliveriesPending?: boolean;
  /** When the job's own `OCR Job Completed` event was put on the bus. */
  readonly completionEventAt?: string;
  /** A gathered request: when its `OCR Job Completed` event was put on the bus. */
  readonly announcedAt?: string;
}

/** What the API returns for a submitted job (what a client needs next). */
export interface SubmitResult {
  readonly success: true;
  readonly message: string;
  readonly jobId: string;
  readonly jobName: string;
  readonly documentCount: number;
  readonly arraySize: number;
  readonly statusUrl: string;
  readonly timestamp: string;
}

/** Bounded parallelism for S3 checks: fast for large lists without tripping S3's request rates. */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

function commonPrefix(keys: string[]): string {
  let prefix = keys[0];
  for (const k of keys) {
    while (!k.startsWith(prefix)) prefix = prefix.slice(0, -1);
    if (prefix.length === 0) break;
  }
  return prefix;
}

/** Lists above this size are checked with ListObjectsV2 over their common prefix instead of one HEAD per key. */
export const HEAD_CHECK_LIMIT = 100;
/** Most ListObjectsV2 pages read for an existence check (1,000 keys per page). */
export const MAX_LIST_PAGES = 200;

/**
 * Check that every key exists in the input bucket (and is not too large) before anything is
 * submitted, and return their sizes in bytes, in order (what the documents are packed into array
 * children by). Short lists: one HeadObject per key. Long lists: list the keys' common prefix.
 */
export async function checkDocumentsExist(s3: S3Client, config: ProcessorConfig, documents: string[]): Promise<number[]> {
  const problems: string[] = [];
  const sizes: number[] = new Array(documents.length).fill(config.targetBytesPerChild);
  const checkSize = (key: string, size: number | undefined, index: number): void => {
    if (size !== undefined) sizes[index] = size;
    if (config.maxDocumentBytes > 0 && size !== undefined && size > config.maxDocumentBytes) {
      problems.push(`'${key}' is ${size} bytes; the limit is ${config.maxDocumentBytes}`);
    }
    if (size === 0) problems.push(`'${key}' is empty`);
  };
  const missing: string[] = [];
  let listed: Map<string, number> | undefined;
  if (documents.length > HEAD_CHECK_LIMIT) {
    listed = new Map();
    const prefix = commonPrefix(documents);
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: config.inputBucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) if (o.Key) listed.set(o.Key, o.Size ?? 0);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      pages++;
    } while (token && pages < MAX_LIST_PAGES);
    if (token) listed = undefined; // the prefix holds too much to list: fall back to HEAD requests
  }
  if (listed) {
    documents.forEach((key, i) => {
      if (!listed!.has(key)) missing.push(key);
      else checkSize(key, listed!.get(key), i);
    });
  } else {
    await mapLimit(documents, 16, async (key, i) => {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: config.inputBucket, Key: key }));
        checkSize(key, head.ContentLength, i);
      } catch (error) {
        if (isNotFound(error)) missing.push(key);
        else throw error;
      }
    });
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).map((k) => `'${k}'`).join(', ');
    throw new RequestError(400, 'DOCUMENT_NOT_FOUND', `${missing.length} document(s) not found in the input bucket: ${shown}${missing.length > 5 ? ', ...' : ''}`);
  }
  if (problems.length > 0) {
    throw new RequestError(400, 'DOCUMENT_REJECTED', `${problems.length} document(s) rejected: ${problems.slice(0, 5).join('; ')}`);
  }
  return sizes;
}

/**
 * The Batch job for these documents: packed into array children by their sizes. A size that is not
 * known counts as the whole target, so that document gets a child of its own.
 */
export function planFor(config: Pick<ProcessorConfig, 'targetBytesPerChild' | 'maxDocumentsPerChild'>, documentCount: number, sizes?: readonly (number | undefined)[]): JobPlan {
  const known = Array.from({ length: documentCount }, (_, i) => sizes?.[i] ?? config.targetBytesPerChild);
  return planJob(known, { targetBytesPerChild: config.targetBytesPerChild, maxDocumentsPerChild: config.maxDocumentsPerChild });
}

export function jobNameOf(jobId: string): string {
  return `ocr-${jobId}`;
}

function ttl(config: ProcessorConfig, now: Date): number | undefined {
  return config.recordTtlDays > 0 ? Math.floor(now.getTime() / 1000) + config.recordTtlDays * 86400 : undefined;
}

function isThrottling(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'TooManyRequestsException' || e?.name === 'ThrottlingException' || e?.$metadata?.httpStatusCode === 429;
}

/** How submitJob is called: where the job comes from, and what is known of its documents. */
export interface SubmitOptions {
  readonly source: JobSource;
  readonly statusBaseUrl?: string;
  readonly now?: Date;
  readonly jobId?: string;
  readonly owner?: string;
  /** The documents' sizes in bytes, in order (from checkDocumentsExist or the S3 events); unknown ones get a child each. */
  readonly sizes?: readonly (number | undefined)[];
  /** A Textract Start's completion options, kept on the job record. */
  readonly textract?: TextractDelivery;
}

/**
 * Submit one OCR job for validated documents: pack them into array children by their sizes, write
 * the manifest (lists travel in S3, not in the SubmitJob payload, which is capped at 30 KiB), create
 * the job record, then SubmitJob by job definition NAME so the newest ACTIVE revision runs.
 */
export async function submitJob(clients: Clients, config: ProcessorConfig, request: SubmitRequest, options: SubmitOptions): Promise<SubmitResult> {
  const now = options.now ?? new Date();
  const jobId = options.jobId ?? randomUUID();
  const jobName = jobNameOf(jobId);
  const shape = planFor(config, request.documents.length, options.sizes);
  const arraySize = shape.kind === 'array' ? shape.shares.length : 0;
  const env: { name: string; value: string }[] = [{ name: WorkerBatchEnvironment.JOB_ID, value: jobId }];
  let manifestKey: string | undefined;
  let inputKey: string | undefined;
  // A password never goes into SubmitJob (DescribeJobs would show it): it travels in the manifest.
  // So do `outputs` and `geometry`, which the worker reads from the manifest only.
  if (shape.kind === 'single' && request.options.password === undefined && request.options.outputs === undefined && request.options.geometry === undefined) {
    inputKey = request.documents[0];
    env.push({ name: WorkerBatchEnvironment.INPUT_KEY, value: inputKey });
    const o = request.options;
    if (o.languages) env.push({ name: WorkerBatchEnvironment.LANGUAGES, value: o.languages.join('+') });
    if (o.dpi !== undefined) env.push({ name: WorkerBatchEnvironment.DPI, value: String(o.dpi) });
    if (o.maxPages !== undefined) env.push({ name: WorkerBatchEnvironment.MAX_PAGES, value: String(o.maxPages) });
  } else {
    manifestKey = workerManifestKey(config.outputPrefix, jobId);
    const manifest = {
      schemaVersion: 1,
      jobId,
      documents: request.documents.map((key) => ({ key })),
      // Child i of an array job processes documents [first, first + count) of children[i].
      children: shape.shares,
      // The worker's manifest options: languages as tesseract's 'eng+deu' string.
      options: {
        languages: (request.options.languages ?? ['eng']).join('+'),
        dpi: request.options.dpi ?? 300,
        maxPages: request.options.maxPages ?? null,
        password: request.options.password ?? null,
        ...(request.options.outputs ? { outputs: request.options.outputs } : {}),
        ...(request.options.geometry !== undefined ? { geometry: request.options.geometry } : {}),
      },
    };
    await clients.s3.send(new PutObjectCommand({
      Bucket: config.outputBucket,
      Key: manifestKey,
      Body: JSON.stringify(manifest),
      ContentType: 'application/json',
    }));
    env.push({ name: WorkerBatchEnvironment.MANIFEST_KEY, value: manifestKey });
  }

  const record: JobRecord = {
    jobId,
    jobName,
    state: 'SUBMITTING',
    documentCount: request.documents.length,
    children: shape.shares.length,
    source: options.source,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    manifestKey,
    inputKey,
    expiresAt: ttl(config, now),
    owner: options.owner,
    ...(options.textract ? { textract: options.textract } : {}),
  };
  // A new job id, or a retry of a submission that reported a failure or never finished (a handler that
  // timed out leaves SUBMITTING): S3 redeliveries and Idempotency-Key retries reuse their id, and only
  // one of them runs at a time (SQS visibility, the idempotency record), so the lookup below decides.
  const previous = await clients.ddb.send(new PutCommand({
    TableName: config.jobTable,
    Item: record,
    ConditionExpression: 'attribute_not_exists(jobId) OR #state IN (:submitFailed, :submitting)',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: { ':submitFailed': 'SUBMIT_FAILED', ':submitting': 'SUBMITTING' },
    ReturnValues: 'ALL_OLD',
  }));
  const resubmission = previous.Attributes !== undefined;

  const input: SubmitJobCommandInput = {
    jobName,
    jobQueue: config.jobQueue,
    jobDefinition: config.jobDefinitionName,
    containerOverrides: { environment: env },
    ...(arraySize > 0 ? { arrayProperties: { size: arraySize } } : {}),
  };
  let found: JobSummary | undefined;
  let batchJobId: string | undefined;
  try {
    // SubmitJob has no idempotency token, and one that timed out may still have created the job:
    // before submitting this job id again, look for the job by its name (unique per job id). The
    // clients make one attempt of SubmitJob (no SDK retries), so one call starts at most one job.
    if (resubmission) found = await findJobByName(clients.batch, config.jobQueue, jobName);
    batchJobId = found?.jobId ?? (await clients.batch.send(new SubmitJobCommand(input))).jobId;
  } catch (error) {
    const reason = (error as Error).message ?? String(error);
    // A state the state handler recorded meanwhile (Batch created the job after all) is kept.
    await transitionJob(clients, config, jobId, { from: 'SUBMITTING', to: 'SUBMIT_FAILED', set: { statusReason: reason.slice(0, 500) } });
    if (isThrottling(error)) throw new RequestError(503, 'THROTTLED', 'AWS Batch is throttling job submissions; retry later with the same Idempotency-Key');
    throw error;
  }
  // The state-change handler may already have recorded a later state: it is kept.
  await transitionJob(clients, config, jobId, { from: 'SUBMITTING', to: 'SUBMITTED', set: { batchJobId } });
  // A job found by name may be further on, or finished, with none of its events recorded (they came
  // while the record said SUBMIT_FAILED and failed): record where it is now, as its event would.
  if (found) {
    const { status, statusReason, startedAt, stoppedAt, arrayProperties } = found;
    await recordStateChange(clients, config, { jobId: batchJobId!, jobName, status: status!, statusReason, startedAt, stoppedAt, arrayProperties });
  }
  return {
    success: true,
    message: `OCR job submitted for ${request.documents.length} document(s)`,
    jobId,
    jobName,
    documentCount: request.documents.length,
    arraySize,
    statusUrl: `${options.statusBaseUrl ?? ''}/jobs/${jobId}`,
    timestamp: now.toISOString(),
  };
}

/** A move of a job record from one state to another, with the attributes that come with it. */
export interface JobTransition {
  readonly from: JobState;
  readonly to: JobState;
  /** Attributes set with the new state (top-level names); `updatedAt` is always set. */
  readonly set?: { readonly [attribute: string]: unknown };
}

/**
 * Move a job record from `from` to `to` (and set `set`), only if it is still in `from`: true when it
 * moved; false, with nothing written, when another writer moved it first (its state stands) or the
 * record is gone. Every writer of a state change that must not overwrite another's goes through here.
 */
export async function transitionJob(
  clients: Pick<Clients, 'ddb'>, config: Pick<ProcessorConfig, 'jobTable'>, jobId: string, transition: JobTransition,
): Promise<boolean> {
  const names: { [placeholder: string]: string } = { '#state': 'state' };
  const values: { [placeholder: string]: unknown } = { ':from': transition.from, ':to': transition.to, ':now': new Date().toISOString() };
  const assignments = ['#state = :to', 'updatedAt = :now'];
  for (const [attribute, value] of Object.entries(transition.set ?? {})) {
    if (!/^[A-Za-z][A-Za-z0-9]*$/.test(attribute) || attribute === 'state' || attribute === 'updatedAt') {
      throw new Error(`transitionJob: '${attribute}' is not an attribute a transition sets`);
    }
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    assignments.push(`#${attribute} = :${attribute}`);
  }
  try {
    await clients.ddb.send(new UpdateCommand({
      TableName: config.jobTable,
      Key: { jobId },
      UpdateExpression: `SET ${assignments.join(', ')}`,
      ConditionExpression: '#state = :from',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }));
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/**
 * The job of this queue with exactly this name, if Batch still has one. With a
 * JOB_NAME filter, ListJobs returns jobs in every state, newest first; the match is case-insensitive,
 * hence the exact comparison (AWS Batch API Reference, ListJobs).
 */
async function findJobByName(batch: BatchClient, jobQueue: string, jobName: string): Promise<JobSummary | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new ListJobsCommand({ jobQueue, filters: [{ name: 'JOB_NAME', values: [jobName] }], nextToken }));
    const match = (page.jobSummaryList ?? []).find((job) => job.jobName === jobName && job.jobId && job.status);
    if (match) return match;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}

/** Per-document outcome as the worker's summary objects report it. */
export interface DocumentOutcome {
  readonly index: number;
  readonly key: string;
  readonly status: string;
  readonly errorCode?: string | null;
  readonly resultUrl?: string;
  readonly textUrl?: string;
  /** The searchable PDF, hOCR and Textract response asked for with `options.outputs`, where written (pre-signed like resultUrl). */
  readonly outputUrls?: { readonly pdf?: string; readonly hocr?: string; readonly textract?: string };
  /** The error code of each output asked for and not written (an encrypted PDF's searchable copy is OUTPUT_REFUSED); the result's `outputs` say why. */
  readonly outputErrors?: { readonly pdf?: string; readonly hocr?: string };
  readonly pageCount?: number;
}

export interface JobStatus {
  readonly jobId: string;
  readonly jobName: string;
  readonly state: string;
  readonly statusReason?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly startedAt?: string;
  readonly stoppedAt?: string;
  readonly documentCount: number;
  readonly counts: { succeeded: number; failed: number; pending: number; byErrorCode: { [code: string]: number } };
  /** False when a running job has more summaries than one request reads. */
  readonly countsComplete: boolean;
  readonly documents: DocumentOutcome[];
  readonly documentsTruncated: boolean;
  readonly summariesRead: number;
  readonly resultsAvailable: boolean;
  /** Array jobs: how many children are in each Batch state (SUBMITTED … SUCCEEDED, FAILED), as of `childStatesAt`. */
  readonly childStates?: ChildStates;
  readonly childStatesAt?: string;
}

interface WorkerSummary {
  documents?: {
    index: number;
    key: string;
    status: string;
    errorCode?: string | null;
    resultKey?: string;
    textKey?: string;
    pageCount?: number;
    outputKeys?: { pdf?: string; hocr?: string; textract?: string };
    outputErrors?: { pdf?: string; hocr?: string };
  }[];
  counts?: { succeeded?: number; failed?: number; byErrorCode?: { [code: string]: number } };
}

/** Documents listed with pre-signed URLs per GET; counts always cover the whole job. */
export const MAX_DOCUMENTS_LISTED = 100;

/**
 * `GET /jobs/{jobId}`: the job record plus the worker's summary objects. Read-only: no Batch
 * call, no writes.
 */
/** Aggregated document outcomes of a job. */
export interface JobCounts {
  succeeded: number;
  failed: number;
  byErrorCode: { [code: string]: number };
}

interface Aggregate {
  readonly counts: JobCounts;
  readonly summariesRead: number;
  readonly summariesFound: number;
  /** Summaries in arrayIndex order (only the ones read). */
  readonly summaries: WorkerSummary[];
}

/** Summaries read live per GET for a job that has not finished (each is one S3 GET). */
export const MAX_SUMMARIES_PER_REQUEST = 500;

/** The keys of a job's summary objects, in arrayIndex order (paginated listing). */
async function summaryKeysOf(s3: S3Client, config: ProcessorConfig, jobId: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({
      Bucket: config.outputBucket, Prefix: workerSummariesPrefix(config.outputPrefix, jobId), ContinuationToken: token,
    }));
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

async function readSummary(s3: S3Client, config: ProcessorConfig, key: string): Promise<WorkerSummary> {
  const obj = await s3.send(new GetObjectCommand({ Bucket: config.outputBucket, Key: key }));
  return JSON.parse(await obj.Body!.transformToString()) as WorkerSummary;
}

/** Add up the worker's summaries (at most `limit` of them, in arrayIndex order). */
export async function aggregateSummaries(s3: S3Client, config: ProcessorConfig, jobId: string, limit = Number.MAX_SAFE_INTEGER): Promise<Aggregate> {
  const keys = await summaryKeysOf(s3, config, jobId);
  const summaries = await mapLimit(keys.slice(0, limit), 32, (key) => readSummary(s3, config, key));
  const counts: JobCounts = { succeeded: 0, failed: 0, byErrorCode: {} };
  for (const summary of summaries) {
    counts.succeeded += summary.counts?.succeeded ?? 0;
    counts.failed += summary.counts?.failed ?? 0;
    for (const [code, n] of Object.entries(summary.counts?.byErrorCode ?? {})) {
      counts.byErrorCode[code] = (counts.byErrorCode[code] ?? 0) + n;
    }
  }
  return { counts, summariesRead: summaries.length, summariesFound: keys.length, summaries };
}

/**
 * `GET /jobs/{jobId}`: the job record plus the worker's summary objects. Read-only: no Batch call,
 * no writes. A finished job's counts were added up once by the state handler and stored in the
 * record, so a 10,000-child job costs a handful of S3 reads here; a running job is added up live
 * from at most MAX_SUMMARIES_PER_REQUEST summaries (`countsComplete` says whether that was all).
 */
export async function getJobStatus(clients: Pick<Clients, 's3' | 'ddb'>, config: ProcessorConfig, jobId: string, options: { owner?: string } = {}): Promise<JobStatus | undefined> {
  const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId }, ConsistentRead: true }));
  const record = got.Item as JobRecord | undefined;
  if (!record) return undefined;
  // Another caller's job is "not found", like a job that does not exist: its existence is not revealed.
  if (options.owner !== undefined && record.owner !== options.owner) return undefined;
  if (record.gatheredInto !== undefined) return gatheredStatus(clients, config, record);

  let counts: JobCounts;
  let summaries: WorkerSummary[];
  let summariesRead: number;
  let countsComplete: boolean;
  if (record.counts) {
    counts = record.counts;
    countsComplete = true;
    // Only the first summaries are needed for the document list.
    const keys = await summaryKeysOf(clients.s3, config, jobId);
    summaries = [];
    for (const key of keys) {
      if (summaries.reduce((n, x) => n + (x.documents?.length ?? 0), 0) >= MAX_DOCUMENTS_LISTED) break;
      summaries.push(await readSummary(clients.s3, config, key));
    }
    summariesRead = keys.length;
  } else {
    const aggregate = await aggregateSummaries(clients.s3, config, jobId, MAX_SUMMARIES_PER_REQUEST);
    counts = aggregate.counts;
    summaries = aggregate.summaries;
    summariesRead = aggregate.summariesRead;
    countsComplete = aggregate.summariesRead === aggregate.summariesFound;
  }

  const documents: DocumentOutcome[] = [];
  for (const summary of summaries) {
    for (const d of summary.documents ?? []) {
      if (documents.length >= MAX_DOCUMENTS_LISTED) break;
      documents.push({
        index: d.index,
        key: d.key,
        status: d.status,
        errorCode: d.errorCode ?? null,
        pageCount: d.pageCount,
        resultUrl: d.resultKey ? await presign(clients.s3, config, d.resultKey) : undefined,
        textUrl: d.textKey ? await presign(clients.s3, config, d.textKey) : undefined,
        outputUrls: d.outputKeys ? Object.fromEntries(await Promise.all(Object.entries(d.outputKeys)
          .filter(([format, key]) => (format === 'pdf' || format === 'hocr' || format === 'textract') && typeof key === 'string')
          .map(async ([format, key]) => [format, await presign(clients.s3, config, key!)]))) : undefined,
        outputErrors: d.outputErrors ? Object.fromEntries(Object.entries(d.outputErrors)
          .filter(([format, code]) => (format === 'pdf' || format === 'hocr') && typeof code === 'string')) : undefined,
      });
    }
  }
  documents.sort((a, b) => a.index - b.index);
  const done = counts.succeeded + counts.failed;
  return {
    jobId: record.jobId,
    jobName: record.jobName,
    state: record.state,
    statusReason: record.statusReason,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    startedAt: record.startedAt,
    stoppedAt: record.stoppedAt,
    documentCount: record.documentCount,
    counts: { ...counts, pending: Math.max(0, record.documentCount - done) },
    countsComplete,
    documents,
    documentsTruncated: done > documents.length,
    summariesRead,
    resultsAvailable: summariesRead > 0,
    childStates: record.childStates,
    childStatesAt: record.childStatesAt,
  };
}

/**
 * A gathered request's status: the state of the job it was submitted in, and its own document's
 * outcome from the summary of the child that read it. Nothing of the other requests in that job
 * (their keys, outcomes or child states) is shown.
 */
async function gatheredStatus(clients: Pick<Clients, 's3' | 'ddb'>, config: ProcessorConfig, record: JobRecord): Promise<JobStatus> {
  const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId: record.gatheredInto }, ConsistentRead: true }));
  const shared = got.Item as JobRecord | undefined;
  let summary: WorkerSummary | undefined;
  try {
    summary = await readSummary(clients.s3, config, workerSummaryKey(config.outputPrefix, record.gatheredInto!, record.childIndex ?? 0));
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const d = summary?.documents?.find((x) => x.index === record.documentIndex);
  const documents: DocumentOutcome[] = d ? [{
    index: 0,
    key: record.inputKey ?? d.key,
    status: d.status,
    errorCode: d.errorCode ?? null,
    pageCount: d.pageCount,
    resultUrl: d.resultKey ? await presign(clients.s3, config, d.resultKey) : undefined,
    textUrl: d.textKey ? await presign(clients.s3, config, d.textKey) : undefined,
  }] : [];
  const counts = { succeeded: d?.status === 'SUCCEEDED' ? 1 : 0, failed: d && d.status !== 'SUCCEEDED' ? 1 : 0, pending: d ? 0 : 1, byErrorCode: {} as { [code: string]: number } };
  if (d && d.status !== 'SUCCEEDED') counts.byErrorCode[d.errorCode ?? 'INTERNAL_ERROR'] = 1;
  // Once its document has a result, the request is done, whatever the rest of the job is doing.
  const state = d ? 'SUCCEEDED' : shared?.state ?? record.state;
  return {
    jobId: record.jobId,
    jobName: record.jobName,
    state,
    statusReason: d ? undefined : shared?.statusReason,
    createdAt: record.createdAt,
    updatedAt: shared && shared.updatedAt > record.updatedAt ? shared.updatedAt : record.updatedAt,
    startedAt: shared?.startedAt,
    stoppedAt: d ? shared?.stoppedAt : undefined,
    documentCount: 1,
    counts,
    countsComplete: true,
    documents,
    documentsTruncated: false,
    summariesRead: summary ? 1 : 0,
    resultsAvailable: d !== undefined,
  };
}

async function presign(s3: S3Client, config: ProcessorConfig, key: string): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: config.outputBucket, Key: key }), { expiresIn: config.presignSeconds });
}

/** `POST /uploads`: a pre-signed PUT URL for one object under the upload prefix of the input bucket. */
export interface UploadUrl {
  readonly uploadUrl: string;
  readonly key: string;
  readonly method: string;
  readonly contentType: string;
  readonly expiresIn: number;
}

/** A pre-signed PUT URL for `<folder><key>` (the API passes the caller's own upload folder). */
export async function createUploadUrl(
  s3: S3Client, config: ProcessorConfig, key: string, contentType: string, folder = config.uploadPrefix,
): Promise<UploadUrl> {
  const fullKey = `${folder}${key}`;
  const put = new PutObjectCommand({ Bucket: config.inputBucket, Key: fullKey, ContentType: contentType });
  const uploadUrl = await getSignedUrl(s3, put, { expiresIn: config.presignSeconds });
  return { uploadUrl, key: fullKey, method: 'PUT', contentType, expiresIn: config.presignSeconds };
}

/**
 * The part of an EventBridge "Batch Job State Change" event the state handler reads: the detail is
 * the job's DescribeJobs JobDetail (AWS Batch User Guide, "Job state change events"). Batch sends it
 * for an array parent (arrayProperties.size, statusSummary) and for each child (arrayProperties.index;
 * jobId `<parent id>:<index>`, the parent's job name).
 */
export interface BatchJobStateChange {
  readonly jobId: string;
  readonly jobName: string;
  readonly status: string;
  readonly statusReason?: string;
  readonly startedAt?: number;
  readonly stoppedAt?: number;
  readonly arrayProperties?: { index?: number; size?: number; statusSummary?: ChildStates };
}

/**
 * What the state handler did with an event: moved the record, refreshed an array job's progress,
 * finished the completion deliveries a final state still owed (a retried or repeated event), or nothing.
 */
export type StateChangeOutcome = 'updated' | 'progress' | 'delivered' | 'ignored';

/** An array job's child states are read from Batch at most this often per job (see recordChildProgress). */
export const CHILD_PROGRESS_INTERVAL_MS = 15_000;

/** Our jobs are named ocr-<jobId> (no tags on SubmitJob: tagging a job needs batch:TagResource on job/*). */
function jobIdOfName(jobName: string): string | undefined {
  return /^ocr-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/.exec(jobName)?.[1];
}

/**
 * The state an array job has reached, from its children: the parent stays PENDING while they run
 * (AWS Batch User Guide, "Array jobs"), so it says nothing of their progress. RUNNING once any child
 * runs or has finished, so that the state only moves forward while children come and go.
 */
export function stateOfChildren(children: ChildStates): JobState {
  const n = (state: string): number => children[state] ?? 0;
  if (n('RUNNING') + n('SUCCEEDED') + n('FAILED') > 0) return 'RUNNING';
  if (n('STARTING') > 0) return 'STARTING';
  if (n('RUNNABLE') > 0) return 'RUNNABLE';
  return 'PENDING';
}

/**
 * Record a Batch state change of one of our jobs. Final states are never overwritten, and an earlier
 * state never replaces a later one (EventBridge does not guarantee order); a record marked
 * SUBMIT_FAILED is repaired by any event of its job. An array child's event refreshes the job's
 * per-state child counts (recordChildProgress). A final state is written with its completion
 * deliveries owed, then they are made (deliverCompletion); a final-state event for a record already in
 * that state makes those still owed ('delivered'). Throws CompletionDeliveryError when one failed.
 */
export async function recordStateChange(
  clients: Pick<Clients, 's3' | 'ddb' | 'events' | 'batch' | 'sns'>, config: ProcessorConfig, detail: BatchJobStateChange, log: DeliveryLog = silentLog,
): Promise<StateChangeOutcome> {
  const jobId = jobIdOfName(detail.jobName);
  if (!jobId) return 'ignored';
  if (detail.arrayProperties?.index !== undefined) return recordChildProgress(clients, config, jobId, detail);
  const state = detail.status;
  const final = FINAL.includes(state);
  if (!final && !ORDER.includes(state)) return 'ignored';
  // Only move forward: from a state before this one (a final state may arrive from any), or repair.
  const allowedFrom = [...(final ? ORDER : ORDER.slice(0, ORDER.indexOf(state))), REPAIRABLE];
  const names: { [k: string]: string } = { '#state': 'state' };
  const values: { [k: string]: unknown } = { ':state': state, ':now': new Date().toISOString(), ':batchJobId': detail.jobId };
  const sets = ['#state = :state', 'updatedAt = :now', 'batchJobId = :batchJobId'];
  // The reason belongs to the state it came with: a repaired record loses SubmitJob's error.
  const removes: string[] = [];
  if (detail.statusReason) {
    sets.push('statusReason = :reason');
    values[':reason'] = detail.statusReason.slice(0, 500);
  } else {
    removes.push('statusReason');
  }
  if (detail.startedAt) { sets.push('startedAt = :startedAt'); values[':startedAt'] = new Date(detail.startedAt).toISOString(); }
  if (detail.stoppedAt) { sets.push('stoppedAt = :stoppedAt'); values[':stoppedAt'] = new Date(detail.stoppedAt).toISOString(); }
  const childStates = detail.arrayProperties?.statusSummary;
  if (childStates) { sets.push('childStates = :childStates', 'childStatesAt = :now'); values[':childStates'] = childStates; }
  // A finished job's summaries are added up once, here (before the state is written, so that a
  // retried invocation does it again), and stored with the final state: GET stays cheap.
  const aggregate = final ? await aggregateSummaries(clients.s3, config, jobId) : undefined;
  if (aggregate) { sets.push('#counts = :counts'); names['#counts'] = 'counts'; values[':counts'] = aggregate.counts; }
  // What a final state owes its subscribers is recorded with it: a retry finds it still owed.
  if (final) { sets.push('deliveriesPending = :pending'); values[':pending'] = true; }
  allowedFrom.forEach((s, i) => { values[`:from${i}`] = s; });
  let updated: JobRecord | undefined;
  try {
    updated = (await clients.ddb.send(new UpdateCommand({
      TableName: config.jobTable,
      Key: { jobId },
      UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
      ConditionExpression: `attribute_exists(jobId) AND #state IN (${allowedFrom.map((_, i) => `:from${i}`).join(', ')})`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    })))?.Attributes as JobRecord | undefined;
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
    if (!final) return 'ignored';
    // Already final: a retry of this event (a delivery failed after the state was written) or a
    // duplicate. Finish what is still owed for the same final state; anything else is ignored.
    const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId }, ConsistentRead: true }));
    const recorded = got?.Item as JobRecord | undefined;
    if (recorded?.state !== state || recorded.deliveriesPending !== true) return 'ignored';
    await deliverCompletion(clients, config, recorded, detail, aggregate!, log, 'delivered');
    return 'delivered';
  }
  if (final) await deliverCompletion(clients, config, updated ?? { jobId } as JobRecord, detail, aggregate!, log, 'updated');
  return 'updated';
}

const silentLog: DeliveryLog = { info: () => undefined, warn: () => undefined };

/**
 * Some completion deliveries of a finished job failed. The state change itself was recorded (or had
 * been): `outcome` says which, so that the job is counted once. Thrown so that the invocation fails
 * and is retried; the retry delivers only what is still owed.
 */
export class CompletionDeliveryError extends Error {
  constructor(readonly outcome: 'updated' | 'delivered', readonly failures: readonly string[]) {
    super(`${failures.length} completion deliver${failures.length === 1 ? 'y' : 'ies'} failed: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? '; ...' : ''}`);
    this.name = 'CompletionDeliveryError';
  }
}

/**
 * A finished job's deliveries, at least once: its `OCR Job Completed` event, an event for each
 * request gathered into it, and Textract's completion for the requests that asked for one. Each is
 * marked done (a conditional write, after it went out) and skipped when marked; every delivery is
 * tried before a failure is reported, so one failure does not hold up the others. Once all went out,
 * the job is no longer marked as owing any. A handler that dies between sending and marking sends
 * that one again on its retry: subscribers see a duplicate, never a gap.
 */
async function deliverCompletion(
  clients: Pick<Clients, 's3' | 'ddb' | 'events' | 'sns'>, config: ProcessorConfig, job: JobRecord, detail: BatchJobStateChange,
  aggregate: Aggregate, log: DeliveryLog, outcome: 'updated' | 'delivered',
): Promise<void> {
  const failures: string[] = [];
  const failed = (what: string, error: unknown): void => {
    const reason = (error as Error)?.message ?? String(error);
    log.warn('Could not deliver a completion', { jobId: job.jobId, delivery: what, reason });
    failures.push(`${what}: ${reason}`);
  };
  if (job.completionEventAt === undefined) {
    try {
      await putEntries(clients, [completionEntry(config, job.jobId, detail, aggregate)]);
      await markDone(clients, config, job.jobId, 'completionEventAt');
    } catch (error) {
      failed(`the completion event of ${job.jobId}`, error);
    }
  }
  const requests = job.gatheredRequests ?? [];
  // A request's marks are on its own record. When the state was only now recorded nothing can be
  // marked yet, so only the requests with a Textract completion are read (their delivery needs it).
  const records = new Map<string, JobRecord | undefined>();
  await mapLimit(requests.filter((r) => outcome === 'delivered' || r.deliver), 8, async (request) => {
    try {
      const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId: request.jobId }, ConsistentRead: true }));
      records.set(request.jobId, got?.Item as JobRecord | undefined);
    } catch (error) {
      failed(`reading request ${request.jobId}`, error);
    }
  });
  const unread = (r: GatheredRequest): boolean => (outcome === 'delivered' || r.deliver === true) && !records.has(r.jobId);
  const toAnnounce = requests.filter((r) => !unread(r) && records.get(r.jobId)?.announcedAt === undefined);
  if (toAnnounce.length > 0) {
    for (const f of await announceGatheredRequests(clients, config, job.jobId, toAnnounce, aggregate.summaries)) failed(f.what, f.error);
  }
  const textract = [
    ...(job.textract ? [job] : []),
    ...requests.filter((r) => r.deliver && records.get(r.jobId) !== undefined).map((r) => records.get(r.jobId)!),
  ];
  await mapLimit(textract, 8, async (record) => {
    const delivered = await deliverTextractResult(clients, config, record, log);
    if (delivered === 'failed') failures.push(`the Textract completion of ${record.jobId}`);
    // The job is final, so its document's result is too: no Textract response means the worker wrote
    // none for it, which no retry changes.
    if (delivered === 'not-done') log.warn('No Textract response to deliver for a finished request', { jobId: record.jobId });
  });
  if (failures.length > 0) throw new CompletionDeliveryError(outcome, failures);
  await clients.ddb.send(new UpdateCommand({
    TableName: config.jobTable,
    Key: { jobId: job.jobId },
    UpdateExpression: 'REMOVE deliveriesPending',
    ConditionExpression: 'attribute_exists(jobId)',
  }));
}

type EventEntry = NonNullable<PutEventsCommandInput['Entries']>[number];

/** The job's own `OCR Job Completed` event. */
function completionEntry(config: ProcessorConfig, jobId: string, detail: BatchJobStateChange, aggregate: Aggregate | undefined): EventEntry {
  return {
    Source: config.eventSource,
    DetailType: 'OCR Job Completed',
    EventBusName: config.eventBusName,
    Detail: JSON.stringify({
      jobId,
      jobName: detail.jobName,
      state: detail.status,
      batchJobId: detail.jobId,
      statusReason: detail.statusReason,
      counts: aggregate?.counts,
      resultsBucket: config.outputBucket,
      resultsPrefix: `${config.outputPrefix}${jobId}/`,
    }),
  };
}

/**
 * Put events on the bus, 10 per call (PutEvents' limit); resolves to each entry's error, undefined
 * for those accepted. PutEvents answers 200 with some entries refused (FailedEntryCount, an
 * ErrorCode per refused entry: EventBridge User Guide, "Sending events with PutEvents"), so the
 * entries are checked one by one; a call that fails refuses all of its entries. With one entry, its
 * error is thrown.
 */
async function putEntries(clients: Pick<Clients, 'events'>, entries: readonly EventEntry[]): Promise<(Error | undefined)[]> {
  const errors: (Error | undefined)[] = [];
  for (let i = 0; i < entries.length; i += 10) {
    const batch = entries.slice(i, i + 10);
    try {
      const put = await clients.events.send(new PutEventsCommand({ Entries: batch }));
      batch.forEach((_, j) => {
        const result = put?.Entries?.[j];
        errors.push(result?.ErrorCode ? Object.assign(new Error(`${result.ErrorCode}: ${result.ErrorMessage ?? 'refused'}`), { name: result.ErrorCode }) : undefined);
      });
    } catch (error) {
      batch.forEach(() => errors.push(error as Error));
    }
  }
  if (entries.length === 1 && errors[0]) throw errors[0];
  return errors;
}

/**
 * Mark one delivery done on a record, once: the condition keeps a racing handler from marking it
 * again (its send was then a duplicate, which at-least-once allows). A record that is gone (expired)
 * has nothing left to mark.
 */
async function markDone(clients: Pick<Clients, 'ddb'>, config: ProcessorConfig, jobId: string, attribute: 'completionEventAt' | 'announcedAt'): Promise<void> {
  try {
    await clients.ddb.send(new UpdateCommand({
      TableName: config.jobTable,
      Key: { jobId },
      UpdateExpression: `SET ${attribute} = :now`,
      ConditionExpression: `attribute_exists(jobId) AND attribute_not_exists(${attribute})`,
      ExpressionAttributeValues: { ':now': new Date().toISOString() },
    }));
  } catch (error) {
    if (!isConditionFailed(error)) throw error;
  }
}

/**
 * A gathered job finished: an `OCR Job Completed` event for each of these requests, under the
 * request's own job id, with its one document's outcome; each marked on its request's record once
 * accepted. Resolves to the requests that were not announced, with why.
 */
async function announceGatheredRequests(
  clients: Pick<Clients, 'events' | 'ddb'>, config: ProcessorConfig, sharedJobId: string,
  requests: readonly GatheredRequest[], summaries: readonly WorkerSummary[],
): Promise<{ what: string; error: unknown }[]> {
  const outcomes = new Map<number, NonNullable<WorkerSummary['documents']>[number]>();
  for (const summary of summaries) for (const d of summary.documents ?? []) outcomes.set(d.index, d);
  const entries = requests.map((request): EventEntry => {
    const d = outcomes.get(request.documentIndex);
    const failed = d !== undefined && d.status !== 'SUCCEEDED';
    return {
      Source: config.eventSource,
      DetailType: 'OCR Job Completed',
      EventBusName: config.eventBusName,
      Detail: JSON.stringify({
        jobId: request.jobId,
        jobName: jobNameOf(request.jobId),
        // The request's own outcome: its document has a result, or the job ended without one.
        state: d ? 'SUCCEEDED' : 'FAILED',
        gatheredInto: sharedJobId,
        counts: { succeeded: d && !failed ? 1 : 0, failed: failed ? 1 : 0, byErrorCode: failed ? { [d.errorCode ?? 'INTERNAL_ERROR']: 1 } : {} },
        resultsBucket: config.outputBucket,
        resultKey: d?.resultKey,
        textKey: d?.textKey,
      }),
    };
  });
  const errors = await putEntries(clients, entries).catch((error: unknown) => [error as Error]);
  const failures: { what: string; error: unknown }[] = [];
  await mapLimit([...requests], 8, async (request, i) => {
    const what = `the event of request ${request.jobId}`;
    if (errors[i]) { failures.push({ what, error: errors[i] }); return; }
    try {
      await markDone(clients, config, request.jobId, 'announcedAt');
    } catch (error) {
      failures.push({ what: `marking ${what}`, error });
    }
  });
  return failures;
}

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * An array child's state change: refresh the job's per-state child counts and the state they imply,
 * from one DescribeJobs call on the parent (arrayProperties.statusSummary) rather than by counting
 * events, which EventBridge may deliver twice or out of order. A 10,000-child job sends some 50,000
 * child events, so Batch is asked at most once per CHILD_PROGRESS_INTERVAL_MS per job; the parent's
 * final event records the final counts. A child event also repairs a SUBMIT_FAILED record.
 */
async function recordChildProgress(clients: Pick<Clients, 'ddb' | 'batch'>, config: ProcessorConfig, jobId: string, detail: BatchJobStateChange): Promise<StateChangeOutcome> {
  const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: { jobId } }));
  const record = got.Item as JobRecord | undefined;
  if (!record || !(ORDER.includes(record.state) || record.state === REPAIRABLE)) return 'ignored';
  const now = new Date();
  if (record.childStatesAt && now.getTime() - Date.parse(record.childStatesAt) < CHILD_PROGRESS_INTERVAL_MS) return 'ignored';
  const parentId = detail.jobId.slice(0, detail.jobId.lastIndexOf(':'));
  let described;
  try {
    described = await clients.batch.send(new DescribeJobsCommand({ jobs: [parentId] }));
  } catch (error) {
    // Progress can wait for the next child event; failing would only retry the same read.
    if (isThrottling(error)) return 'ignored';
    throw error;
  }
  const childStates = described.jobs?.[0]?.arrayProperties?.statusSummary;
  if (!childStates) return 'ignored';
  const fromChildren = stateOfChildren(childStates);
  const state = ORDER.indexOf(fromChildren) > ORDER.indexOf(record.state) ? fromChildren : record.state;
  try {
    await clients.ddb.send(new UpdateCommand({
      TableName: config.jobTable,
      Key: { jobId },
      UpdateExpression: 'SET #state = :state, childStates = :childStates, childStatesAt = :now, updatedAt = :now, batchJobId = :batchJobId REMOVE statusReason',
      // Unchanged since it was read (or the state would be decided on stale ground), and no newer counts written meanwhile.
      ConditionExpression: '#state = :seen AND (attribute_not_exists(childStatesAt) OR childStatesAt < :now)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: {
        ':state': state, ':seen': record.state, ':childStates': childStates, ':now': now.toISOString(), ':batchJobId': parentId,
      },
    }));
  } catch (error) {
    if (isConditionFailed(error)) return 'ignored';
    throw error;
  }
  return 'progress';
}
