/**
 * AWS Batch entry point (the image's default command). Configuration from the environment (see
 * README.md): reads one document (OCR_INPUT_KEY) or this child's share of a manifest
 * (OCR_MANIFEST_KEY + AWS_BATCH_JOB_ARRAY_INDEX), writes results under
 * ${OCR_OUTPUT_PREFIX}${OCR_JOB_ID}/results/NNNNN.json|.txt and then a child summary.
 *
 * Exit codes: 0 every document has a result; 1 configuration error; 70 unexpected error (a bug: not
 * retried); 75 transient infrastructure failure (retried); 143 SIGTERM (stopped cleanly, no summary).
 * The construct's job definition retries exit 75 only (retryStrategy.evaluateOnExit).
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createEngine, EngineInfrastructureError, failedResult, type Engine, type EngineOptions } from './engine.ts';
import { oneAhead } from './one-ahead.ts';
import { missingLanguageData } from './paths.ts';
import { isAccessDenied, isNotFound } from './s3-errors.ts';
import { availableCpus, DEFAULTS, parseBackendEnvironment, OUTPUT_CONTENT_TYPES, OUTPUT_FORMATS, parseOutputs, type DocumentOptions, type OcrEngineName, type OutputFormat, type PdfRendererName } from './options.ts';
import { outputBytes } from './engine-result.ts';
import { responsePageCount, responsePages, textractResponse, type TextractResponse } from './textract/response.ts';
import type { OcrResult } from './result.ts';
import { BATCH_ENV, batchOutputKey, batchResultKeys, batchSummaryKey, batchTextractPageKey, COMMON_ENV, EXIT, PLATFORM_ENV, RESULT_LAYOUT } from './contract.ts';

export { EXIT };

export interface BatchConfig {
  inputBucket: string;
  outputBucket: string;
  outputPrefix: string;
  jobId: string;
  inputKey: string | null;
  manifestKey: string | null;
  arrayIndex: number | null;
  options: Required<Pick<DocumentOptions, 'languages' | 'dpi'>> & { maxPages: number | null };
  workers: number;
  /** OCR_ENGINE: 'tesseract.js' (default) or 'tesseract' (native; the image built with that engine). */
  ocrEngine: OcrEngineName;
  /** OCR_PDF_RENDERER: 'pdf.js' or 'poppler'; default poppler with the native backend (whose image has it), else pdf.js. */
  pdfRenderer: PdfRendererName;
  timeoutSeconds: number;
  memoryMb: number;
  maxDocumentBytes: number;
  metricsNamespace: string;
  metricsService: string;
}

export class ConfigError extends Error {}
/** S3 or another dependency failed in a way that passes: Batch should retry the job. */
export class InfraError extends Error {}

/** Error names of throttling and timeouts (the SDK's and S3's own), after the SDK's retries ran out. */
const TRANSIENT_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'SlowDown', 'RequestTimeout', 'RequestTimeoutException', 'TimeoutError']);
/** Node's socket and DNS errors: the network, not the request. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * A failure that a later attempt can get past: throttling, a timeout, the network, or a 5xx from S3.
 * Anything else (a 4xx S3 refuses again, a TypeError, unparsable JSON) fails the same way on every
 * attempt, so retrying it only spends the job's attempts.
 */
export function isTransient(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  return TRANSIENT_NAMES.has(e?.name ?? '') || NETWORK_CODES.has(e?.code ?? '');
}

/** The error to throw for a failed S3 step: an InfraError (retried) only if the failure is transient. */
function s3Failure(message: string, err: unknown): Error {
  const text = `${message}: ${(err as Error)?.message ?? String(err)}`;
  return isTransient(err) ? new InfraError(text) : new Error(text, { cause: err });
}

function intEnv(env: NodeJS.ProcessEnv, name: string, def: number | null, min = 1): number | null {
  const v = env[name];
  if (v === undefined || v === '') return def;
  if (!/^\d+$/.test(v.trim()) || Number(v) < min) throw new ConfigError(`${name} must be an integer >= ${min}, got '${v}'.`);
  return Number(v);
}

