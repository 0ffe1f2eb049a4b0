/**
 * Textract's text detection on the service: DetectDocumentText (one page, answered when done),
 * StartDocumentTextDetection and GetDocumentTextDetection (a document of the service, read with
 * Textract's paging). Requests and responses have the shapes of `@aws-sdk/client-textract`'s model.
 *
 * A Textract job is a document of the service: its JobId is the document id, so /status and
 * /result answer for it too.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { OcrResult } from '../result.ts';
import { ServiceError, type OcrService } from '../service/service.ts';
import { normalizeStatus } from '../service/stores.ts';
import { documentBlocks } from './blocks.ts';
import type { TextractDeliveries } from './completion.ts';
import { hasDeliveries, parseJobOptions } from './job-options.ts';
import { answerPage, finishedAnswer, MAX_RESULTS_LIMIT, offsetOf } from './paging.ts';
import { invalidParameter, TextractError } from './protocol.ts';

/** Textract's size limit for documents of its synchronous operations (Amazon Textract quotas: 10 MB). */
export const SYNC_DOCUMENT_LIMIT_BYTES = 10 * 1024 * 1024;
/** Textract's pattern for ClientRequestToken and JobId (1-64 characters). */
const TOKEN_PATTERN = /^[a-zA-Z0-9-_]{1,64}$/;

export interface S3ObjectRef { Bucket: string; Name: string }

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** `S3Object` of a request: Bucket and Name as Textract requires them. */
function s3ObjectOf(v: unknown, field: string): S3ObjectRef {
  if (!isObject(v)) throw invalidParameter(`${field} must be an object with Bucket and Name.`);
  const { Bucket, Name, Version } = v;
  if (typeof Bucket !== 'string' || Bucket.length < 1 || Bucket.length > 255) throw invalidParameter(`${field}.Bucket must be a bucket name (1-255 characters).`);
  if (typeof Name !== 'string' || Name.length < 1 || Name.length > 1024) throw invalidParameter(`${field}.Name must be an object key (1-1024 characters).`);
  if (Version !== undefined) throw invalidParameter(`${field}.Version is not supported here: the service reads the object's current version.`);
  return { Bucket, Name };
}

/**
 * Textract reads objects its caller may read; the service reads with its own role, so it reads only
 * its documents bucket for Textract's callers, whoever they are.
 */
function readableObject(service: OcrService, object: S3ObjectRef, field: string): S3ObjectRef {
  if (object.Bucket !== service.documentsBucket) {
    throw new TextractError('InvalidS3ObjectException', `${field}.Bucket '${object.Bucket}' is not readable here: use the service's documents bucket '${service.documentsBucket}'.`);
  }
  return object;
}

/** Engine error codes as Textract names them (what Textract answers for the same document). */
export function textractErrorOf(code: string, message: string): TextractError {
  switch (code) {
    case 'UNSUPPORTED_MEDIA_TYPE':
      return new TextractError('UnsupportedDocumentException', message);
    case 'TOO_LARGE':
      return new TextractError('DocumentTooLargeException', message);
    case 'INPUT_NOT_FOUND':
    case 'INPUT_UNREADABLE':
    case 'INVALID_LOCATION':
      return new TextractError('InvalidS3ObjectException', message);
    case 'WORKER_CRASHED':
    case 'INTERNAL_ERROR':
      return new TextractError('InternalServerError', message);
    default:
      // EMPTY_INPUT, INVALID_PDF, INVALID_IMAGE, PASSWORD_REQUIRED, INCORRECT_PASSWORD, NO_PAGES,
      // TIMEOUT, RESOURCE_LIMIT: the document cannot be read
      return new TextractError('BadDocumentException', message);
  }
}

/** The service's refusals as Textract's: busy and starting are throttling, which the SDK retries. */
function fromServiceError(err: unknown): unknown {
  if (!(err instanceof ServiceError)) return err;
  if (err.status === 503) return new TextractError('ThrottlingException', err.message);
  if (err.status === 413) return new TextractError('DocumentTooLargeException', err.message);
  if (err.status >= 500) return new TextractError('InternalServerError', err.message);
  if (err.error === 'MALFORMED_JSON' || err.error === 'MALFORMED_REQUEST') return invalidParameter(err.message);
  return textractErrorOf(err.error, err.message);
}

