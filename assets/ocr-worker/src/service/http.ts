/**
 * The HTTP API on node:http (no framework: seven routes). Bodies are streamed and size-limited
 * (busboy for multipart); a request that is not fully received within OCR_REQUEST_TIMEOUT_SECONDS
 * gets 408 and its socket is closed, so a slow client only holds its own socket, never an OCR worker.
 *
 *   POST /extract            multipart (file + optional document_id, options) or JSON { bucket?, key, document_id?, options? } → 202
 *   POST /process            { record: { document_id, bucket, key, status, file_type } } (stream hand-off) → 202 | 200
 *   GET  /check-status/{id}  status summary          GET /status/{id}  the same
 *   GET  /result/{id}        result JSON (200) | not ready (202); ?format=pdf|hocr the searchable PDF or hOCR asked for with option outputs
 *   GET  /health             200 { status: 'ok', workers } when warm and not shutting down, else 503
 *   POST /                   with X-Amz-Target: Textract.*: Amazon Textract's text detection (../textract/)
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import busboy from 'busboy';
import { parseRequestOptions, ServiceError, type OcrService } from './service.ts';
import type { TextractDeliveries } from '../textract/completion.ts';
import { SYNC_DOCUMENT_LIMIT_BYTES, TextractApi } from '../textract/operations.ts';
import { operationOf, TEXTRACT_CONTENT_TYPE, TextractError } from '../textract/protocol.ts';
import type { Tracing } from './tracing.ts';

const JSON_BODY_LIMIT = 64 * 1024;
/** Room for multipart headers and fields around the file itself. */
const MULTIPART_OVERHEAD = 1024 * 1024;

function writeJsonHead(res: ServerResponse, status: number, data: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(data)), 'cache-control': 'no-store', ...headers });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const data = JSON.stringify(body);
  writeJsonHead(res, status, data, headers);
  res.end(data);
}

function errorHeaders(err: ServiceError, closeConnection: boolean): Record<string, string> {
  const headers: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) headers['retry-after'] = String(err.retryAfterSeconds);
  if (closeConnection) headers.connection = 'close';
  return headers;
}

function sendError(res: ServerResponse, err: ServiceError, closeConnection = false): void {
  send(res, err.status, { error: err.error, message: err.message }, errorHeaders(err, closeConnection));
}

function writeTextractHead(res: ServerResponse, status: number, data: string, headers: Record<string, string>): void {
  res.writeHead(status, { 'content-type': TEXTRACT_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(data)), 'x-amzn-requestid': randomUUID(), ...headers });
}

function textractErrorHeaders(err: TextractError): Record<string, string> {
  return { 'x-amzn-errortype': err.type };
}

function sendTextractError(res: ServerResponse, err: TextractError): void {
  if (res.headersSent) return;
  const data = JSON.stringify(err.body());
  writeTextractHead(res, err.status, data, textractErrorHeaders(err));
  res.end(data);
}

/**
 * Refuses a request whose body is still arriving (too large, malformed, refused before it was read).
 * The answer is written at once, complete by its Content-Length, with `Connection: close`. Closing
 * while body bytes still arrive makes the kernel reset the connection, and a client still sending
 * (Node's fetch among them) would see ECONNRESET or EPIPE instead of the answer: so the rest of the
 * body is read and dropped, up to `drainLimit` bytes, and the socket closed when it has all arrived.
 * Beyond `drainLimit` reading stops: a client that has the answer drops the connection itself, and
 * the request bound (createHttpServer) closes it for one that does not.
 */
function refuseBeforeBody(req: IncomingMessage, res: ServerResponse, err: ServiceError | TextractError, drainLimit: number): void {
  // a client that dropped the connection gets no answer
  if (res.headersSent || req.destroyed) return;
  const data = JSON.stringify(err instanceof TextractError ? err.body() : { error: err.error, message: err.message });
  if (err instanceof TextractError) writeTextractHead(res, err.status, data, { ...textractErrorHeaders(err), connection: 'close' });
  else writeJsonHead(res, err.status, data, errorHeaders(err, true));
  res.write(data);
  let drained = 0;
  const close = (): void => {
    req.off('data', onData);
    // Connection: close: Node closes the socket once the (already written) answer is flushed
    if (!res.writableEnded) res.end();
  };
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > drainLimit) {
      req.off('data', onData);
      req.pause();
    }
  };
  req.on('data', onData);
  req.once('end', close);
  req.once('close', close);
  req.resume();
}

