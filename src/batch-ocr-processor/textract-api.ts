/**
 * Amazon Textract's asynchronous text detection on the processor's API: `POST /` with
 * `X-Amz-Target: Textract.StartDocumentTextDetection` or `Textract.GetDocumentTextDetection`, in
 * Textract's wire protocol (AWS JSON 1.1, errors as `{ "__type", "message" }`), so that code written
 * for Textract runs against the processor by changing its client's endpoint and signing name.
 *
 * Start submits one document like `POST /jobs` does (joining the next gathered job when the
 * construct gathers), asking the worker for the `textract` output: the GetDocumentTextDetection
 * response for the document, whole and in page objects of 1,000 blocks, which Get only reads: the
 * one or two page objects its answer is in. Shapes follow `@aws-sdk/client-textract`'s
 * model; statuses follow the Textract API reference (client faults 400, server faults 500).
 */
import { createHash, randomUUID } from 'crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { corsHeaders, HandlerDeps } from './api';
import { enqueueDocument } from './gather';
import { checkDocumentsExist, JobRecord, submitJob } from './jobs';
import { callerIdFrom, checkDocumentAccess, checkKey, header, OcrRequestOptions, RequestError } from './request';
import { outputPageKey, TextractDelivery, TextractNotificationChannel, TextractOutputConfig } from './textract-delivery';
import { MAX_RESULTS_LIMIT, offsetOfToken, readJson, readRecord, readTextractAnswer } from './textract-result';
import { workerManifestKey } from '../common/worker-contract';

export const TEXTRACT_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** The error types these operations answer with (`@aws-sdk/client-textract`'s model). */
export type TextractErrorType =
  | 'AccessDeniedException'
  | 'DocumentTooLargeException'
  | 'IdempotentParameterMismatchException'
  | 'InternalServerError'
  | 'InvalidJobIdException'
  | 'InvalidParameterException'
  | 'InvalidS3ObjectException'
  | 'ThrottlingException'
  | 'UnknownOperationException';

/** Server faults answer 500, client faults 400 (Textract API reference, "Common Errors" and each operation's errors). */
const SERVER_FAULTS: readonly TextractErrorType[] = ['InternalServerError', 'ThrottlingException'];

export class TextractError extends Error {
  constructor(readonly type: TextractErrorType, message: string) {
    super(message);
    this.name = type;
  }

  get statusCode(): number {
    return SERVER_FAULTS.includes(this.type) ? 500 : 400;
  }
}

/** What the worker asks for a Textract job: the JSON result and the Textract response, with word and line geometry. */
export const TEXTRACT_JOB_OPTIONS: Pick<OcrRequestOptions, 'outputs' | 'geometry'> = { outputs: ['json', 'textract'], geometry: true };

/** Textract's patterns for ClientRequestToken and JobId (1-64 characters) and JobTag (1-1024). */
const TOKEN_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;
const JOB_TAG_PATTERN = /^[a-zA-Z0-9_.\-:]{1,1024}$/;
/** The body of a Start or Get request is small; anything larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

type Json = { [key: string]: unknown };

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function invalidParameter(message: string): TextractError {
  return new TextractError('InvalidParameterException', message);
}

/** A job id from the caller and its ClientRequestToken: the same token from the same caller names the same job. */
export function textractJobId(owner: string, token: string): string {
  const h = createHash('sha256').update(`textract\n${owner}\n${token}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function offsetOf(token: unknown, jobId: string): number {
  if (token === undefined) return 0;
  const offset = typeof token === 'string' ? offsetOfToken(token, jobId) : undefined;
  if (offset === undefined) throw invalidParameter('NextToken is not a token this job returned.');
  return offset;
}

function bodyOf(event: APIGatewayProxyEvent): Json {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text, 'utf8') > MAX_BODY_BYTES) throw invalidParameter(`The request body is larger than ${MAX_BODY_BYTES} bytes.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw invalidParameter('The request body is not JSON.');
  }
  if (!isObject(body)) throw invalidParameter('The request body must be a JSON object.');
  return body;
}

function response(statusCode: number, body: unknown, requestId: string | undefined, headers: { [name: string]: string } = {}): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': TEXTRACT_CONTENT_TYPE, 'Cache-Control': 'no-store', ...(requestId ? { 'x-amzn-RequestId': requestId } : {}), ...headers },
    body: JSON.stringify(body),
  };
}

/** The processor's own refusals, as Textract names them. */
function asTextractError(error: unknown): unknown {
  if (!(error instanceof RequestError)) return error;
  if (error.statusCode === 503 || error.statusCode === 429) return new TextractError('ThrottlingException', error.message);
  if (error.code === 'DOCUMENT_NOT_FOUND' || error.code === 'DOCUMENT_NOT_ALLOWED' || error.code === 'DOCUMENT_REJECTED') {
    return new TextractError('InvalidS3ObjectException', error.message);
  }
  if (error.statusCode === 403) return new TextractError('AccessDeniedException', error.message);
  if (error.statusCode >= 500) return new TextractError('InternalServerError', error.message);
  return invalidParameter(error.message);
}