export function parseConfig(env: NodeJS.ProcessEnv): BatchConfig {
  const need = (n: string): string => {
    const v = env[n];
    if (!v) throw new ConfigError(`${n} is required.`);
    return v;
  };
  const inputKey = env[BATCH_ENV.INPUT_KEY] || null;
  const manifestKey = env[BATCH_ENV.MANIFEST_KEY] || null;
  if ((inputKey ? 1 : 0) + (manifestKey ? 1 : 0) !== 1) throw new ConfigError('Set exactly one of OCR_INPUT_KEY and OCR_MANIFEST_KEY.');
  let prefix = env[BATCH_ENV.OUTPUT_PREFIX] ?? 'results/';
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  const languages = env[COMMON_ENV.LANGUAGES] || DEFAULTS.languages;
  if (!/^[A-Za-z_]+(\+[A-Za-z_]+)*$/.test(languages)) throw new ConfigError(`OCR_LANGUAGES must look like 'eng' or 'eng+deu', got '${languages}'.`);
  const dpi = intEnv(env, BATCH_ENV.DPI, DEFAULTS.dpi, 50)!;
  if (dpi > 1200) throw new ConfigError('OCR_DPI must be <= 1200.');
  const arrayIndex = intEnv(env, PLATFORM_ENV.BATCH_JOB_ARRAY_INDEX, null, 0);
  let backend: ReturnType<typeof parseBackendEnvironment>;
  try { backend = parseBackendEnvironment(env); } catch (err) { throw new ConfigError((err as Error).message); }
  return {
    inputBucket: need(BATCH_ENV.INPUT_BUCKET),
    outputBucket: need(BATCH_ENV.OUTPUT_BUCKET),
    outputPrefix: prefix,
    jobId: need(BATCH_ENV.JOB_ID),
    inputKey,
    manifestKey,
    arrayIndex,
    options: { languages, dpi, maxPages: intEnv(env, BATCH_ENV.MAX_PAGES, null) },
    workers: intEnv(env, COMMON_ENV.WORKERS, null) ?? availableCpus(),
    ...backend,
    timeoutSeconds: intEnv(env, COMMON_ENV.DOC_TIMEOUT_SECONDS, DEFAULTS.timeoutSeconds)!,
    memoryMb: intEnv(env, COMMON_ENV.DOC_MEMORY_MB, DEFAULTS.memoryMb, 64)!,
    maxDocumentBytes: intEnv(env, COMMON_ENV.MAX_DOCUMENT_BYTES, DEFAULTS.maxDocumentBytes)!,
    metricsNamespace: env[COMMON_ENV.METRICS_NAMESPACE] || 'CdkOcrConstructs',
    metricsService: env[COMMON_ENV.METRICS_SERVICE] || 'ocr-worker',
  };
}

/** One array child's share of the manifest: documents `[first, first + count)`. */
export interface ChildShare { first: number; count: number }

export interface Manifest {
  schemaVersion: 1;
  jobId?: string;
  documents: Array<{ key: string }>;
  /** Array jobs: child i processes `children[i]` (its share, sized by the documents' bytes when submitted). */
  children?: ChildShare[];
  /** Manifests written before `children`: child i processes `[i*chunkSize, (i+1)*chunkSize)`. */
  chunkSize?: number;
  options?: { languages?: string; dpi?: number; maxPages?: number | null; password?: string | null; outputs?: BatchOutputFormat[]; geometry?: boolean };
}

/**
 * A Batch job's outputs: the engine's (`json`, `pdf`, `hocr`) and `textract`, Amazon Textract's
 * GetDocumentTextDetection response for the document (`NNNNN.textract.json`), made from the JSON
 * result by the worker, so that whoever answers Textract's API for the job only reads it.
 */
export type BatchOutputFormat = OutputFormat | 'textract';
export const BATCH_OUTPUT_FORMATS: readonly BatchOutputFormat[] = [...OUTPUT_FORMATS, 'textract'];

/** `outputs` of a manifest: the engine's formats (the JSON result at least) and whether `textract` is asked for. */
export function parseBatchOutputs(value: unknown): { engine: OutputFormat[]; textract: boolean } {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && (BATCH_OUTPUT_FORMATS as readonly string[]).includes(v))) {
    throw new ConfigError(`Manifest options.outputs must be a non-empty list out of ${BATCH_OUTPUT_FORMATS.map((f) => `'${f}'`).join(', ')}.`);
  }
  const engine = (value as BatchOutputFormat[]).filter((f): f is OutputFormat => f !== 'textract');
  return { engine: parseOutputs(engine.length > 0 ? engine : ['json'], 'Manifest options.outputs'), textract: value.includes('textract') };
}

