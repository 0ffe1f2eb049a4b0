/** S3 ObjectCreated events through SQS: one job per batch of new objects. */
import type { Context, SQSEvent } from 'aws-lambda';
import { createS3IngestHandler } from './api';
import { logger, metrics, runtimeDeps } from './runtime';

const ingest = createS3IngestHandler(runtimeDeps());

export async function handler(event: SQSEvent, context: Context) {
  logger.addContext(context);
  try {
    return await ingest(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
