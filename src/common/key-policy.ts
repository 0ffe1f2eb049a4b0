import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * What an AWS service needs in a customer-managed key's policy before it can use the key on the
 * library's behalf. Services that act for a role (DynamoDB, S3, SQS for its callers) use the role's
 * grants instead; these services act as themselves, so only the key policy can let them.
 */
interface ServiceKeyUse {
  readonly sid: string;
  readonly service: string;
  readonly actions: string[];
  readonly conditions: { [operator: string]: { [key: string]: string } };
  /** What fails without the statement, for the imported-key warning. */
  readonly without: string;
}

/**
 * Add the statement to a key this stack owns. For an imported key the stack cannot change the policy:
 * warn at synth with the exact statement the key's owner must add.
 */
function allowServiceToUseKey(scope: Construct, key: kms.IKey, use: ServiceKeyUse): void {
  const done = keysAllowed.get(key) ?? new Set<string>();
  // Once per key and service: every handler and log group of a construct may ask for the same key.
  if (done.has(use.sid)) return;
  done.add(use.sid);
  keysAllowed.set(key, done);
  const statement = new iam.PolicyStatement({
    sid: use.sid,
    principals: [new iam.ServicePrincipal(use.service)],
    actions: use.actions,
    resources: ['*'],
    conditions: use.conditions,
  });
  const { statementAdded } = key.addToResourcePolicy(statement, true);
  if (!statementAdded) {
    const json = JSON.stringify(readable(Stack.of(scope).resolve(statement.toStatementJson())));
    Annotations.of(scope).addWarningV2(`cdk-ocr-constructs:importedKeyPolicy:${use.sid}`,
      `The KMS key ${key.node.path} is imported, so this stack cannot change its policy. ${use.without} unless the key policy already has this statement: ${json}`);
  }
}

const keysAllowed = new WeakMap<kms.IKey, Set<string>>();

/** A resolved policy value with its intrinsics written as `${AWS::Partition}`-style text, for people to read. */
function readable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(readable);
  if (!value || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  if (typeof o.Ref === 'string') return `\${${o.Ref}}`;
  if (Array.isArray(o['Fn::Join'])) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map((p) => String(readable(p))).join(delimiter);
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, readable(v)]));
}

/**
 * Let CloudWatch Logs use `key` for the log groups of this stack's account and Region.
 *
 * A log group created with a KMS key only deploys if the key policy allows the regional Logs
 * service principal (aws-cdk-lib's LogGroup does not add that statement). Limited by the
 * `kms:EncryptionContext:aws:logs:arn` condition to log groups of this account and Region.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
 */
export function allowCloudWatchLogsToUseKey(scope: Construct, key: kms.IKey): void {
  const stack = Stack.of(scope);
  allowServiceToUseKey(scope, key, {
    sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
    service: `logs.${stack.region}.${stack.urlSuffix}`,
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` } },
    without: 'Log groups encrypted with it fail to deploy',
  });
}

/**
 * Let EventBridge use `key` to deliver to SQS queues encrypted with it: rule targets and the
 * dead-letter queues of rule targets. Without it EventBridge cannot send, and the events are lost
 * (a failed delivery to a DLQ is dropped). Limited to rules of this account.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
 */
export function allowEventBridgeToUseKey(scope: Construct, key: kms.IKey): void {
  allowServiceToUseKey(scope, key, {
    sid: 'AllowEventBridgeOfThisAccount',
    service: 'events.amazonaws.com',
    actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    without: 'EventBridge cannot deliver to queues encrypted with it (rule targets and their dead-letter queues), and those events are lost,',
  });
}

/**
 * Let CloudWatch alarms of this account publish to an SNS topic encrypted with `key`. Without it the
 * alarm fires but its notification is never delivered. Limited to alarms of this account.
 *
 * @see https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (compatibility with event sources from AWS services)
 */
export function allowCloudWatchAlarmsToUseKey(scope: Construct, key: kms.IKey): void {
  allowServiceToUseKey(scope, key, {
    sid: 'AllowCloudWatchAlarmsToPublish',
    service: 'cloudwatch.amazonaws.com',
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    without: 'CloudWatch alarms cannot publish to topics encrypted with it, and their notifications are lost,',
  });
}

/**
 * Deny `kms:CreateGrant` on a key the library creates unless the grant is for an AWS resource or the
 * caller is an AWS service: services that encrypt for the workload (CloudWatch Logs, or EBS and RDS
 * through grants) keep working, while nobody can hand the key to an arbitrary principal through a
 * grant. AWS Control Tower's proactive control CT.KMS.PR.3 refuses keys without this statement.
 */
export function limitGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'DenyGrantsExceptForAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
}
