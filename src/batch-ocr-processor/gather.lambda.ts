/** Single-document requests gathered in an SQS queue: one Batch job per batching window. */
import type { Context, SQSEvent } from 'aws-lambda';
import { deterministicJobId } from './api';
import { createGatherHandler } from './gather';
import { logger, metrics, metricSink, runtimeDeps } from './runtime';

const deps = runtimeDeps();
const gather = createGatherHandler({
  clients: deps.clients,
  config: deps.config,
  jobIdOf: deterministicJobId,
  log: logger,
  count: (name, value) => metricSink.count(name, value),
});

export async function handler(event: SQSEvent, context: Context) {
  logger.addContext(context);
  try {
    return await gather(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
