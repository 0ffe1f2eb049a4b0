/**
 * API Gateway and event-source adapters of BatchOcrProcessor's handlers: routing, error mapping to
 * one JSON error shape, idempotency. The `*.lambda.ts` files only wire clients and Powertools.
 */
import { createHash, randomUUID } from 'crypto';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { enqueueDocument } from './gather';
import {
  checkDocumentsExist, Clients, CompletionDeliveryError, createUploadUrl, getJobStatus, ProcessorConfig, recordStateChange,
  BatchJobStateChange, StateChangeOutcome, submitJob, SubmitResult,
} from './jobs';
import {
  callerIdFrom, checkContentType, checkDocumentAccess, checkKey, header, InputAccess, LIMITS, parseJsonBody, RequestError,
  SubmitRequest, SYSTEM_OWNER, uploadFolderOf, validateSubmitRequest, validateUploadRequest,
} from './request';

/** The subset of a logger the handlers use (Powertools Logger in Lambda). */
export interface Log {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
  error(message: string, ...extra: unknown[]): void;
}

/** The subset of Powertools Metrics the handlers use. */
export interface MetricSink {
  count(name: string, value: number, dimensions?: { [name: string]: string }): void;
}

const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noMetrics: MetricSink = { count: () => undefined };

export interface HandlerDeps {
  readonly clients: Clients;
  readonly config: ProcessorConfig;
  readonly log?: Log;
  readonly metrics?: MetricSink;
  /** Idempotency records (Powertools DynamoDB persistence layer in Lambda). */
  readonly persistence?: BasePersistenceLayer;
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };

/** The one error body of the API (API Gateway's own validation errors are mapped to it too). */
export function errorResponse(statusCode: number, code: string, message: string, requestId?: string): APIGatewayProxyResult {
  return {
    statusCode,
    headers: JSON_HEADERS,
    body: JSON.stringify({ success: false, code, message, requestId, timestamp: new Date().toISOString() }),
  };
}

function ok(statusCode: number, body: unknown, headers: { [name: string]: string } = {}): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

