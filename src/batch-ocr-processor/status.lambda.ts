/** GET /jobs/{jobId}: the job record and the worker's results. Read-only. */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createStatusHandler } from './api';
import { logger, runtimeDeps } from './runtime';

const status = createStatusHandler(runtimeDeps());

export async function handler(event: APIGatewayProxyEvent, context: Context) {
  logger.addContext(context);
  return status(event);
}
