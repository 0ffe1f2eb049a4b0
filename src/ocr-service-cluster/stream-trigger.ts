/**
 * Stream handler of OcrServiceCluster: hands PENDING documents to the service. The logic, with
 * `fetch` and the logger injected; `stream-trigger.lambda.ts` is the Lambda entry point.
 *
 * Invoked by the DynamoDB stream of the status table through an event source mapping whose
 * filter passes only (a) INSERTs whose status is PENDING (any case: producers may write `pending`)
 * and (b) MODIFYs from PROCESSING back to PENDING (a task handing work back on SIGTERM, or the
 * sweep re-driving an expired claim). For each such record it calls the service's
 * `POST /process` with `{ record: { document_id, bucket, key, status: 'PENDING', file_type } }`.
 *
 * The service claims the item with a conditional write (PENDING -> PROCESSING) and answers 202;
 * two hand-offs of the same document cannot both claim it. So this handler is at-least-once
 * and needs no idempotency store of its own.
 *
 * Outcome of one call:
 * - 2xx, or 409 (already claimed or finished): done.
 * - 400, 404, 413, 415, 422: permanent; the service records FAILED with a reason when it can
 *   identify the item. Retrying would not change the answer, so the record is not retried.
 * - anything else (408, 429, 5xx, network error, timeout): transient. The record is reported as
 *   a batch item failure; the event source mapping retries from it (bisecting the batch), a
 *   bounded number of times, then writes the batch to the S3 on-failure destination. The item
 *   itself stays PENDING in the table, where the sweep (when enabled) finds it again.
 */
import type { AttributeValue, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { OcrDocumentAttributes as A, OcrDocumentStatus, OcrDocumentStatuses, OcrServiceApi, OcrStreamHandlerEnvironment } from './contract';
import type { LogSink } from '../common/powertools';

/** The body of `POST /process`. */
export interface ProcessRequest {
  readonly record: {
    readonly document_id: string;
    readonly bucket?: string;
    readonly key?: string;
    readonly status: string;
    readonly file_type?: string;
  };
}

export type HandoffOutcome = 'accepted' | 'already-claimed' | 'rejected' | 'transient' | 'skipped';

/** Where the service is and how long one call may take (from the environment the construct sets). */
export interface HandoffSettings {
  /** Base URL of the service, without a trailing slash. */
  readonly serviceUrl: string;
  /** Timeout of one call, in milliseconds. */
  readonly timeoutMs: number;
}

export interface HandoffDependencies extends HandoffSettings {
  /** `fetch` (tests pass a fake). */
  readonly fetch: typeof globalThis.fetch;
  /** Structured logger (Powertools in Lambda). */
  readonly log: LogSink;
}

/** Status codes that mean "this record will never be accepted": do not retry. */
const PERMANENT_REJECTIONS = new Set([400, 404, 413, 415, 422]);

function stringAttribute(image: { [key: string]: AttributeValue } | undefined, name: string): string | undefined {
  const value = image?.[name];
  if (!value) return undefined;
  if (typeof value.S === 'string') return value.S;
  if (typeof value.N === 'string') return value.N;
  return undefined;
}

/**
 * Whether a stream record asks for a hand-off. The event source mapping filter already passes
 * only these; checking again keeps the handler correct if it is wired to an unfiltered stream.
 */
export function isHandoffRecord(record: DynamoDBRecord): boolean {
  const newStatus = OcrDocumentStatuses.normalize(stringAttribute(record.dynamodb?.NewImage, A.STATUS));
  if (newStatus !== OcrDocumentStatus.PENDING) return false;
  if (record.eventName === 'INSERT') return true;
  if (record.eventName === 'MODIFY') {
    const oldStatus = OcrDocumentStatuses.normalize(stringAttribute(record.dynamodb?.OldImage, A.STATUS));
    return oldStatus === OcrDocumentStatus.PROCESSING;
  }
  return false;
}

/** The `POST /process` body for a stream record, or undefined when it has no document id. */
export function processRequestOf(record: DynamoDBRecord): ProcessRequest | undefined {
  const image = record.dynamodb?.NewImage;
  const documentId = stringAttribute(image, A.DOCUMENT_ID) ?? stringAttribute(record.dynamodb?.Keys, A.DOCUMENT_ID);
  if (!documentId) return undefined;
  return {
    record: {
      document_id: documentId,
      bucket: stringAttribute(image, A.BUCKET),
      key: stringAttribute(image, A.KEY),
      // One vocabulary on the wire: the service never sees the lower-case spelling.
      status: OcrDocumentStatus.PENDING,
      file_type: stringAttribute(image, A.FILE_TYPE),
    },
  };
}

/** Call `POST /process` once and classify the answer. */
export async function handOff(request: ProcessRequest, deps: HandoffDependencies): Promise<HandoffOutcome> {
  const url = `${deps.serviceUrl}${OcrServiceApi.PROCESS_PATH}`;
  const documentId = request.record.document_id;
  let status: number;
  let reason = '';
  try {
    const response = await deps.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(deps.timeoutMs),
    });
    status = response.status;
    if (status >= 300) reason = (await response.text().catch(() => '')).slice(0, 500);
  } catch (e) {
    const error = e as Error;
    const timedOut = error.name === 'TimeoutError' || error.name === 'AbortError';
    deps.log.warn('hand-off failed; the record will be retried', {
      documentId, url, error: timedOut ? `timed out after ${deps.timeoutMs} ms` : `${error.name}: ${error.message}`,
    });
    return 'transient';
  }
  if (status >= 200 && status < 300) {
    deps.log.info('handed off', { documentId, status });
    return 'accepted';
  }
  if (status === 409) {
    deps.log.info('already claimed or finished by the service', { documentId, status });
    return 'already-claimed';
  }
  if (PERMANENT_REJECTIONS.has(status)) {
    deps.log.error('the service rejected the record; not retrying', { documentId, status, reason });
    return 'rejected';
  }
  deps.log.warn('the service could not take the record now; it will be retried', { documentId, status, reason });
  return 'transient';
}