/** `POST /`: Textract's StartDocumentTextDetection and GetDocumentTextDetection. */
export function createTextractHandler(deps: HandlerDeps): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const log = deps.log;
  return async (event) => {
    const requestId = event.requestContext?.requestId;
    // A browser's Textract client reads the answer only with CORS headers for its origin, and the
    // request id and error type only when they are exposed to it.
    const cors = corsHeaders(deps.config.corsAllowOrigins, event.headers);
    const respond = (statusCode: number, body: unknown, headers: { [name: string]: string } = {}) => {
      const exposed: { [name: string]: string } = cors['Access-Control-Allow-Origin'] ? { 'Access-Control-Expose-Headers': 'x-amzn-RequestId, x-amzn-ErrorType' } : {};
      return response(statusCode, body, requestId, { ...cors, ...exposed, ...headers });
    };
    try {
      const owner = callerIdFrom(deps.config.callerAuth ?? 'IAM', event.requestContext);
      if (owner === undefined) throw new TextractError('AccessDeniedException', 'The request carries no authenticated caller identity.');
      const target = header(event.headers, 'x-amz-target') ?? '';
      switch (target) {
        case 'Textract.StartDocumentTextDetection':
          return respond(200, await start(deps, owner, bodyOf(event)));
        case 'Textract.GetDocumentTextDetection':
          return respond(200, await get(deps, owner, bodyOf(event)));
        default:
          throw new TextractError('UnknownOperationException',
            `This API answers Textract.StartDocumentTextDetection and Textract.GetDocumentTextDetection; not '${target}'.`);
      }
    } catch (caught) {
      const error = asTextractError(caught);
      if (error instanceof TextractError) {
        return respond(error.statusCode, { __type: error.type, message: error.message }, { 'x-amzn-ErrorType': error.type });
      }
      log?.error('Unhandled error', { error });
      return respond(500, { __type: 'InternalServerError', message: 'Internal error; see the handler logs for this request id.' },
        { 'x-amzn-ErrorType': 'InternalServerError' });
    }
  };
}

/** `DocumentLocation.S3Object` as Textract requires it, in the input bucket and open to the caller. */
function documentKeyOf(deps: HandlerDeps, owner: string, location: unknown): string {
  if (!isObject(location) || !isObject(location.S3Object)) throw invalidParameter('DocumentLocation with S3Object is required.');
  const { Bucket, Name, Version } = location.S3Object;
  if (typeof Bucket !== 'string' || Bucket.length < 1 || Bucket.length > 255) throw invalidParameter('DocumentLocation.S3Object.Bucket must be a bucket name (1-255 characters).');
  if (typeof Name !== 'string' || Name.length < 1 || Name.length > 1024) throw invalidParameter('DocumentLocation.S3Object.Name must be an object key (1-1024 characters).');
  if (Version !== undefined) throw invalidParameter('DocumentLocation.S3Object.Version is not supported here: the object\'s current version is read.');
  if (Bucket !== deps.config.inputBucket) {
    throw new TextractError('InvalidS3ObjectException', `DocumentLocation.S3Object.Bucket '${Bucket}' is not readable here: use the input bucket '${deps.config.inputBucket}'.`);
  }
  const key = checkKey(Name, 'DocumentLocation.S3Object.Name', deps.config.inputBucket);
  // The caller's access rules of POST /jobs: its own uploads and the allowed prefixes.
  checkDocumentAccess([key], {
    uploadPrefix: deps.config.uploadPrefix,
    allowedInputPrefixes: deps.config.allowedInputPrefixes ?? [],
    callerScoped: deps.config.callerScopedInput ?? false,
  }, owner);
  return key;
}

/** The document a job was started for: its record's input key, or the first document of its manifest. */
async function documentOfJob(deps: HandlerDeps, record: JobRecord): Promise<string | undefined> {
  if (record.inputKey !== undefined) return record.inputKey;
  const manifestKey = record.manifestKey ?? workerManifestKey(deps.config.outputPrefix, record.jobId);
  const manifest = await readJson(deps.clients, deps.config, manifestKey) as { documents?: { key?: string }[] };
  return manifest.documents?.[0]?.key;
}

/** Textract's patterns (API reference, NotificationChannel and OutputConfig). */
const SNS_TOPIC_ARN = /^arn:([a-z\d-]+):sns:[a-zA-Z\d-]{1,20}:\w{12}:.+$/;
const ROLE_ARN = /^arn:([a-z\d-]+):iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const BUCKET_NAME = /^[0-9A-Za-z.\-_]{3,255}$/;