function mapError(error: unknown, requestId: string | undefined, log: Log): APIGatewayProxyResult {
  if (error instanceof RequestError) return errorResponse(error.statusCode, error.code, error.message, requestId);
  const name = (error as { name?: string })?.name;
  if (name === 'IdempotencyValidationError') {
    return errorResponse(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with a different request body', requestId);
  }
  if (name === 'IdempotencyAlreadyInProgressError') {
    return errorResponse(409, 'REQUEST_IN_PROGRESS', 'A request with this Idempotency-Key is still being processed; retry shortly', requestId);
  }
  log.error('Unhandled error', { error });
  return errorResponse(500, 'INTERNAL_ERROR', 'Internal error; see the handler logs for this requestId', requestId);
}

/**
 * Who is calling: the owner of the jobs it submits, the folder of its uploads, the scope of its
 * idempotency keys. API Gateway only invokes the handlers for authenticated callers, so a request
 * without an identity is refused rather than given a shared one.
 */
function callerOf(event: APIGatewayProxyEvent, config: ProcessorConfig): string {
  const id = callerIdFrom(config.callerAuth ?? 'IAM', event.requestContext);
  if (id === undefined) throw new RequestError(403, 'NO_CALLER_IDENTITY', 'The request carries no authenticated caller identity');
  return id;
}

/** What callers may name; without allowed prefixes, only their own uploads (the construct's default). */
function inputAccessOf(config: ProcessorConfig): InputAccess {
  return {
    uploadPrefix: config.uploadPrefix,
    allowedInputPrefixes: config.allowedInputPrefixes ?? [],
    callerScoped: config.callerScopedInput ?? false,
  };
}

/**
 * CORS headers of an actual (not preflight) response, for a browser on an allowed origin. A Lambda
 * proxy integration returns the function's headers as they are, so the function must add them
 * itself; the API's OPTIONS methods only answer the preflight (API Gateway developer guide, "CORS
 * for REST APIs in API Gateway": enabling CORS support for Lambda or HTTP proxy integrations).
 */
export function corsHeaders(
  origins: readonly string[] | undefined, requestHeaders: APIGatewayProxyEvent['headers'] | undefined,
): { [name: string]: string } {
  if (!origins || origins.length === 0) return {};
  if (origins.includes('*')) return { 'Access-Control-Allow-Origin': '*' };
  const origin = header(requestHeaders, 'origin');
  // The answer depends on the request's Origin, so shared caches must keep one copy per origin.
  const vary = { Vary: 'Origin' };
  return origin !== undefined && origins.includes(origin) ? { 'Access-Control-Allow-Origin': origin, ...vary } : vary;
}

type ApiHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/** The frame of every API handler: any error in the one error shape, CORS headers on every response. */
function apiHandler(
  deps: HandlerDeps,
  handle: (event: APIGatewayProxyEvent, context: Context | undefined) => Promise<APIGatewayProxyResult>,
  onError: (error: unknown) => void = () => undefined,
): ApiHandler {
  const log = deps.log ?? silent;
  return async (event, context) => {
    let result: APIGatewayProxyResult;
    try {
      result = await handle(event, context);
    } catch (error) {
      onError(error);
      result = mapError(error, event.requestContext?.requestId, log);
    }
    return { ...result, headers: { ...result.headers, ...corsHeaders(deps.config.corsAllowOrigins, event.headers) } };
  };
}

function baseUrl(event: APIGatewayProxyEvent): string | undefined {
  const ctx = event.requestContext;
  if (!ctx?.domainName) return undefined;
  return `https://${ctx.domainName}${ctx.stage ? `/${ctx.stage}` : ''}`;
}

/** Keys of the idempotency payload: caller + client key identify it, the request body is validated. */
interface IdempotentSubmit {
  readonly idempotencyKey: string;
  readonly request: SubmitRequest;
  readonly owner: string;
  readonly statusBaseUrl?: string;
}

/**
 * A request of one document joins the next gathered job, when the construct gathers; one with a
 * password is submitted on its own, so that the password travels only in its manifest.
 */
function gathers(deps: HandlerDeps, request: SubmitRequest): boolean {
  return deps.config.gatherQueueUrl !== undefined && deps.clients.sqs !== undefined
    && request.documents.length === 1 && request.options.password === undefined;
}

/** `POST /jobs`. */
export function createSubmitHandler(deps: HandlerDeps): ApiHandler {
  const log = deps.log ?? silent;
  const metrics = deps.metrics ?? noMetrics;
  // With an Idempotency-Key the job id follows from it, so a retry after an ambiguous SubmitJob failure
  // reuses the id, and submitJob finds the job Batch may have accepted instead of starting a second one.
  const run = async (request: SubmitRequest, owner: string, statusBaseUrl?: string, jobId?: string): Promise<SubmitResult> => {
    const sizes = await checkDocumentsExist(deps.clients.s3, deps.config, request.documents);
    if (gathers(deps, request)) {
      const queued = await enqueueDocument({ ddb: deps.clients.ddb, sqs: deps.clients.sqs! }, deps.config, {
        key: request.documents[0], size: sizes[0], options: request.options, source: 'api', owner, jobId: jobId ?? randomUUID(), statusBaseUrl,
      });
      metrics.count('DocumentsQueued', 1);
      log.info('Document queued for gathering', { jobId: queued.jobId });
      return queued;
    }
    const result = await submitJob(deps.clients, deps.config, request, { source: 'api', statusBaseUrl, owner, jobId, sizes });
    metrics.count('JobsSubmitted', 1);
    metrics.count('DocumentsSubmitted', request.documents.length);
    log.info('Job submitted', { jobId: result.jobId, documents: result.documentCount, arraySize: result.arraySize });
    return result;
  };
  const idempotencyConfig = new IdempotencyConfig({
    eventKeyJmesPath: 'idempotencyKey',
    payloadValidationJmesPath: 'request',
    // A retried request within a day returns the original job.
    expiresAfterSeconds: 24 * 3600,
  });
  const idempotentRun = deps.persistence
    ? makeIdempotent(async (p: IdempotentSubmit) => run(p.request, p.owner, p.statusBaseUrl, deterministicJobId([p.idempotencyKey])), {
      persistenceStore: deps.persistence,
      config: idempotencyConfig,
    })
    : undefined;

  return apiHandler(deps, async (event, context) => {
    const owner = callerOf(event, deps.config);
    checkContentType(event.headers);
    const body = parseJsonBody(event.body, event.isBase64Encoded, LIMITS.maxBodyBytes);
    const request = validateSubmitRequest(
      body, deps.config.inputBucket, deps.config.maxDocuments, deps.config.defaultOptions, deps.config.availableLanguages,
    );
    checkDocumentAccess(request.documents, inputAccessOf(deps.config), owner);
    const clientKey = header(event.headers, 'idempotency-key');
    let result: SubmitResult;
    if (clientKey !== undefined) {
      if (!/^[A-Za-z0-9_.:-]{8,128}$/.test(clientKey)) {
        throw new RequestError(400, 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 8 to 128 letters, digits or _ . : - (a UUID is ideal)');
      }
      if (!idempotentRun) throw new Error('Idempotency is not configured');
      if (context) idempotencyConfig.registerLambdaContext(context);
      // Keys are scoped per caller: two callers never collide.
      const idempotencyKey = createHash('sha256').update(`${owner}\n${clientKey}`).digest('hex');
      result = await idempotentRun({ idempotencyKey, request, owner, statusBaseUrl: baseUrl(event) });
    } else {
      result = await run(request, owner, baseUrl(event));
    }
    return ok(202, result, { Location: result.statusUrl });
  }, (error) => {
    if (error instanceof RequestError) metrics.count('RequestsRejected', 1, { Code: error.code });
  });
}

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `GET /jobs/{jobId}`: read-only; only the job's owner sees it (and its result URLs). */
export function createStatusHandler(deps: HandlerDeps): ApiHandler {
  return apiHandler(deps, async (event) => {
    const owner = callerOf(event, deps.config);
    const jobId = event.pathParameters?.jobId;
    if (!jobId || !JOB_ID.test(jobId)) throw new RequestError(400, 'INVALID_JOB_ID', 'jobId must be the UUID returned by POST /jobs');
    // Another caller's job answers exactly as a job that does not exist.
    const status = await getJobStatus(deps.clients, deps.config, jobId, { owner });
    if (!status) throw new RequestError(404, 'JOB_NOT_FOUND', `No job '${jobId}' (job records expire with their results)`);
    return ok(200, { success: true, ...status });
  });
}

/** `POST /uploads`: a pre-signed PUT URL into the caller's own upload folder of the input bucket. */
export function createUploadHandler(deps: HandlerDeps): ApiHandler {
  return apiHandler(deps, async (event) => {
    const caller = callerOf(event, deps.config);
    checkContentType(event.headers);
    const body = parseJsonBody(event.body, event.isBase64Encoded, 16 * 1024);
    const { key, contentType } = validateUploadRequest(body, deps.config.inputBucket);
    const folder = uploadFolderOf(inputAccessOf(deps.config), caller);
    return ok(200, { success: true, ...(await createUploadUrl(deps.clients.s3, deps.config, key, contentType, folder)) });
  });
}

/**
 * EventBridge "Batch Job State Change" of this construct's queue. A completion delivery that failed
 * fails the invocation: EventBridge invokes the function asynchronously, and Lambda retries a
 * function error twice by default, then sends the event to the function's dead-letter queue (Lambda
 * Developer Guide, "How Lambda handles errors and retries with asynchronous invocation"); the rule
 * target's own retry policy and dead-letter queue cover events EventBridge could not hand to Lambda
 * (EventBridge User Guide, "How EventBridge retries delivering events"). Lambda may also run the
 * same event twice, which recordStateChange treats as a retry.
 */
export function createStateChangeHandler(deps: HandlerDeps): (event: { detail: BatchJobStateChange }) => Promise<string> {
  const metrics = deps.metrics ?? noMetrics;
  return async (event) => {
    // A job is counted once, when its final state is recorded: not again by a retry that only
    // finishes its deliveries, and also when some delivery failed (the error makes Lambda retry).
    const counted = (outcome: StateChangeOutcome): void => {
      if (outcome === 'updated' && event.detail.status === 'SUCCEEDED') metrics.count('JobsSucceeded', 1);
      if (outcome === 'updated' && event.detail.status === 'FAILED') metrics.count('JobsFailed', 1);
    };
    let outcome: StateChangeOutcome;
    try {
      outcome = await recordStateChange(deps.clients, deps.config, event.detail, deps.log);
    } catch (error) {
      if (error instanceof CompletionDeliveryError) counted(error.outcome);
      throw error;
    }
    counted(outcome);
    return outcome;
  };
}

interface S3EventRecord {
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number } };
}

