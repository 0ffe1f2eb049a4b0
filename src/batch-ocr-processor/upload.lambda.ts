/** POST /uploads: a pre-signed PUT URL for one document in the input bucket. */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createUploadHandler } from './api';
import { logger, runtimeDeps } from './runtime';

const upload = createUploadHandler(runtimeDeps());

export async function handler(event: APIGatewayProxyEvent, context: Context) {
  logger.addContext(context);
  return upload(event);
}