export function parseManifest(text: string): Manifest {
  let m: any;
  try { m = JSON.parse(text); } catch (err) { throw new ConfigError(`Manifest is not JSON: ${(err as Error).message}`); }
  if (!m || m.schemaVersion !== 1) throw new ConfigError('Manifest schemaVersion must be 1.');
  if (!Array.isArray(m.documents) || m.documents.some((d: any) => !d || typeof d.key !== 'string' || !d.key)) {
    throw new ConfigError('Manifest documents must be an array of { "key": "..." }.');
  }
  if (m.chunkSize !== undefined && !(Number.isInteger(m.chunkSize) && m.chunkSize >= 1)) throw new ConfigError('Manifest chunkSize must be an integer >= 1.');
  if (m.children !== undefined) {
    if (!Array.isArray(m.children)) throw new ConfigError('Manifest children must be an array of { "first": i, "count": n }.');
    m.children.forEach((c: any, i: number) => {
      const valid = c && Number.isInteger(c.first) && Number.isInteger(c.count) && c.first >= 0 && c.count >= 1 && c.first + c.count <= m.documents.length;
      if (!valid) throw new ConfigError(`Manifest children[${i}] must be { "first": i, "count": n } within the ${m.documents.length} documents, got ${JSON.stringify(c)}.`);
    });
  }
  if (m.options?.outputs !== undefined) {
    parseBatchOutputs(m.options.outputs);
  }
  if (m.options?.geometry !== undefined && typeof m.options.geometry !== 'boolean') throw new ConfigError('Manifest options.geometry must be true or false.');
  return m as Manifest;
}

/**
 * Zero-based manifest indexes this child processes: all of them without an array index (a plain
 * job), else the child's share from `children`, or from `chunkSize` in manifests written before it.
 */
export function shareOf(manifest: Pick<Manifest, 'documents' | 'children' | 'chunkSize'>, arrayIndex: number | null): number[] {
  const total = manifest.documents.length;
  const range = (first: number, end: number): number[] => Array.from({ length: Math.max(0, end - first) }, (_, i) => first + i);
  if (arrayIndex === null) return range(0, total);
  if (manifest.children) {
    const share = manifest.children[arrayIndex];
    // the array is sized from this list when submitted: a child without a share means they disagree
    if (!share) throw new ConfigError(`Array index ${arrayIndex} has no share in the manifest (${manifest.children.length} children).`);
    return range(share.first, share.first + share.count);
  }
  const size = manifest.chunkSize ?? 1;
  return range(arrayIndex * size, Math.min(total, (arrayIndex + 1) * size));
}

export function keysFor(cfg: Pick<BatchConfig, 'outputPrefix' | 'jobId'>, index: number): { json: string; txt: string } {
  return batchResultKeys(cfg.outputPrefix, cfg.jobId, index);
}

export function summaryKey(cfg: Pick<BatchConfig, 'outputPrefix' | 'jobId'>, arrayIndex: number): string {
  return batchSummaryKey(cfg.outputPrefix, cfg.jobId, arrayIndex);
}

export interface Logger { (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void }

export function jsonLogger(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): Logger {
  return (level, msg, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

/** CloudWatch embedded metric format, one line per document. */
export function emfLine(cfg: Pick<BatchConfig, 'metricsNamespace' | 'metricsService'>, r: OcrResult): string {
  const failed = r.status !== 'SUCCEEDED';
  const metrics = [
    { Name: failed ? 'DocumentsFailed' : 'DocumentsSucceeded', Unit: 'Count' },
    { Name: 'PagesProcessed', Unit: 'Count' },
    { Name: 'DocumentDurationMs', Unit: 'Milliseconds' },
  ];
  const dims = failed ? [['Service'], ['Service', 'ErrorCode']] : [['Service']];
  const line: Record<string, unknown> = {
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: cfg.metricsNamespace, Dimensions: dims, Metrics: metrics }] },
    Service: cfg.metricsService,
    [failed ? 'DocumentsFailed' : 'DocumentsSucceeded']: 1,
    PagesProcessed: r.pages.filter((p) => !p.error).length,
    DocumentDurationMs: r.durationMs,
  };
  if (failed) line.ErrorCode = r.error?.code ?? 'INTERNAL_ERROR';
  return JSON.stringify(line);
}