/**
 * NotificationChannel, when given: a topic the construct lets this API publish to. RoleArn must be an
 * IAM role's ARN, as Textract requires, but is not assumed: the job state handler publishes with its
 * own role, which the construct grants sns:Publish on exactly these topics.
 */
function notificationChannelOf(deps: HandlerDeps, channel: unknown): TextractNotificationChannel | undefined {
  if (channel === undefined) return undefined;
  if (!isObject(channel)) throw invalidParameter('NotificationChannel must be an object with SNSTopicArn and RoleArn.');
  const { SNSTopicArn, RoleArn } = channel;
  if (typeof SNSTopicArn !== 'string' || SNSTopicArn.length > 1024 || !SNS_TOPIC_ARN.test(SNSTopicArn)) {
    throw invalidParameter('NotificationChannel.SNSTopicArn must be an SNS topic ARN.');
  }
  if (typeof RoleArn !== 'string' || RoleArn.length > 2048 || !ROLE_ARN.test(RoleArn)) {
    throw invalidParameter('NotificationChannel.RoleArn must be an IAM role ARN.');
  }
  if (!(deps.config.textractNotificationTopics ?? []).includes(SNSTopicArn)) {
    throw invalidParameter(`NotificationChannel.SNSTopicArn '${SNSTopicArn}' is not a topic this API publishes to (the processor's textractNotificationTopics).`);
  }
  return { SNSTopicArn, RoleArn };
}

/**
 * OutputConfig, when given: the output bucket or one the construct lets this API write to. In the
 * output bucket, pages never go under the results prefix, where the worker's own results are.
 */
function outputConfigOf(deps: HandlerDeps, output: unknown): TextractOutputConfig | undefined {
  if (output === undefined) return undefined;
  if (!isObject(output)) throw invalidParameter('OutputConfig must be an object with S3Bucket and optionally S3Prefix.');
  const { S3Bucket, S3Prefix } = output;
  if (typeof S3Bucket !== 'string' || !BUCKET_NAME.test(S3Bucket)) throw invalidParameter('OutputConfig.S3Bucket must be a bucket name (3-255 characters).');
  if (S3Prefix !== undefined && (typeof S3Prefix !== 'string' || S3Prefix.length < 1 || S3Prefix.length > 1024 || !/\S/.test(S3Prefix))) {
    throw invalidParameter('OutputConfig.S3Prefix must be 1-1024 characters, not only white space.');
  }
  const config = deps.config;
  if (S3Bucket !== config.outputBucket && !(config.textractOutputBuckets ?? []).includes(S3Bucket)) {
    // AccessDeniedException, as the OCR service answers for an output bucket it may not write to
    throw new TextractError('AccessDeniedException',
      `OutputConfig.S3Bucket '${S3Bucket}' is not writable here: use the output bucket '${config.outputBucket}' or one of the processor's textractOutputBuckets.`);
  }
  const outputConfig: TextractOutputConfig = { S3Bucket, ...(S3Prefix !== undefined ? { S3Prefix } : {}) };
  if (S3Bucket === config.outputBucket && outputPageKey(outputConfig, '', 1).startsWith(config.outputPrefix)) {
    throw invalidParameter(`OutputConfig.S3Prefix must not be under '${config.outputPrefix}' of the output bucket: the processor's results are kept there.`);
  }
  return outputConfig;
}

/**
 * Why a job started earlier with the same ClientRequestToken is not this request's, or undefined when
 * it is: Textract answers IdempotentParameterMismatchException when any other parameter differs.
 */
async function mismatchOf(deps: HandlerDeps, previous: JobRecord, key: string, textract: TextractDelivery): Promise<string | undefined> {
  if (await documentOfJob(deps, previous) !== key) return 'ClientRequestToken was used before with another DocumentLocation.';
  const options = (t: TextractDelivery | undefined) => JSON.stringify([
    t?.jobTag ?? null,
    t?.notificationChannel ? [t.notificationChannel.SNSTopicArn, t.notificationChannel.RoleArn] : null,
    t?.outputConfig ? [t.outputConfig.S3Bucket, t.outputConfig.S3Prefix ?? null] : null,
  ]);
  if (options(previous.textract) !== options(textract)) {
    return 'ClientRequestToken was used before with another JobTag, NotificationChannel or OutputConfig.';
  }
  return undefined;
}