export class TextractApi {
  private readonly service: OcrService;
  private readonly deliveries: TextractDeliveries | undefined;

  /** Without `deliveries`, Start refuses NotificationChannel and OutputConfig. */
  constructor(service: OcrService, deliveries?: TextractDeliveries) {
    this.service = service;
    this.deliveries = deliveries;
  }

  async call(operation: string, body: Json): Promise<Json> {
    try {
      switch (operation) {
        case 'DetectDocumentText': return await this.detectDocumentText(body);
        case 'StartDocumentTextDetection': return await this.startDocumentTextDetection(body);
        default: return await this.getDocumentTextDetection(body);
      }
    } catch (err) {
      throw fromServiceError(err);
    }
  }

  /** One page, answered when it is read: Textract's synchronous operation. */
  private async detectDocumentText(body: Json): Promise<Json> {
    const doc = body.Document;
    if (!isObject(doc) || (doc.Bytes === undefined) === (doc.S3Object === undefined)) {
      throw invalidParameter('Document must have exactly one of Bytes or S3Object.');
    }
    // one page is read: a longer document is refused below, as Textract's synchronous API refuses it
    const options = { maxPages: 1 };
    let documentId: string;
    if (doc.Bytes !== undefined) {
      if (typeof doc.Bytes !== 'string') throw invalidParameter('Document.Bytes must be base64 text.');
      const bytes = Buffer.from(doc.Bytes, 'base64');
      if (bytes.length === 0) throw invalidParameter('Document.Bytes is empty.');
      if (bytes.length > SYNC_DOCUMENT_LIMIT_BYTES) {
        throw new TextractError('DocumentTooLargeException', `The document is ${bytes.length} bytes; DetectDocumentText takes at most ${SYNC_DOCUMENT_LIMIT_BYTES}.`);
      }
      ({ document_id: documentId } = await this.service.submitUpload({ bytes, fileName: 'document', options }));
    } else {
      const object = readableObject(this.service, s3ObjectOf(doc.S3Object, 'Document.S3Object'), 'Document.S3Object');
      await this.service.checkObject(object.Bucket, object.Name, SYNC_DOCUMENT_LIMIT_BYTES);
      ({ document_id: documentId } = await this.service.submitObject({ bucket: object.Bucket, key: object.Name, options, maxDocumentBytes: SYNC_DOCUMENT_LIMIT_BYTES }));
    }
    const settled = await this.service.whenSettled(documentId, (this.service.config.requestTimeoutSeconds - 2) * 1000);
    if (!settled) throw new TextractError('ThrottlingException', 'The document was not read in time; retry.');
    const result = await this.resultOf(documentId);
    if (!result) throw new TextractError('InternalServerError', 'The document could not be processed; retry.');
    if (result.status === 'FAILED' && result.error) throw textractErrorOf(result.error.code, result.error.message);
    if (result.pageCount > 1) {
      throw new TextractError('UnsupportedDocumentException', `The document has ${result.pageCount} pages; DetectDocumentText reads single-page documents (use StartDocumentTextDetection).`);
    }
    const page = result.pages[0];
    if (page?.error) throw textractErrorOf(page.error.code, page.error.message);
    return {
      DocumentMetadata: { Pages: 1 },
      Blocks: documentBlocks(documentId, result.pages),
      DetectDocumentTextModelVersion: result.engine.version,
    };
  }

