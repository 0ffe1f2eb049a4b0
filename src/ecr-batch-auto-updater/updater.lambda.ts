/**
 * EcrBatchAutoUpdater handler: reads one message at a time from the updater's FIFO queue (ECR push
 * events and scheduled reconcile messages, all in one message group, so updates never overlap).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchClient } from '@aws-sdk/client-batch';
import { ECRClient } from '@aws-sdk/client-ecr';
import type { SQSEvent } from 'aws-lambda';
import { countOutcomes, handleMessage, UpdaterConfig } from './updater';
import { logSinkOf } from '../common/powertools';

const logger = new Logger();
const log = logSinkOf(logger);
const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'CdkOcrConstructs' });
// Adaptive retries absorb throttling of DescribeJobDefinitions / RegisterJobDefinition.
const clients = {
  batch: new BatchClient({ maxAttempts: 6, retryMode: 'adaptive' }),
  ecr: new ECRClient({ maxAttempts: 6, retryMode: 'adaptive' }),
};

function config(): UpdaterConfig {
  return {
    repositoryName: process.env.REPOSITORY_NAME!,
    repositoryUri: process.env.REPOSITORY_URI!,
    jobDefinitions: JSON.parse(process.env.JOB_DEFINITIONS ?? '[]'),
    imageTags: JSON.parse(process.env.IMAGE_TAGS ?? '["latest"]'),
  };
}

export async function handler(event: SQSEvent): Promise<void> {
  const failures: string[] = [];
  for (const record of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      logger.error('message is not JSON; dropped', { messageId: record.messageId });
      continue;
    }
    const summary = await handleMessage(body, config(), clients, log, new Date());
    const counts = countOutcomes(summary);
    metrics.addMetric('UpdatesApplied', MetricUnit.Count, counts.applied);
    metrics.addMetric('UpdatesSkipped', MetricUnit.Count, counts.skipped + (summary.ignored ? 1 : 0));
    metrics.addMetric('UpdatesFailed', MetricUnit.Count, counts.failed);
    logger.info('run summary', { trigger: summary.trigger, ignored: summary.ignored, ...counts });
    failures.push(...summary.outcomes.filter((o) => o.status === 'failed').map((o) => `${o.jobDefinition}: ${o.reason}`));
  }
  metrics.publishStoredMetrics();
  // Throwing returns the message to the queue; the definitions that succeeded are no-ops on retry
  // (idempotent), and after the queue's maxReceiveCount the message lands in the dead-letter queue.
  if (failures.length > 0) throw new Error(`job definition updates failed: ${failures.join('; ')}`);
}