/**
 * Hand off every eligible record of a batch, in stream order. At the first transient failure it
 * stops and reports that record: the mapping resumes from it, so later records are not handed
 * off twice now and redelivered later.
 */
export async function handleStreamEvent(event: DynamoDBStreamEvent, deps: HandoffDependencies): Promise<DynamoDBBatchResponse> {
  for (const record of event.Records ?? []) {
    if (!isHandoffRecord(record)) continue;
    const request = processRequestOf(record);
    if (!request) {
      deps.log.error('stream record without a document id; skipped', { eventID: record.eventID });
      continue;
    }
    const outcome = await handOff(request, deps);
    if (outcome === 'transient') {
      const sequenceNumber = record.dynamodb?.SequenceNumber;
      if (!sequenceNumber) throw new Error(`stream record ${record.eventID} has no sequence number`);
      return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
    }
  }
  return { batchItemFailures: [] };
}

/** Read and check the hand-off settings. */
export function handoffSettingsFromEnvironment(env: NodeJS.ProcessEnv): HandoffSettings {
  const serviceUrl = env[OcrStreamHandlerEnvironment.SERVICE_URL];
  if (!serviceUrl || !/^https?:\/\/[^/]+/.test(serviceUrl)) {
    throw new Error(`${OcrStreamHandlerEnvironment.SERVICE_URL} must be an http(s) URL, got '${serviceUrl ?? ''}'`);
  }
  const timeoutMs = Number(env[OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS] ?? '10000');
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) {
    throw new Error(`${OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS} must be an integer >= 100, got '${env[OcrStreamHandlerEnvironment.HANDOFF_TIMEOUT_MS]}'`);
  }
  return { serviceUrl: serviceUrl.replace(/\/+$/, ''), timeoutMs };
}