/** Reads a whole body up to `limit` bytes; beyond it → 413 (the refusal drops the rest, see refuseBeforeBody). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new ServiceError(413, 'PAYLOAD_TOO_LARGE', `The request body is ${declared} bytes; the limit is ${limit} bytes.`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new ServiceError(413, 'PAYLOAD_TOO_LARGE', `The request body exceeds the limit of ${limit} bytes.`));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req, JSON_BODY_LIMIT);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ServiceError(400, 'MALFORMED_JSON', `The body is not valid JSON: ${(err as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ServiceError(400, 'MALFORMED_REQUEST', 'The body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

function mediaTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

interface Upload { bytes: Buffer; fileName: string; fields: Record<string, string> }

/** Streams a multipart body: exactly one file part (any field name), fields up to 64 KiB. */
function readMultipart(req: IncomingMessage, maxFileBytes: number): Promise<Upload> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxFileBytes + MULTIPART_OVERHEAD) {
      reject(new ServiceError(413, 'PAYLOAD_TOO_LARGE', `The request body is ${declared} bytes; documents may be at most ${maxFileBytes} bytes.`));
      return;
    }
    let bb: busboy.Busboy;
    try {
      bb = busboy({ headers: req.headers, limits: { fileSize: maxFileBytes, files: 1, fields: 20, fieldSize: 64 * 1024, parts: 32, headerPairs: 100 } });
    } catch (err) {
      reject(new ServiceError(400, 'MALFORMED_MULTIPART', `Cannot parse the multipart body: ${(err as Error).message}`));
      return;
    }
    const fields: Record<string, string> = {};
    let file: { chunks: Buffer[]; name: string } | null = null;
    let failed = false;
    const fail = (err: ServiceError): void => {
      if (failed) return;
      failed = true;
      req.unpipe(bb);
      req.pause();
      reject(err);
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new ServiceError(413, 'PAYLOAD_TOO_LARGE', `Field '${name}' exceeds 64 KiB.`));
      else fields[name] = value;
    });
    bb.on('file', (_name, stream, info) => {
      const current = { chunks: [] as Buffer[], name: info.filename || 'document' };
      file = current;
      stream.on('data', (c: Buffer) => current.chunks.push(c));
      // busboy fails the file stream too when the body ends inside it (no closing boundary): without
      // this listener that error would end the process
      stream.on('error', (err: Error) => fail(new ServiceError(400, 'MALFORMED_MULTIPART', `Cannot parse the multipart body: ${err.message}`)));
      stream.on('limit', () => fail(new ServiceError(413, 'PAYLOAD_TOO_LARGE', `The document exceeds the limit of ${maxFileBytes} bytes.`)));
    });
    bb.on('filesLimit', () => fail(new ServiceError(400, 'MALFORMED_REQUEST', 'Send exactly one file per request.')));
    bb.on('fieldsLimit', () => fail(new ServiceError(400, 'MALFORMED_REQUEST', 'Too many fields.')));
    bb.on('partsLimit', () => fail(new ServiceError(400, 'MALFORMED_REQUEST', 'Too many parts.')));
    bb.on('error', (err: Error) => fail(new ServiceError(400, 'MALFORMED_MULTIPART', `Cannot parse the multipart body: ${err.message}`)));
    bb.on('close', () => {
      if (failed) return;
      if (!file) { fail(new ServiceError(400, 'MISSING_FILE', "The multipart body has no file part (send it as -F file=@document.pdf).")); return; }
      resolve({ bytes: Buffer.concat((file as { chunks: Buffer[] }).chunks), fileName: (file as { name: string }).name, fields });
    });
    req.on('error', (err) => fail(new ServiceError(400, 'MALFORMED_REQUEST', err.message)));
    req.pipe(bb);
  });
}

