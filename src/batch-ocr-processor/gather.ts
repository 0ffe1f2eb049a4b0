/**
 * Gathering of single-document requests: each request is recorded under its own job id and queued;
 * the gatherer (an SQS event source with a batching window) submits what arrived in one window as
 * one Batch job, packed like any other, and points each request's record at that job and at its
 * document in it. A stream of one-page documents then shares tasks instead of starting one task,
 * billed for at least a minute, per document.
 *
 * Who sees what: the shared job belongs to no caller (GATHERING_OWNER); each request's record keeps
 * its caller as owner, and its status shows its own document only.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { Clients, GatheredRequest, JobRecord, jobNameOf, mapLimit, planFor, ProcessorConfig, submitJob, SubmitResult, transitionJob } from './jobs';
import { childOf } from './packing';
import { GATHERING_OWNER, OcrRequestOptions } from './request';
import { hasDelivery, TextractDelivery } from './textract-delivery';

/** DynamoDB requests in flight at once per window. */
const PARALLEL_REQUESTS = 16;

/** The message of one queued request. */
export interface GatherMessage {
  readonly version: 1;
  /** The request's own job id (its record's key). */
  readonly jobId: string;
  readonly key: string;
  /** Bytes, from the submit handler's check (unknown: the document gets a child of its own). */
  readonly size?: number;
  /** Without a password: requests with one are never gathered (it would travel through the queue). */
  readonly options: Omit<OcrRequestOptions, 'password'>;
}

/** What a request that enqueues one document says about it. */
export interface EnqueueRequest {
  readonly key: string;
  readonly size?: number;
  readonly options: OcrRequestOptions;
  readonly source: JobRecord['source'];
  /** The caller: only it reads the request's status. */
  readonly owner: string;
  readonly jobId: string;
  readonly statusBaseUrl?: string;
  readonly now?: Date;
  /** A Textract Start's completion options, kept on the request's record. */
  readonly textract?: TextractDelivery;
}