/**
 * Objects of an SQS message body: an EventBridge "Object Created" event (the construct's route;
 * its keys are plain) or an S3 event notification (keys URL-encoded, '+' for spaces).
 */
export function objectsOf(body: unknown): { bucket?: string; key?: string; size?: number }[] {
  const b = body as { source?: string; detail?: { bucket?: { name?: string }; object?: { key?: string; size?: number } }; Records?: S3EventRecord[] };
  if (b?.source === 'aws.s3' && b.detail) {
    return [{ bucket: b.detail.bucket?.name, key: b.detail.object?.key, size: b.detail.object?.size }];
  }
  return (b?.Records ?? []).map((r) => ({
    bucket: r.s3?.bucket?.name,
    key: r.s3?.object?.key === undefined ? undefined : decodeURIComponent(r.s3.object.key.replace(/\+/g, ' ')),
    size: r.s3?.object?.size,
  }));
}

/**
 * S3 ObjectCreated notifications, delivered through an SQS queue with a batching window: the
 * objects of one batch become one job, through the same validation as the API. Invalid objects
 * are logged and dropped (retrying cannot fix them); a throttled or failed submission returns the
 * whole batch to the queue, which retries it after the visibility timeout (and finally moves it to
 * the dead-letter queue).
 */
export function createS3IngestHandler(deps: HandlerDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const log = deps.log ?? silent;
  const metrics = deps.metrics ?? noMetrics;
  return async (event) => {
    const keys: string[] = [];
    const sizes: (number | undefined)[] = [];
    for (const message of event.Records) {
      let objects: { bucket?: string; key?: string; size?: number }[] = [];
      try {
        objects = objectsOf(JSON.parse(message.body));
      } catch {
        log.warn('Dropping a message that is not an S3 event', { messageId: message.messageId });
        continue;
      }
      for (const o of objects) {
        if (!o.key || o.bucket !== deps.config.inputBucket) continue;
        const key = o.key;
        try {
          checkKey(key, 'object key', deps.config.inputBucket);
          if (deps.config.maxDocumentBytes > 0 && o.size !== undefined && o.size > deps.config.maxDocumentBytes) {
            throw new RequestError(400, 'DOCUMENT_REJECTED', `'${key}' is ${o.size} bytes; the limit is ${deps.config.maxDocumentBytes}`);
          }
          if (o.size === 0) throw new RequestError(400, 'DOCUMENT_REJECTED', `'${key}' is empty`);
          if (!keys.includes(key)) {
            keys.push(key);
            sizes.push(o.size);
          }
        } catch (error) {
          metrics.count('RequestsRejected', 1, { Code: (error as RequestError).code ?? 'INVALID' });
          log.warn('Skipping an object that fails validation', { key, reason: (error as Error).message });
        }
      }
    }
    if (keys.length === 0) return { batchItemFailures: [] };
    // The batch size of the event source is at most maxDocuments, so one job holds the batch.
    const jobId = deterministicJobId(event.Records.map((m) => m.messageId));
    try {
      const result = await submitJob(deps.clients, deps.config, { documents: keys, options: deps.config.ingestOptions }, { source: 's3', jobId, owner: SYSTEM_OWNER, sizes });
      metrics.count('JobsSubmitted', 1);
      metrics.count('DocumentsSubmitted', keys.length);
      log.info('Job submitted from S3 events', { jobId: result.jobId, documents: keys.length });
      return { batchItemFailures: [] };
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') {
        // The same messages were submitted before (a redelivery): nothing to do.
        log.info('Batch already submitted', { jobId });
        return { batchItemFailures: [] };
      }
      log.warn('Submission failed; returning the batch to the queue', { reason: (error as Error).message });
      return { batchItemFailures: event.Records.map((m) => ({ itemIdentifier: m.messageId })) };
    }
  };
}

/** A UUID-shaped id from the message ids, so a redelivered batch maps to the same job. */
export function deterministicJobId(messageIds: string[]): string {
  const h = createHash('sha256').update([...messageIds].sort().join('\n')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