function optionsFromFields(fields: Record<string, string>, languages: string) {
  let raw: Record<string, unknown> = {};
  if (fields.options !== undefined) {
    try { raw = JSON.parse(fields.options); } catch { throw new ServiceError(400, 'INVALID_OPTIONS', "Field 'options' must be a JSON object."); }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ServiceError(400, 'INVALID_OPTIONS', "Field 'options' must be a JSON object.");
  }
  for (const [field, option] of [['languages', 'languages'], ['dpi', 'dpi'], ['pages', 'pages'], ['max_pages', 'maxPages'], ['maxPages', 'maxPages'], ['force_ocr', 'forceOcr'], ['forceOcr', 'forceOcr'], ['outputs', 'outputs'], ['geometry', 'geometry']] as const) {
    if (fields[field] !== undefined) raw[option] = fields[field];
  }
  return parseRequestOptions(raw, languages);
}

async function extract(service: OcrService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const type = mediaTypeOf(req);
  if (type === 'multipart/form-data') {
    const upload = await readMultipart(req, service.config.maxDocumentBytes);
    const documentId = upload.fields.document_id || undefined;
    const options = optionsFromFields(upload.fields, service.config.languages);
    const accepted = await service.submitUpload({ bytes: upload.bytes, fileName: upload.fileName, documentId, options });
    send(res, 202, { ...accepted, status_url: `/check-status/${accepted.document_id}`, result_url: `/result/${accepted.document_id}` }, { location: `/check-status/${accepted.document_id}` });
    return;
  }
  if (type === 'application/json') {
    const body = await readJson(req);
    if (typeof body.key !== 'string' || !body.key) throw new ServiceError(400, 'MALFORMED_REQUEST', "JSON /extract needs 'key' (and optionally 'bucket', 'document_id', 'options'); to upload a file use multipart/form-data.");
    if (body.bucket !== undefined && (typeof body.bucket !== 'string' || !body.bucket)) throw new ServiceError(400, 'MALFORMED_REQUEST', "'bucket' must be a non-empty string.");
    if (body.document_id !== undefined && typeof body.document_id !== 'string') throw new ServiceError(400, 'INVALID_DOCUMENT_ID', "'document_id' must be a string.");
    const options = parseRequestOptions(body.options, service.config.languages);
    const accepted = await service.submitObject({ bucket: body.bucket as string | undefined, key: body.key, documentId: body.document_id as string | undefined, options });
    send(res, 202, { ...accepted, status_url: `/check-status/${accepted.document_id}`, result_url: `/result/${accepted.document_id}` }, { location: `/check-status/${accepted.document_id}` });
    return;
  }
  throw new ServiceError(415, 'UNSUPPORTED_CONTENT_TYPE', `POST /extract takes multipart/form-data (a file) or application/json (an S3 object), not '${type || 'none'}'.`);
}

async function processRecord(service: OcrService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (mediaTypeOf(req) !== 'application/json') throw new ServiceError(415, 'UNSUPPORTED_CONTENT_TYPE', 'POST /process takes application/json.');
  const body = await readJson(req);
  const record = body.record as Record<string, unknown> | undefined;
  if (!record || typeof record !== 'object' || Array.isArray(record)) throw new ServiceError(400, 'MALFORMED_REQUEST', "The body must be { \"record\": { \"document_id\": ..., \"bucket\": ..., \"key\": ... } }.");
  if (typeof record.document_id !== 'string') throw new ServiceError(400, 'MALFORMED_REQUEST', "record.document_id must be a string.");
  for (const f of ['bucket', 'key', 'file_type', 'status'] as const) {
    if (record[f] !== undefined && record[f] !== null && typeof record[f] !== 'string') throw new ServiceError(400, 'MALFORMED_REQUEST', `record.${f} must be a string.`);
  }
  const out = await service.processRecord({
    document_id: record.document_id,
    bucket: (record.bucket as string | undefined) || undefined,
    key: (record.key as string | undefined) || undefined,
    file_type: (record.file_type as string | undefined) || undefined,
  });
  send(res, out.httpStatus, out.body);
}