  private async startDocumentTextDetection(body: Json): Promise<Json> {
    const location = body.DocumentLocation;
    if (!isObject(location)) throw invalidParameter('DocumentLocation with S3Object is required.');
    const object = readableObject(this.service, s3ObjectOf(location.S3Object, 'DocumentLocation.S3Object'), 'DocumentLocation.S3Object');
    const token = body.ClientRequestToken;
    if (token !== undefined && (typeof token !== 'string' || !TOKEN_PATTERN.test(token))) {
      throw invalidParameter('ClientRequestToken must be 1-64 letters, digits, - or _.');
    }
    if (!this.deliveries) {
      for (const field of ['NotificationChannel', 'OutputConfig'] as const) {
        if (body[field] !== undefined) throw invalidParameter(`${field} is not supported by this service: read the results with GetDocumentTextDetection.`);
      }
    }
    const options = parseJobOptions(body, this.deliveries?.destinations ?? { notificationTopics: [], outputBuckets: [], documentsBucket: this.service.documentsBucket, resultsPrefix: '' });
    // the same token names the same job (Textract's idempotency); a job id from a hash of it
    const jobId = typeof token === 'string' ? createHash('sha256').update(`textract-token:${token}`).digest('hex') : randomUUID();
    // an output location that takes no writes is refused now, before the job exists
    await this.deliveries?.checkOutputAccess(jobId, options);
    const textractJob = hasDeliveries(options) || options.jobTag !== undefined ? JSON.stringify(options) : undefined;
    // a missing, unreadable or oversized object is refused by Start, as Textract refuses it; a retry
    // of a Start that was taken (its token names a job) answers with that job, whatever the object is now
    if (typeof token !== 'string' || !(await this.jobExists(jobId))) await this.service.checkObject(object.Bucket, object.Name);
    try {
      await this.service.submitObject({ bucket: object.Bucket, key: object.Name, documentId: jobId, ...(textractJob !== undefined ? { textractJob } : {}) });
    } catch (err) {
      if (!(err instanceof ServiceError && err.error === 'DUPLICATE_DOCUMENT_ID')) throw err;
      const item = await this.service.getItem(jobId);
      if (item.bucket !== object.Bucket || item.key !== object.Name) {
        throw new TextractError('IdempotentParameterMismatchException', 'ClientRequestToken was used before with another DocumentLocation.');
      }
      if (item.textract_job !== textractJob) {
        throw new TextractError('IdempotentParameterMismatchException', 'ClientRequestToken was used before with another JobTag, NotificationChannel or OutputConfig.');
      }
    }
    return { JobId: jobId };
  }

  private async jobExists(jobId: string): Promise<boolean> {
    try {
      await this.service.getItem(jobId);
      return true;
    } catch (err) {
      if (err instanceof ServiceError && err.status === 404) return false;
      throw err;
    }
  }

  private async getDocumentTextDetection(body: Json): Promise<Json> {
    const jobId = body.JobId;
    if (typeof jobId !== 'string' || !TOKEN_PATTERN.test(jobId)) throw invalidParameter('JobId must be 1-64 letters, digits, - or _.');
    const max = body.MaxResults;
    if (max !== undefined && (!Number.isInteger(max) || (max as number) < 1)) throw invalidParameter('MaxResults must be a positive integer.');
    const pageSize = Math.min((max as number | undefined) ?? MAX_RESULTS_LIMIT, MAX_RESULTS_LIMIT);
    let item;
    try {
      item = await this.service.getItem(jobId);
    } catch (err) {
      if (err instanceof ServiceError && err.status === 404) throw new TextractError('InvalidJobIdException', `No job with id '${jobId}'.`);
      throw err;
    }
    const offset = offsetOf(body.NextToken, jobId);
    const status = normalizeStatus(item.status);
    if (status === 'PENDING' || status === 'PROCESSING') return { JobStatus: 'IN_PROGRESS' };
    // the whole answer, then the page of blocks this call asked for
    return answerPage(finishedAnswer(jobId, await this.resultOf(jobId), item), jobId, offset, pageSize);
  }

  private async resultOf(documentId: string): Promise<OcrResult | undefined> {
    try {
      const out = await this.service.getResult(documentId);
      return out.httpStatus === 200 ? out.body as OcrResult : undefined;
    } catch (err) {
      if (err instanceof ServiceError && err.error === 'NO_RESULT') return undefined;
      throw err;
    }
  }
}
