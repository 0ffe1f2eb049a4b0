/**
 * JobCleanup handler: invoked by its schedule, or by hand (`aws lambda invoke`, payload
 * `{"dryRun": true}` to only report what it would do). Returns the run's report.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchClient } from '@aws-sdk/client-batch';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Context } from 'aws-lambda';
import { CleanupConfig, CleanupReport, countReport, runCleanup } from './cleanup';
import { logSinkOf } from '../common/powertools';

const logger = new Logger();
const log = logSinkOf(logger);
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'CdkOcrConstructs' });
// Adaptive retries first; the logic adds its own deadline-aware backoff on top.
const clients = {
  batch: new BatchClient({ maxAttempts: 5, retryMode: 'adaptive' }),
  ecs: new ECSClient({ maxAttempts: 5, retryMode: 'adaptive' }),
};

/** Configuration from the environment the construct sets (JSON in CLEANUP_CONFIG). */
export function configFromEnvironment(event: unknown): CleanupConfig {
  const config = JSON.parse(process.env.CLEANUP_CONFIG ?? '{}') as CleanupConfig;
  const override = (event as { dryRun?: unknown } | undefined)?.dryRun;
  return { ...config, dryRun: typeof override === 'boolean' ? override : config.dryRun };
}

export async function handler(event: unknown, context: Pick<Context, 'getRemainingTimeInMillis'>): Promise<CleanupReport> {
  const remaining = context.getRemainingTimeInMillis();
  // Stop starting new calls with a margin left to log the report and flush metrics.
  const margin = Math.max(10_000, remaining * 0.1);
  const report = await runCleanup(configFromEnvironment(event), clients, {
    now: () => Date.now(),
    deadline: Date.now() + remaining - margin,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    log,
  });
  const counts = countReport(report);
  metrics.addMetric('JobsCancelled', MetricUnit.Count, counts.jobsCancelled);
  metrics.addMetric('JobsTerminated', MetricUnit.Count, counts.jobsTerminated);
  metrics.addMetric('RevisionsDeregistered', MetricUnit.Count, counts.revisionsDeregistered);
  metrics.addMetric('TasksStopped', MetricUnit.Count, counts.tasksStopped);
  metrics.addMetric('DryRunActions', MetricUnit.Count, counts.wouldAct);
  metrics.addMetric('Errors', MetricUnit.Count, counts.errors);
  metrics.addMetric('NotReached', MetricUnit.Count, counts.notReached);
  metrics.publishStoredMetrics();
  // Errors are reported (metric, alarm, log) rather than thrown: Lambda's async retries would
  // only repeat the same run, which the next scheduled run does anyway.
  return report;
}