/** Base64 makes a document a third larger; room for the JSON around it. */
const TEXTRACT_BODY_LIMIT = Math.ceil((SYNC_DOCUMENT_LIMIT_BYTES * 4) / 3) + JSON_BODY_LIMIT;

/** `POST /` with `X-Amz-Target: Textract.*`: Textract's text detection, its errors in Textract's shape. */
async function textract(service: OcrService, req: IncomingMessage, res: ServerResponse, deliveries: TextractDeliveries | undefined): Promise<void> {
  try {
    const operation = operationOf(req.headers['x-amz-target'] as string);
    const type = mediaTypeOf(req);
    if (type !== TEXTRACT_CONTENT_TYPE && type !== 'application/json') {
      throw new TextractError('InvalidParameterException', `Textract requests are ${TEXTRACT_CONTENT_TYPE}, not '${type || 'none'}'.`);
    }
    const body = await readBody(req, TEXTRACT_BODY_LIMIT).catch((err: unknown) => {
      throw err instanceof ServiceError && err.status === 413 ? new TextractError('DocumentTooLargeException', err.message) : err;
    });
    let parsed: unknown;
    try { parsed = JSON.parse(body.toString('utf8')); } catch { parsed = undefined; }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new TextractError('InvalidParameterException', 'The body must be a JSON object.');
    const answer = JSON.stringify(await new TextractApi(service, deliveries).call(operation, parsed as Record<string, unknown>));
    writeTextractHead(res, 200, answer, {});
    res.end(answer);
  } catch (err) {
    if (err instanceof TextractError) throw err;
    if (err instanceof ServiceError) throw new TextractError(err.status >= 500 ? 'InternalServerError' : 'InvalidParameterException', err.message);
    throw err;
  }
}

const ID_ROUTE = /^\/(check-status|status|result)\/([^/]+)$/;

async function route(service: OcrService, req: IncomingMessage, res: ServerResponse, deliveries: TextractDeliveries | undefined): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  if (path === '/health') {
    if (method !== 'GET' && method !== 'HEAD') throw new ServiceError(405, 'METHOD_NOT_ALLOWED', 'Use GET /health.');
    if (service.isHealthy()) send(res, 200, { status: 'ok', workers: service.config.workers, inFlight: service.inFlight });
    else send(res, 503, { status: service.state === 'starting' ? 'starting' : 'shutting-down', workers: service.config.workers }, { 'retry-after': '5' });
    return;
  }
  if (path === '/' && method === 'POST' && typeof req.headers['x-amz-target'] === 'string') {
    await textract(service, req, res, deliveries);
    return;
  }
  if (path === '/extract' || path === '/process') {
    if (method !== 'POST') throw new ServiceError(405, 'METHOD_NOT_ALLOWED', `Use POST ${path}.`);
    if (path === '/extract') await extract(service, req, res);
    else await processRecord(service, req, res);
    return;
  }
  const m = ID_ROUTE.exec(path);
  if (m) {
    if (method !== 'GET') throw new ServiceError(405, 'METHOD_NOT_ALLOWED', `Use GET /${m[1]}/{document_id}.`);
    let id: string;
    try { id = decodeURIComponent(m[2]); } catch { throw new ServiceError(400, 'INVALID_DOCUMENT_ID', 'The document id is not valid URL encoding.'); }
    if (m[1] === 'result') {
      const format = new URLSearchParams((req.url ?? '').split('?')[1] ?? '').get('format') ?? 'json';
      if (format !== 'json' && format !== 'pdf' && format !== 'hocr') throw new ServiceError(400, 'INVALID_FORMAT', `format must be json, pdf or hocr, got '${format}'.`);
      const out = await service.getResult(id, format);
      if (out.bytes) {
        res.writeHead(200, { 'content-type': out.contentType!, 'content-length': String(out.bytes.byteLength), 'cache-control': 'no-store' });
        res.end(out.bytes);
        return;
      }
      send(res, out.httpStatus, out.body, out.httpStatus === 202 ? { 'retry-after': '2' } : {});
    } else {
      send(res, 200, await service.getStatus(id));
    }
    return;
  }
  throw new ServiceError(404, 'NO_SUCH_ROUTE', `No route ${method} ${path}. Routes: POST /extract, POST /process, GET /check-status/{id}, GET /status/{id}, GET /result/{id}, GET /health.`);
}

