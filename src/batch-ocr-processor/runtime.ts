/**
 * Lambda wiring shared by the handlers: real AWS clients, Powertools logger and metrics.
 * Handler logic lives in api.ts / jobs.ts and is tested there with mocked clients.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { BatchClient } from '@aws-sdk/client-batch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { HandlerDeps, MetricSink } from './api';
import { configFromEnv } from './jobs';

export const logger = new Logger();
export const metrics = new Metrics({ namespace: process.env.METRICS_NAMESPACE ?? 'CdkOcrConstructs' });

/** Metrics go out with the service dimension; extra dimensions as single metrics. */
export const metricSink: MetricSink = {
  count(name, value, dimensions) {
    if (dimensions) {
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, MetricUnit.Count, value);
    } else {
      metrics.addMetric(name, MetricUnit.Count, value);
    }
  },
};

/** SDK clients with adaptive retry: backs off on throttling (S3 is rate-limited). Batch's client: see runtimeDeps. */
const clientConfig = { retryMode: 'adaptive', maxAttempts: 5 };

export function runtimeDeps(): HandlerDeps {
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig), { marshallOptions: { removeUndefinedValues: true } });
  return {
    // One attempt per Batch call: SubmitJob has no idempotency token, so an SDK retry after a timeout
    // could start the job twice (submitJob looks an unsure submission up by name instead).
    clients: {
      s3: new S3Client(clientConfig),
      batch: new BatchClient({ ...clientConfig, maxAttempts: 1 }),
      ddb,
      events: new EventBridgeClient(clientConfig),
      sqs: new SQSClient(clientConfig),
      sns: new SNSClient(clientConfig),
    },
    config: configFromEnv(),
    log: logger,
    metrics: metricSink,
  };
}