async function readBody(body: any): Promise<Buffer> {
  if (!body) return Buffer.alloc(0);
  if (typeof body.transformToByteArray === 'function') return Buffer.from(await body.transformToByteArray());
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/**
 * Writes a document's Textract response twice: whole (`NNNNN.textract.json`, which users read) and
 * in pages of `RESULT_LAYOUT.TEXTRACT_PAGE_BLOCKS` blocks (`NNNNN.textract/1`, `/2`, ...), which
 * GetDocumentTextDetection reads one or two at a time. One serialized copy is held at a time: the
 * whole response's text is dropped before the pages are made, one page's text at a time.
 */
async function writeTextractResponse(s3: Pick<S3Client, 'send'>, cfg: BatchConfig, index: number, response: TextractResponse): Promise<TextractPages> {
  await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: batchOutputKey(cfg.outputPrefix, cfg.jobId, index, 'textract'), Body: JSON.stringify(response), ContentType: 'application/json' }));
  let page = 0;
  for (const pageResponse of responsePages(response, RESULT_LAYOUT.TEXTRACT_PAGE_BLOCKS)) {
    page++;
    await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: batchTextractPageKey(cfg.outputPrefix, cfg.jobId, index, page), Body: JSON.stringify(pageResponse), ContentType: 'application/json' }));
  }
  return { count: page, blocks: response.Blocks.length };
}

/**
 * The summary's `textractPages` of a document: how many page objects its Textract response has and
 * how many blocks in all, so that Get knows which pages to read and whether more follow.
 */
export interface TextractPages { count: number; blocks: number }

/** `textractPages` of a document whose results an earlier attempt wrote: the same figures, from the same result. */
function textractPagesOf(r: OcrResult, blockIdSeed: string): TextractPages {
  const blocks = textractResponse(r, blockIdSeed).Blocks.length;
  return { count: responsePageCount(blocks, RESULT_LAYOUT.TEXTRACT_PAGE_BLOCKS), blocks };
}

export interface BatchDeps {
  s3: Pick<S3Client, 'send'>;
  createEngine?: (o: EngineOptions) => Engine;
  log?: Logger;
  metrics?: (line: string) => void;
  /** Resolves when the job must stop (SIGTERM). */
  stopSignal?: { stopped: boolean; onStop?: () => void };
}

