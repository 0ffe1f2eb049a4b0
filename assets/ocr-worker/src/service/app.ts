/**
 * Assembles the service from its configuration: local (embedded storage) or AWS (DynamoDB, S3,
 * optional Redis), the engine's bounded runner, and the HTTP server. main.ts adds signals.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import { createEngine } from '../engine.ts';
import { SnsNotifier, TextractDeliveries } from '../textract/completion.ts';
import { DynamoStatusStore, S3DocumentStore, S3ResultStore } from './aws-stores.ts';
import type { ServiceConfig } from './config.ts';
import { createHttpServer } from './http.ts';
import { RedisCache } from './redis-cache.ts';
import { Tracing } from './tracing.ts';
import { claimOwner, OcrService, type DocumentEngine, type LogFn } from './service.ts';
import { LocalDocumentStore, LocalResultStore, LocalStatusStore, MemoryCache, type Cache, type DocumentStore, type ObjectWriter, type ResultStore, type StatusStore } from './stores.ts';
import { PLATFORM_ENV } from '../contract.ts';

export interface AppOverrides {
  engine?: DocumentEngine;
  status?: StatusStore;
  results?: ResultStore;
  documents?: DocumentStore;
  /** null disables the cache. */
  cache?: Cache | null;
  owner?: string;
  log?: LogFn;
  metrics?: (line: string) => void;
  /** Replaces the tracing made from OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (tests); null disables tracing. */
  tracing?: Tracing | null;
  /** The SNS client Textract's completion messages go through (default: one with the SDK's default configuration, when topics are allowed). */
  sns?: SNSClient;
  /** Where Textract's OutputConfig pages are written (default: the document store, when it writes objects). */
  objectWriter?: ObjectWriter;
}

export interface App {
  service: OcrService;
  server: Server;
  /** The bound port (PORT=0 picks a free one). */
  port: number;
  url: string;
  /** Textract's NotificationChannel and OutputConfig (undefined when the document store writes no objects). */
  textractDeliveries?: TextractDeliveries;
  /** Resolves when the engine is warm (health 200). */
  ready: Promise<void>;
  /** Graceful stop: drain documents (grace), hand back the rest, close the server. */
  stop(graceMs?: number): Promise<{ finished: number; handedBack: number }>;
}

export function jsonLog(write: (line: string) => void = (l) => process.stdout.write(l + '\n')): LogFn {
  return (level, msg, fields = {}) => write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }));
}

/** The ECS task ARN from the task metadata endpoint, when there is one (the base of the claim owner, see claimOwner). */
export async function ecsTaskArn(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const uri = env[PLATFORM_ENV.ECS_CONTAINER_METADATA_URI_V4];
  if (!uri) return undefined;
  try {
    const res = await fetch(`${uri}/task`, { signal: AbortSignal.timeout(1000) });
    const body = await res.json() as { TaskARN?: string };
    return body.TaskARN;
  } catch {
    return undefined;
  }
}

/**
 * Textract's NotificationChannel and OutputConfig: the topics and buckets the configuration allows,
 * published and written with the service's own credentials. Undefined when the document store writes
 * no objects (a test double): Start then refuses both.
 */
function textractDeliveriesOf(config: ServiceConfig, documents: DocumentStore, overrides: AppOverrides, log: LogFn): TextractDeliveries | undefined {
  const writer = overrides.objectWriter ?? ('putObject' in documents ? documents as DocumentStore & ObjectWriter : undefined);
  if (!writer) return undefined;
  const sns = overrides.sns ?? (config.textractNotificationTopics.length > 0 ? new SNSClient({ maxAttempts: 5 }) : undefined);
  return new TextractDeliveries({
    destinations: {
      notificationTopics: config.textractNotificationTopics,
      outputBuckets: config.textractOutputBuckets,
      documentsBucket: documents.uploadBucket,
      resultsPrefix: config.resultsPrefix,
    },
    writer,
    notifier: sns ? new SnsNotifier(sns) : undefined,
    log,
    metrics: overrides.metrics ?? ((line) => process.stdout.write(line + '\n')),
    metricsNamespace: config.metricsNamespace,
    metricsService: config.metricsService,
  });
}