async function start(deps: HandlerDeps, owner: string, body: Json): Promise<Json> {
  const key = documentKeyOf(deps, owner, body.DocumentLocation);
  const token = body.ClientRequestToken;
  if (token !== undefined && (typeof token !== 'string' || !TOKEN_PATTERN.test(token))) {
    throw invalidParameter('ClientRequestToken must be 1-64 letters, digits, - or _.');
  }
  if (body.JobTag !== undefined && (typeof body.JobTag !== 'string' || !JOB_TAG_PATTERN.test(body.JobTag))) {
    throw invalidParameter('JobTag must be 1-1024 letters, digits, _ . - or :.');
  }
  if (body.KMSKeyId !== undefined) {
    throw invalidParameter('KMSKeyId is not supported by this API: OutputConfig pages are encrypted with the bucket\'s default encryption.');
  }
  const notificationChannel = notificationChannelOf(deps, body.NotificationChannel);
  const outputConfig = outputConfigOf(deps, body.OutputConfig);
  const textract: TextractDelivery = {
    document: { S3Bucket: deps.config.inputBucket, S3ObjectName: key },
    ...(typeof body.JobTag === 'string' ? { jobTag: body.JobTag } : {}),
    ...(notificationChannel ? { notificationChannel } : {}),
    ...(outputConfig ? { outputConfig } : {}),
  };
  const jobId = typeof token === 'string' ? textractJobId(owner, token) : randomUUID();
  if (typeof token === 'string') {
    // Textract's idempotency: the same token returns the same job, for the same parameters only.
    const previous = await readRecord(deps.clients, deps.config, jobId);
    if (previous && previous.state !== 'SUBMIT_FAILED') {
      const mismatch = await mismatchOf(deps, previous, key, textract);
      if (mismatch) throw new TextractError('IdempotentParameterMismatchException', mismatch);
      return { JobId: jobId };
    }
  }
  // missing or empty: InvalidS3ObjectException; larger than the processor takes: Textract's DocumentTooLargeException
  const sizes = await checkDocumentsExist(deps.clients.s3, { ...deps.config, maxDocumentBytes: 0 }, [key]);
  if (deps.config.maxDocumentBytes > 0 && sizes[0] > deps.config.maxDocumentBytes) {
    throw new TextractError('DocumentTooLargeException', `'${key}' is ${sizes[0]} bytes; this processor takes documents of at most ${deps.config.maxDocumentBytes} bytes.`);
  }
  const options: OcrRequestOptions = { ...deps.config.defaultOptions, ...TEXTRACT_JOB_OPTIONS };
  try {
    if (deps.config.gatherQueueUrl !== undefined && deps.clients.sqs !== undefined) {
      await enqueueDocument({ ddb: deps.clients.ddb, sqs: deps.clients.sqs }, deps.config, { key, size: sizes[0], options, source: 'api', owner, jobId, textract });
      deps.metrics?.count('DocumentsQueued', 1);
    } else {
      await submitJob(deps.clients, deps.config, { documents: [key], options }, { source: 'api', owner, jobId, sizes, textract });
      deps.metrics?.count('JobsSubmitted', 1);
      deps.metrics?.count('DocumentsSubmitted', 1);
    }
  } catch (error) {
    // A retry racing the first call with the same token: that call's job is this one.
    if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
    const record = await readRecord(deps.clients, deps.config, jobId);
    const mismatch = record ? await mismatchOf(deps, record, key, textract) : 'ClientRequestToken was used before with another DocumentLocation.';
    if (mismatch) throw new TextractError('IdempotentParameterMismatchException', mismatch);
  }
  deps.log?.info('Textract job started', { jobId });
  return { JobId: jobId };
}

async function get(deps: HandlerDeps, owner: string, body: Json): Promise<Json> {
  const jobId = body.JobId;
  if (typeof jobId !== 'string' || !TOKEN_PATTERN.test(jobId)) throw invalidParameter('JobId must be 1-64 letters, digits, - or _.');
  const max = body.MaxResults;
  if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1)) throw invalidParameter('MaxResults must be a positive integer.');
  const pageSize = Math.min((max as number | undefined) ?? MAX_RESULTS_LIMIT, MAX_RESULTS_LIMIT);
  const record = JOB_ID.test(jobId) ? await readRecord(deps.clients, deps.config, jobId) : undefined;
  // Another caller's job answers as one that does not exist; so does a job of several documents.
  if (!record || record.owner !== owner || record.documentCount !== 1) throw new TextractError('InvalidJobIdException', `No text detection job with id '${jobId}'.`);
  const offset = offsetOf(body.NextToken, jobId);

  const answer = await readTextractAnswer(deps.clients, deps.config, record, jobId, offset, pageSize);
  if (answer.kind === 'in-progress') return { JobStatus: 'IN_PROGRESS' };
  if (answer.kind === 'not-textract') throw new TextractError('InvalidJobIdException', `Job '${jobId}' was not started with StartDocumentTextDetection.`);
  return answer.page;
}
