/**
 * The API Gateway account setting that logging needs: API Gateway writes execution and access logs
 * only when the account has a CloudWatch Logs role set, once per account and Region
 * ("Set up CloudWatch logging for REST APIs in API Gateway", API Gateway Developer Guide). Without
 * it, creating a stage with logging fails with "CloudWatch Logs role ARN must be set in account
 * settings to enable logging".
 *
 * The setting is shared by every API in the account and Region, so this custom resource sets it only
 * where none is set, and never unsets it: a second stack, or the platform team's own setting, is left
 * alone, and deleting the stack leaves logging working for everyone else.
 */
import { APIGatewayClient, GetAccountCommand, UpdateAccountCommand } from '@aws-sdk/client-api-gateway';
import type { LogSink } from '../common/powertools';

export interface AccountRoleEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: { readonly RoleArn?: string };
}

export interface AccountRoleResponse {
  readonly PhysicalResourceId: string;
  readonly Data: {
    /** The role the account uses after this call (empty on Delete, which reads nothing). */
    readonly CloudWatchRoleArn: string;
    /** 'set': this stack's role is now the account's; 'kept': the account already had one. */
    readonly Outcome: 'set' | 'kept' | 'unchanged';
  };
}

/** One resource per account and Region, whichever stack created it. */
export const PHYSICAL_ID = 'api-gateway-account-cloudwatch-role';

export interface AccountRoleOptions {
  /** Attempts of UpdateAccount while a new role is not yet usable (IAM is eventually consistent). */
  readonly attempts?: number;
  readonly delayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * API Gateway checks that it can assume the role when it is set; a role created seconds before may
 * not be visible yet, which UpdateAccount reports as a BadRequestException about the role.
 */
function isRoleNotReady(error: unknown): boolean {
  const e = error as { name?: string; message?: string };
  return e?.name === 'BadRequestException' && /role/i.test(e.message ?? '');
}

export async function ensureAccountCloudWatchRole(
  client: APIGatewayClient, event: AccountRoleEvent, log: LogSink, options: AccountRoleOptions = {},
): Promise<AccountRoleResponse> {
  const physicalId = event.PhysicalResourceId ?? PHYSICAL_ID;
  if (event.RequestType === 'Delete') {
    // Other APIs of the account may rely on the setting: it stays, and so does the (retained) role.
    // Nothing is read either, so that a throttled API cannot hold up the stack's deletion.
    log.info('stack deleted: the account setting is left as it is');
    return { PhysicalResourceId: physicalId, Data: { CloudWatchRoleArn: '', Outcome: 'unchanged' } };
  }
  const account = await client.send(new GetAccountCommand({}));
  const current = account.cloudwatchRoleArn ?? '';
  if (current !== '') {
    log.info('the account already has an API Gateway CloudWatch role; left as it is', { cloudWatchRoleArn: current });
    return { PhysicalResourceId: physicalId, Data: { CloudWatchRoleArn: current, Outcome: 'kept' } };
  }
  const roleArn = event.ResourceProperties.RoleArn;
  if (!roleArn) throw new Error('RoleArn property is missing: nothing to set as the account\'s CloudWatch role');
  const attempts = options.attempts ?? 10;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      await client.send(new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }] }));
      break;
    } catch (error) {
      if (attempt >= attempts || !isRoleNotReady(error)) throw error;
      log.warn('the new role is not usable yet; retrying', { attempt, error: (error as Error).message });
      await sleep(options.delayMs ?? 6000);
    }
  }
  log.info('set the account\'s API Gateway CloudWatch role', { cloudWatchRoleArn: roleArn });
  return { PhysicalResourceId: physicalId, Data: { CloudWatchRoleArn: roleArn, Outcome: 'set' } };
}
