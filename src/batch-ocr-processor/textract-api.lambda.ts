/** POST /: Amazon Textract's StartDocumentTextDetection and GetDocumentTextDetection (see textract-api.ts). */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { logger, metrics, runtimeDeps } from './runtime';
import { createTextractHandler } from './textract-api';

const textract = createTextractHandler(runtimeDeps());

export async function handler(event: APIGatewayProxyEvent, context: Context) {
  logger.addContext(context);
  try {
    return await textract(event);
  } finally {
    metrics.publishStoredMetrics();
  }
}
