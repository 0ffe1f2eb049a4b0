/**
 * Custom resource handler (onEvent of the CDK provider framework): sets the account's API Gateway
 * CloudWatch Logs role where none is set, so the API's stage can log. See api-account.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { AccountRoleEvent, AccountRoleResponse, ensureAccountCloudWatchRole } from './api-account';
import { logSinkOf } from '../common/powertools';

const logger = new Logger();
const client = new APIGatewayClient({ maxAttempts: 5 });

export async function handler(event: AccountRoleEvent): Promise<AccountRoleResponse> {
  return ensureAccountCloudWatchRole(client, event, logSinkOf(logger));
}