export interface HttpServerOptions {
  log?: (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** OpenTelemetry: a SERVER span per request, the parent of the work it starts. */
  tracing?: Tracing;
  /** Textract's NotificationChannel and OutputConfig; without it Start refuses them. */
  textractDeliveries?: TextractDeliveries;
}

export function createHttpServer(service: OcrService, opts: HttpServerOptions = {}): Server {
  const log = opts.log ?? (() => undefined);
  const requestTimeoutMs = service.config.requestTimeoutSeconds * 1000;
  // a refused body is read and dropped up to the size of the largest request the service accepts
  const drainLimit = service.config.maxDocumentBytes + MULTIPART_OVERHEAD;
  // check request deadlines every second (Node's default is every 30 s)
  const tracing = opts.tracing;
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    // bound on our own handling too (a stalled store call): 503 and close the socket
    const timer = setTimeout(() => {
      if (!res.headersSent) {
        const stillReceiving = !req.readableEnded;
        sendError(res, stillReceiving
          ? new ServiceError(408, 'REQUEST_TIMEOUT', `The request body did not arrive within ${service.config.requestTimeoutSeconds} s.`)
          : new ServiceError(503, 'REQUEST_TIMEOUT', `The request took longer than ${service.config.requestTimeoutSeconds} s.`, 5), true);
        res.on('finish', () => req.destroy());
      } else {
        req.destroy();
      }
    }, requestTimeoutMs);
    res.on('close', () => clearTimeout(timer));
    // a client that goes away mid-request fails these streams; an 'error' event without a listener
    // would end the process, and every document in it with it
    req.on('error', (err) => log('info', 'request stream failed', { method: req.method, url: req.url, error: err.message }));
    res.on('error', (err) => log('info', 'response stream failed', { method: req.method, url: req.url, error: err.message }));
    if (service.state === 'draining' || service.state === 'stopped') res.setHeader('connection', 'close');
    const refuse = (err: ServiceError | TextractError): void => {
      // req.complete: the whole request has arrived (Node drops an unread rest and keeps the connection)
      if (!req.complete) refuseBeforeBody(req, res, err, drainLimit);
      else if (err instanceof TextractError) sendTextractError(res, err);
      else sendError(res, err);
    };
    route(service, req, res, opts.textractDeliveries).catch((err: unknown) => {
      if (err instanceof ServiceError || err instanceof TextractError) {
        refuse(err);
        return;
      }
      log('error', 'request failed', { method: req.method, url: req.url, error: err instanceof Error ? err.stack : String(err) });
      refuse(req.headers['x-amz-target'] !== undefined
        ? new TextractError('InternalServerError', 'The request failed; see the service log.')
        : new ServiceError(500, 'INTERNAL_ERROR', 'The request failed; see the service log.'));
    });
  };
  const server = createServer({ connectionsCheckingInterval: 1000 }, tracing ? (req, res) => tracing.traceRequest(req, res, () => handle(req, res)) : handle);
  // Node answers 408 and closes the socket when the whole request (body included) takes longer
  server.requestTimeout = requestTimeoutMs;
  server.headersTimeout = Math.min(requestTimeoutMs, 20_000);
  // above the load balancer's idle timeout (60 s), so the ALB never reuses a connection we closed
  server.keepAliveTimeout = 65_000;
  // after listening, e.g. EMFILE on accept: logged, and the server keeps serving the sockets it has
  server.on('error', (err) => log('error', 'server error', { error: err.message }));
  return server;
}
