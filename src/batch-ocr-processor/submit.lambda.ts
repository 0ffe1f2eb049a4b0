/** POST /jobs: validate, check the documents exist, submit one Batch job (idempotent per Idempotency-Key). */
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createSubmitHandler } from './api';
import { logger, metrics, runtimeDeps } from './runtime';

const deps = runtimeDeps();
const submit = createSubmitHandler({
  ...deps,
  persistence: new DynamoDBPersistenceLayer({ tableName: process.env.IDEMPOTENCY_TABLE_NAME! }),
});

export async function handler(event: APIGatewayProxyEvent, context: Context) {
  logger.addContext(context);
  try {
    return await submit(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
}