export async function startApp(config: ServiceConfig, overrides: AppOverrides = {}): Promise<App> {
  const log = overrides.log ?? jsonLog();
  let status = overrides.status;
  let results = overrides.results;
  let documents = overrides.documents;
  if (config.storage === 'aws') {
    const s3 = new S3Client({ maxAttempts: 5 });
    status ??= new DynamoStatusStore(new DynamoDBClient({ maxAttempts: 5 }), config.tableName!);
    results ??= new S3ResultStore(s3, config.documentsBucket!, config.resultsPrefix);
    documents ??= new S3DocumentStore(s3, config.documentsBucket!, config.uploadsPrefix);
  } else {
    status ??= new LocalStatusStore(config.dataDir);
    results ??= new LocalResultStore(config.dataDir, config.resultsPrefix);
    documents ??= new LocalDocumentStore(config.dataDir, config.uploadsPrefix);
  }
  let cache: Cache | null;
  if (overrides.cache !== undefined) {
    cache = overrides.cache;
  } else if (config.redisUrl) {
    const redis = new RedisCache({ url: config.redisUrl, authToken: config.redisAuthToken, onError: (m) => log('warn', m) });
    redis.connect();
    cache = redis;
  } else {
    // local mode: an in-memory cache so that the same document twice is answered from it
    cache = config.storage === 'local' ? new MemoryCache() : null;
  }
  const engine = overrides.engine ?? createEngine({
    workers: config.workers,
    // one bounded child per worker: a hostile document only costs its own slot
    concurrency: config.workers,
    languages: config.languages,
    ocrEngine: config.ocrEngine,
    pdfRenderer: config.pdfRenderer,
    timeoutSeconds: config.docTimeoutSeconds,
    memoryMb: config.docMemoryMb,
    maxDocumentBytes: config.maxDocumentBytes,
    onChildLog: (line) => log('info', 'ocr child', { line }),
  });
  const tracing = overrides.tracing !== undefined ? overrides.tracing ?? undefined
    : config.otlpTracesEndpoint ? new Tracing({ endpoint: config.otlpTracesEndpoint, serviceName: config.metricsService }) : undefined;
  const textractDeliveries = textractDeliveriesOf(config, documents, overrides, log);
  const service = new OcrService({
    config, engine, status, results, documents, cache, log, tracing, hooks: textractDeliveries,
    owner: overrides.owner ?? claimOwner(await ecsTaskArn(process.env)),
    metrics: overrides.metrics ?? ((line) => process.stdout.write(line + '\n')),
  });
  const server = createHttpServer(service, { log, tracing, textractDeliveries });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  log('info', 'listening', { port, host: config.host, owner: service.owner, storage: config.storage, cache: cache ? (config.redisUrl ? 'redis' : 'memory') : 'none', workers: config.workers, tracing: config.otlpTracesEndpoint ?? 'off' });
  // listen first, warm second: /health answers 503 while the OCR workers start
  const ready = service.start().then(() => log('info', 'ready', { workers: config.workers }));
  let stopping: Promise<{ finished: number; handedBack: number }> | null = null;
  const stop = (graceMs?: number) => {
    stopping ??= (async () => {
      const outcome = await service.shutdown(graceMs);
      // requests still open (reads, uploads being received) finish within the request bound
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => { server.closeAllConnections(); resolve(); }, config.requestTimeoutSeconds * 1000);
        force.unref();
        server.close(() => { clearTimeout(force); resolve(); });
        server.closeIdleConnections();
      });
      // the spans of the last documents go out before the process ends
      await tracing?.shutdown().catch((err: Error) => log('warn', 'trace export at shutdown failed', { error: err.message }));
      log('info', 'stopped', outcome);
      return outcome;
    })();
    return stopping;
  };
  return { service, server, port, url, ready, stop, textractDeliveries };
}
