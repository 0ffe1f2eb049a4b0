/**
 * OcrServiceCluster's sweep: invoked by its schedule (see `stale-sweep.ts`). Returns the run's
 * counts; an error fails the invocation (retried, then the dead-letter queue).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sweep, SweepResult, sweepSettingsFromEnvironment } from './stale-sweep';
import { handoffSettingsFromEnvironment } from './stream-trigger';
import { logSinkOf } from '../common/powertools';

const logger = new Logger();
const log = logSinkOf(logger);
const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (): Promise<SweepResult> => {
  const result = await sweep({
    ...handoffSettingsFromEnvironment(process.env),
    ...sweepSettingsFromEnvironment(process.env),
    fetch: globalThis.fetch,
    log,
    dynamo,
    now: () => new Date(),
    // The EMF document goes to stdout, where CloudWatch turns it into metrics.
    emit: (line) => console.log(line),
  });
  log.info('sweep finished', { ...result });
  return result;
};
