/** EventBridge "Batch Job State Change" of this queue: update the job record, announce completion. */
import type { Context } from 'aws-lambda';
import { createStateChangeHandler } from './api';
import type { BatchJobStateChange } from './jobs';
import { logger, metrics, runtimeDeps } from './runtime';

const record = createStateChangeHandler(runtimeDeps());

export async function handler(event: { detail: BatchJobStateChange }, context: Context) {
  logger.addContext(context);
  try {
    const outcome = await record(event);
    logger.info('State change', { batchJobId: event.detail.jobId, status: event.detail.status, outcome });
    return outcome;
  } finally {
    metrics.publishStoredMetrics();
  }
}