function isConditionFailed(error: unknown): boolean {
  return (error as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/**
 * Queue one document for the next gathered job: write the request's record (state GATHERING), then
 * the message. The entry of every single-document request (`POST /jobs`, and any other front door
 * that takes one document at a time). A retry with the same job id (an Idempotency-Key) writes the
 * record and the message again; the gatherer links a request once, so a repeated message is dropped.
 */
export async function enqueueDocument(
  clients: Pick<Clients, 'ddb'> & { sqs: Pick<SQSClient, 'send'> }, config: ProcessorConfig, request: EnqueueRequest,
): Promise<SubmitResult> {
  if (!config.gatherQueueUrl) throw new Error('enqueueDocument: gathering is not configured (GATHER_QUEUE_URL)');
  if (request.options.password !== undefined) throw new Error('enqueueDocument: a request with a password is submitted on its own, never queued');
  const now = request.now ?? new Date();
  const record: JobRecord = {
    jobId: request.jobId,
    jobName: jobNameOf(request.jobId),
    state: 'GATHERING',
    documentCount: 1,
    children: 1,
    source: request.source,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    inputKey: request.key,
    expiresAt: config.recordTtlDays > 0 ? Math.floor(now.getTime() / 1000) + config.recordTtlDays * 86400 : undefined,
    owner: request.owner,
    ...(request.textract ? { textract: request.textract } : {}),
  };
  await clients.ddb.send(new PutCommand({
    TableName: config.jobTable,
    Item: record,
    // A retry may rewrite a record that never left the queue; a linked one is never rewritten.
    ConditionExpression: 'attribute_not_exists(jobId) OR #state IN (:gathering, :submitFailed)',
    ExpressionAttributeNames: { '#state': 'state' },
    ExpressionAttributeValues: { ':gathering': 'GATHERING', ':submitFailed': 'SUBMIT_FAILED' },
  }));
  const { languages, dpi, maxPages, outputs, geometry } = request.options;
  const message: GatherMessage = {
    version: 1,
    jobId: request.jobId,
    key: request.key,
    size: request.size,
    options: { languages, dpi, maxPages, ...(outputs ? { outputs } : {}), ...(geometry !== undefined ? { geometry } : {}) },
  };
  try {
    await clients.sqs.send(new SendMessageCommand({ QueueUrl: config.gatherQueueUrl, MessageBody: JSON.stringify(message) }));
  } catch (error) {
    await markSubmitFailed(clients, config, request.jobId, `Could not queue the document: ${(error as Error).message ?? String(error)}`);
    throw error;
  }
  return {
    success: true,
    message: 'Document queued: it joins the next gathered OCR job',
    jobId: request.jobId,
    jobName: record.jobName,
    documentCount: 1,
    arraySize: 0,
    statusUrl: `${request.statusBaseUrl ?? ''}/jobs/${request.jobId}`,
    timestamp: now.toISOString(),
  };
}

/** A request still waiting in the queue will not be submitted: its record says why (a linked one keeps its job). */
async function markSubmitFailed(clients: Pick<Clients, 'ddb'>, config: ProcessorConfig, jobId: string, reason: string): Promise<void> {
  await transitionJob(clients, config, jobId, { from: 'GATHERING', to: 'SUBMIT_FAILED', set: { statusReason: reason.slice(0, 500) } });
}

/** A message's request, or undefined when the message is not one (it is dropped: no retry can mend it). */
export function parseGatherMessage(body: string): GatherMessage | undefined {
  let m: Partial<GatherMessage>;
  try {
    m = JSON.parse(body) as Partial<GatherMessage>;
  } catch {
    return undefined;
  }
  const validId = typeof m?.jobId === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(m.jobId);
  if (m?.version !== 1 || !validId || typeof m.key !== 'string' || m.key.length === 0 || typeof m.options !== 'object' || m.options === null) return undefined;
  if (m.size !== undefined && !(typeof m.size === 'number' && m.size >= 0)) return undefined;
  return m as GatherMessage;
}

/** Requests that can share a job: the manifest's options hold for every document of a job. */
function optionsKey(options: GatherMessage['options']): string {
  const { languages, dpi, maxPages, outputs, geometry } = options;
  return JSON.stringify([languages ?? null, dpi ?? null, maxPages ?? null, outputs ?? null, geometry ?? null]);
}

/** A UUID-shaped id from the message ids, so that a redelivered group maps to the same shared job. */
export type JobIdOf = (messageIds: string[]) => string;

export interface GatherDeps {
  readonly clients: Clients;
  readonly config: ProcessorConfig;
  readonly jobIdOf: JobIdOf;
  readonly log: { info(message: string, ...extra: unknown[]): void; warn(message: string, ...extra: unknown[]): void };
  readonly count: (name: string, value: number) => void;
}

interface Queued {
  readonly record: SQSRecord;
  readonly message: GatherMessage;
  /** Its request has a Textract completion to deliver when the job finishes. */
  readonly deliver?: boolean;
}

/**
 * One window of queued requests: submit them as one job per set of options and link each request's
 * record to its document in it. Reported per message (ReportBatchItemFailures): a group whose
 * submission fails goes back to the queue, and its records say SUBMIT_FAILED once the queue gives up
 * on them; a message that is not a request, or whose request is gone or already linked, is dropped;
 * a document that cannot be read fails in its job as a result of its own, not the others.
 */
export function createGatherHandler(deps: GatherDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  const { clients, config, log } = deps;
  return async (event) => {
    const failures: string[] = [];
    // One message per request: a retried enqueue may have queued it twice.
    const byJob = new Map<string, Queued>();
    for (const record of [...event.Records].sort((a, b) => a.messageId.localeCompare(b.messageId))) {
      const message = parseGatherMessage(record.body);
      if (!message) {
        log.warn('Dropping a message that is not a queued document', { messageId: record.messageId });
        continue;
      }
      if (!byJob.has(message.jobId)) byJob.set(message.jobId, { record, message });
    }
    const waiting: Queued[] = [];
    // DynamoDB reads and writes per request, a few in parallel: a window may hold thousands.
    await mapLimit([...byJob.values()], PARALLEL_REQUESTS, async (queued) => {
      try {
        const key = { jobId: queued.message.jobId };
        const got = await clients.ddb.send(new GetCommand({ TableName: config.jobTable, Key: key, ConsistentRead: true }));
        const request = got.Item as JobRecord | undefined;
        const state = request?.state;
        if (state === 'GATHERING') waiting.push(hasDelivery(request) ? { ...queued, deliver: true } : queued);
        else log.info('Dropping a request that is not waiting', { jobId: queued.message.jobId, state });
      } catch (error) {
        log.warn('Could not read a request; returning it to the queue', { jobId: queued.message.jobId, reason: (error as Error).message });
        failures.push(queued.record.messageId);
      }
    });
    const groups = new Map<string, Queued[]>();
    // In message order, whatever order the reads finished in: a redelivered window is the same job.
    waiting.sort((a, b) => a.record.messageId.localeCompare(b.record.messageId));
    for (const queued of waiting) {
      const key = optionsKey(queued.message.options);
      groups.set(key, [...(groups.get(key) ?? []), queued]);
    }
    for (const group of groups.values()) {
      failures.push(...await submitGroup(deps, group));
    }
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}

/** Submit one group as one job and link its requests; returns the message ids to retry. */
async function submitGroup(deps: GatherDeps, group: Queued[]): Promise<string[]> {
  const { clients, config, log } = deps;
  const documents = group.map((q) => q.message.key);
  const sizes = group.map((q) => q.message.size);
  const options = group[0].message.options;
  const sharedJobId = deps.jobIdOf(group.map((q) => q.record.messageId));
  try {
    await submitJob(clients, config, { documents, options }, { source: 'gathered', jobId: sharedJobId, owner: GATHERING_OWNER, sizes });
    deps.count('JobsSubmitted', 1);
    deps.count('DocumentsSubmitted', documents.length);
    log.info('Gathered job submitted', { jobId: sharedJobId, documents: documents.length });
  } catch (error) {
    // The same messages were submitted before (a redelivery): link them to that job.
    if (!isConditionFailed(error)) {
      log.warn('Gathered job submission failed; returning its requests to the queue', { jobId: sharedJobId, reason: (error as Error).message });
      // The queue's last attempt: the requests will not be retried, so their records say so.
      for (const q of group) {
        if (Number(q.record.attributes?.ApproximateReceiveCount ?? 1) >= config.gatherMaxReceiveCount) {
          await markSubmitFailed(clients, config, q.message.jobId, `The gathered job could not be submitted: ${(error as Error).message ?? String(error)}`).catch(() => undefined);
        }
      }
      return group.map((q) => q.record.messageId);
    }
  }
  const plan = planFor(config, documents.length, sizes);
  const retry: string[] = [];
  const linked: GatheredRequest[] = [];
  await mapLimit(group, PARALLEL_REQUESTS, async (q, index) => {
    try {
      const moved = await transitionJob(clients, config, q.message.jobId, {
        from: 'GATHERING', to: 'SUBMITTED', set: { gatheredInto: sharedJobId, documentIndex: index, childIndex: childOf(plan.shares, index) },
      });
      // Not moved: linked already (a repeated message), nothing to do.
      if (moved) linked.push({ jobId: q.message.jobId, documentIndex: index, ...(q.deliver ? { deliver: true } : {}) });
    } catch {
      // Retry the request; its document may then be read twice, once in a job no request points at.
      retry.push(q.record.messageId);
    }
  });
  // The job tells each request when it finishes (the state handler reads this list); a redelivered
  // window links nothing new, so nothing is listed twice. Without the list, GET still answers.
  if (linked.length > 0) {
    await clients.ddb.send(new UpdateCommand({
      TableName: config.jobTable,
      Key: { jobId: sharedJobId },
      UpdateExpression: 'SET gatheredRequests = list_append(if_not_exists(gatheredRequests, :none), :linked)',
      ExpressionAttributeValues: { ':none': [], ':linked': linked.sort((a, b) => a.documentIndex - b.documentIndex) },
    })).catch((error: unknown) => log.warn('Could not list the requests on the gathered job', { jobId: sharedJobId, reason: (error as Error).message }));
  }
  return retry;
}
