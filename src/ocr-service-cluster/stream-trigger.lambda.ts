/**
 * OcrServiceCluster's stream trigger: invoked by the status table's stream (see `stream-trigger.ts`).
 * Reports the records to retry as batch item failures.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { handleStreamEvent, handoffSettingsFromEnvironment } from './stream-trigger';
import { logSinkOf } from '../common/powertools';

const logger = new Logger();
const log = logSinkOf(logger);

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> =>
  handleStreamEvent(event, { ...handoffSettingsFromEnvironment(process.env), fetch: globalThis.fetch, log });
