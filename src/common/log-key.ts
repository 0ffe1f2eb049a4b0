import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * Let CloudWatch Logs use `key` for the log groups of this stack's account and region.
 *
 * A log group created with a KMS key only deploys if the key policy allows the regional Logs
 * service principal (aws-cdk-lib's LogGroup does not add that statement). Limited by the
 * `kms:EncryptionContext:aws:logs:arn` condition to log groups of this account and region. For an
 * imported key the policy cannot be changed here; its owner must add the same statement.
 */
export function allowCloudWatchLogsToUseKey(scope: Construct, key: kms.IKey): void {
  // Once per key: every handler and log group of a construct may ask for the same key.
  if (keysAllowed.has(key)) return;
  keysAllowed.add(key);
  const stack = Stack.of(scope);
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
    principals: [new iam.ServicePrincipal(`logs.${stack.region}.${stack.urlSuffix}`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: {
      ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*` },
    },
  }));
}

const keysAllowed = new WeakSet<kms.IKey>();