/** Runs the Batch job; returns the process exit code. */
export async function runBatch(env: NodeJS.ProcessEnv, deps: BatchDeps): Promise<number> {
  const log = deps.log ?? jsonLogger();
  const metrics = deps.metrics ?? ((l: string) => process.stdout.write(l + '\n'));
  const stop = deps.stopSignal ?? { stopped: false };
  let cfg: BatchConfig;
  try {
    cfg = parseConfig(env);
  } catch (err) {
    log('error', 'invalid configuration', { error: (err as Error).message });
    return EXIT.CONFIG;
  }
  const s3 = deps.s3;
  let engine: Engine | null = null;
  try {
    // 1. the documents of this child
    let docs: Array<{ index: number; key: string }>;
    let options: DocumentOptions = { ...cfg.options };
    // job option outputs 'textract': each document's GetDocumentTextDetection response beside its JSON
    let textractOutput = false;
    if (cfg.inputKey) {
      docs = [{ index: 0, key: cfg.inputKey }];
    } else {
      let text: string;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: cfg.outputBucket, Key: cfg.manifestKey! }));
        text = (await readBody(out.Body)).toString('utf8');
      } catch (err) {
        if (isNotFound(err) || isAccessDenied(err)) throw new ConfigError(`Cannot read manifest s3://${cfg.outputBucket}/${cfg.manifestKey}: ${(err as Error).name}`);
        throw s3Failure('Cannot read manifest', err);
      }
      const m = parseManifest(text);
      const mo = m.options ?? {};
      options = {
        ...options,
        ...(mo.languages ? { languages: mo.languages } : {}),
        ...(mo.dpi ? { dpi: mo.dpi } : {}),
        ...(mo.maxPages !== undefined ? { maxPages: mo.maxPages } : {}),
        ...(mo.password ? { password: mo.password } : {}),
        ...(mo.outputs ? { outputs: parseBatchOutputs(mo.outputs).engine } : {}),
        ...(mo.geometry !== undefined ? { geometry: mo.geometry } : {}),
      };
      textractOutput = mo.outputs ? parseBatchOutputs(mo.outputs).textract : false;
      docs = shareOf(m, cfg.arrayIndex).map((i) => ({ index: i, key: m.documents[i].key }));
    }
    // the job's languages (its environment, or the manifest's request) must all be in the image: no retry adds them
    const noData = missingLanguageData(options.languages ?? DEFAULTS.languages);
    if (noData) throw new ConfigError(noData);
    const arrayIndex = cfg.arrayIndex ?? 0;
    log('info', 'starting', { jobId: cfg.jobId, arrayIndex, documents: docs.length, workers: cfg.workers });

    engine = (deps.createEngine ?? createEngine)({
      workers: cfg.workers, ocrEngine: cfg.ocrEngine, pdfRenderer: cfg.pdfRenderer, languages: options.languages, timeoutSeconds: cfg.timeoutSeconds, memoryMb: cfg.memoryMb,
      maxDocumentBytes: cfg.maxDocumentBytes, defaults: options,
      onChildLog: (line) => log('warn', 'ocr child output', { line }),
      onProgress: (name, done, total, pageNumber) => log('info', 'page done', { document: name, pageNumber, done, total }),
    });
    stop.onStop = () => { void engine?.close({ force: true }); };
    if (stop.stopped) return EXIT.SIGTERM;

    const summaryDocs: Array<Record<string, unknown>> = [];
    const counts = { succeeded: 0, failed: 0, byErrorCode: {} as Record<string, number> };
    /**
     * Reads one document and runs it through the engine; `written` when an earlier attempt of this
     * job already stored its result (a retried job resumes, never rewrites). Run one document ahead
     * (oneAhead); results are written in manifest order.
     */
    const prepare = async (d: (typeof docs)[number]): Promise<{ result: OcrResult; written: boolean }> => {
      const keys = keysFor(cfg, d.index);
      try {
        await s3.send(new HeadObjectCommand({ Bucket: cfg.outputBucket, Key: keys.json }));
        const prev = await s3.send(new GetObjectCommand({ Bucket: cfg.outputBucket, Key: keys.json }));
        log('info', 'result already written by an earlier attempt', { index: d.index, key: d.key });
        return { result: JSON.parse((await readBody(prev.Body)).toString('utf8')), written: true };
      } catch (err) {
        if (!isNotFound(err)) throw s3Failure(`Cannot check ${keys.json}`, err);
      }
      let bytes: Buffer;
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: cfg.inputBucket, Key: d.key }));
        if (out.ContentLength !== undefined && out.ContentLength > cfg.maxDocumentBytes) {
          (out.Body as any)?.destroy?.();
          return { result: failedResult(d.key, { code: 'TOO_LARGE', message: `The document is ${out.ContentLength} bytes, above the limit of ${cfg.maxDocumentBytes} bytes.` }, options.languages ?? DEFAULTS.languages), written: false };
        }
        bytes = await readBody(out.Body);
      } catch (err) {
        if (isNotFound(err)) return { result: failedResult(d.key, { code: 'INPUT_NOT_FOUND', message: `s3://${cfg.inputBucket}/${d.key} does not exist.` }, options.languages ?? DEFAULTS.languages), written: false };
        // this document only: the rest of the job goes on, and a retry of the job would not read it either
        if (isAccessDenied(err)) return { result: failedResult(d.key, { code: 'INPUT_UNREADABLE', message: `Access to s3://${cfg.inputBucket}/${d.key} was denied (${(err as Error).name}): the job's role may not read it or use its KMS key.` }, options.languages ?? DEFAULTS.languages), written: false };
        throw s3Failure(`Cannot read s3://${cfg.inputBucket}/${d.key}`, err);
      }
      if (!stop.stopped) await engine!.warm();
      return { result: await engine!.process(bytes, { name: d.key }), written: false };
    };
    const documents = oneAhead(docs.length, (i) => prepare(docs[i]));
    for (const d of docs) {
      if (stop.stopped) return EXIT.SIGTERM;
      const keys = keysFor(cfg, d.index);
      const { result: r, written } = (await documents.next()).value!;
      if (stop.stopped) return EXIT.SIGTERM; // a document cut short by SIGTERM is not a result
      let textractPages: TextractPages | undefined;
      if (!written) {
        try {
          // .txt and the other outputs first, .json last: the .json's presence means the document is complete
          await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: keys.txt, Body: r.text, ContentType: 'text/plain; charset=utf-8' }));
          for (const format of ['pdf', 'hocr'] as const) {
            const body = outputBytes(r, format);
            if (body) await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: batchOutputKey(cfg.outputPrefix, cfg.jobId, d.index, format), Body: body, ContentType: OUTPUT_CONTENT_TYPES[format] }));
          }
          if (textractOutput) textractPages = await writeTextractResponse(s3, cfg, d.index, textractResponse(r, `${cfg.jobId}/${d.index}`));
          await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: keys.json, Body: JSON.stringify(r), ContentType: 'application/json' }));
        } catch (err) {
          throw s3Failure(`Cannot write results for document ${d.index}`, err);
        }
        metrics(emfLine(cfg, r));
      }
      if (r.status === 'SUCCEEDED') counts.succeeded++;
      else {
        counts.failed++;
        const code = r.error?.code ?? 'INTERNAL_ERROR';
        counts.byErrorCode[code] = (counts.byErrorCode[code] ?? 0) + 1;
      }
      // every output asked for, by format: its key when it was written (see the result's outputs for why one was not)
      const outputKeys = Object.fromEntries((r.outputs ?? []).filter((o) => o.error === null && o.bytes !== undefined)
        .map((o) => [o.format, batchOutputKey(cfg.outputPrefix, cfg.jobId, d.index, o.format)]));
      if (textractOutput) outputKeys.textract = batchOutputKey(cfg.outputPrefix, cfg.jobId, d.index, 'textract');
      // and the error code of each one asked for and not written, so that the status API lists every output
      const outputErrors = Object.fromEntries((r.outputs ?? []).filter((o) => o.error !== null).map((o) => [o.format, o.error!.code]));
      summaryDocs.push({ index: d.index, key: d.key, status: r.status, errorCode: r.error?.code ?? null, resultKey: keys.json, textKey: keys.txt, pageCount: r.pageCount,
        ...(r.outputs || textractOutput ? { outputKeys } : {}),
        ...(Object.keys(outputErrors).length > 0 ? { outputErrors } : {}),
        ...(textractOutput ? { textractPages: textractPages ?? textractPagesOf(r, `${cfg.jobId}/${d.index}`) } : {}) });
      log(r.status === 'SUCCEEDED' ? 'info' : 'warn', 'document done', { index: d.index, key: d.key, status: r.status, errorCode: r.error?.code ?? null, pages: r.pages.length, durationMs: r.durationMs });
    }
    if (stop.stopped) return EXIT.SIGTERM;
    const summary = { schemaVersion: 1, jobId: cfg.jobId, arrayIndex, documents: summaryDocs, counts };
    try {
      await s3.send(new PutObjectCommand({ Bucket: cfg.outputBucket, Key: summaryKey(cfg, arrayIndex), Body: JSON.stringify(summary), ContentType: 'application/json' }));
    } catch (err) {
      throw s3Failure('Cannot write the summary', err);
    }
    log('info', 'finished', { jobId: cfg.jobId, arrayIndex, ...counts });
    return EXIT.OK;
  } catch (err) {
    if (stop.stopped) return EXIT.SIGTERM;
    if (err instanceof ConfigError) { log('error', 'configuration error', { error: err.message }); return EXIT.CONFIG; }
    if (err instanceof InfraError || err instanceof EngineInfrastructureError || isTransient(err)) {
      log('error', 'infrastructure failure, retry', { error: (err as Error).message });
      return EXIT.INFRA;
    }
    // A bug fails the same way on every attempt: end the job instead of spending its retries.
    log('error', 'unexpected failure, not retried', { error: err instanceof Error ? err.stack : String(err) });
    return EXIT.UNEXPECTED;
  } finally {
    await engine?.close({ force: stop.stopped }).catch(() => undefined);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const stop: { stopped: boolean; onStop?: () => void } = { stopped: false };
  const log = jsonLogger();
  process.on('SIGTERM', () => {
    log('warn', 'SIGTERM: stopping without recording a success');
    stop.stopped = true;
    stop.onStop?.();
    setTimeout(() => process.exit(EXIT.SIGTERM), 5000).unref();
  });
  const s3 = new S3Client({ maxAttempts: 5 });
  runBatch(process.env, { s3, log, stopSignal: stop }).then((code) => process.exit(stop.stopped ? EXIT.SIGTERM : code));
}
