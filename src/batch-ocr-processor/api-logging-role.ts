import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { ApiAccountFunction } from './api-account-function';
import { createHandler, HandlerSettings } from '../common/handler';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';
import { nagResourceFinding } from '../common/nag-findings';
import { DEFAULT_LOG_RETENTION } from '../common/shared-props';

/**
 * Who provides the API Gateway CloudWatch Logs role of the account and Region.
 *
 * API Gateway writes a stage's access logs and execution logs only when the account has a CloudWatch
 * Logs role set; without one, deploying a stage with logging fails ("CloudWatch Logs role ARN must be
 * set in account settings to enable logging"). The setting is one per account and Region, shared by
 * every API there.
 *
 * @see https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html
 */
export enum ApiGatewayCloudWatchRole {
  /**
   * The stack creates a role (kept when the stack is deleted) and sets it as the account's only when
   * no role is set yet. A role that is already set, by another stack or by the platform team, is left
   * alone, and deleting the stack never unsets it.
   */
  SET_IF_MISSING = 'SET_IF_MISSING',
  /**
   * The account and Region already have the role (set by another stack or by the platform team): the
   * stack neither creates nor sets one. Deploying fails if it is in fact missing.
   */
  EXISTING = 'EXISTING',
  /**
   * The stack owns the setting (`AWS::ApiGateway::Account`) and overwrites whatever role is set.
   * Only for the one stack per account and Region that manages it: two stacks that each own it
   * overwrite each other.
   */
  MANAGED = 'MANAGED',
}

export interface ApiLoggingRoleProps extends HandlerSettings {
  readonly mode: ApiGatewayCloudWatchRole;
  readonly api: apigw.RestApi;
}

/**
 * Makes sure the account has the API Gateway CloudWatch role before the API's stage is created.
 * For SET_IF_MISSING, a custom resource looks the setting up at deploy time and sets it only if empty.
 */
export class ApiLoggingRole extends Construct {
  /** The role this stack created for the account setting, if any. */
  public readonly role?: iam.Role;

  constructor(scope: Construct, id: string, props: ApiLoggingRoleProps) {
    super(scope, id);
    if (props.mode === ApiGatewayCloudWatchRole.EXISTING) return;

    const role = new iam.Role(this, 'CloudWatchRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway CloudWatch Logs role of the account and Region (cdk-ocr-constructs)',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs')],
    });
    // The account setting may outlive the stack (other APIs use it): the role it points at must too.
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledgeNagFindings(role, [{
      ruleId: 'AwsSolutions-IAM4',
      reason: 'The API Gateway account CloudWatch role uses AmazonAPIGatewayPushToCloudWatchLogs, the managed policy API Gateway documents for it; it is shared by every API of the account and Region.',
      findings: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
    }]);
    this.role = role;

    let setting: Construct;
    if (props.mode === ApiGatewayCloudWatchRole.MANAGED) {
      setting = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: role.roleArn });
      setting.node.addDependency(role);
    } else {
      setting = this.setIfMissing(role, props);
    }
    // The stage is created only once the account can log.
    props.api.deploymentStage.node.addDependency(setting);
  }

  private setIfMissing(role: iam.Role, props: ApiLoggingRoleProps): CustomResource {
    const purpose = 'API Gateway account logging role';
    const onEvent = createHandler(this, 'SetIfMissing', (s, i, p) => new ApiAccountFunction(s, i, p), {
      ...props, purpose, timeout: Duration.minutes(2), invocation: 'sync',
    });
    // GetAccount and UpdateAccount act on the account's one settings resource.
    const accountArn = `arn:${Stack.of(this).partition}:apigateway:${Stack.of(this).region}::/account`;
    onEvent.role.addToPolicy(new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:PATCH'], resources: [accountArn] }));
    // Setting the role passes it to API Gateway.
    role.grantPassRole(onEvent.role);

    const frameworkLogGroup = new logs.LogGroup(this, 'ProviderLogGroup', {
      retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
      encryptionKey: props.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    // The provider framework's own role, without the AWS managed basic-execution policy it adds by default.
    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the custom resource provider of the ${purpose}`,
    });
    frameworkLogGroup.grantWrite(frameworkRole);
    acknowledgeInlinePolicyOf(frameworkRole, `${purpose} provider`);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent.function,
      logGroup: frameworkLogGroup,
      frameworkOnEventRole: frameworkRole,
    });
    const framework = provider.node.findChild('framework-onEvent');
    const frameworkReason = (what: string) => `The provider framework function of the ${purpose} custom resource ${what}.`;
    acknowledgeNagFindings(framework, [
      { ruleId: 'NIST.800.53.R5-LambdaInsideVPC', reason: frameworkReason('only calls Lambda and CloudFormation\'s response URL, and runs outside the VPC by design') },
      { ruleId: 'HIPAA.Security-LambdaInsideVPC', reason: frameworkReason('only calls Lambda and CloudFormation\'s response URL, and runs outside the VPC by design') },
      { ruleId: 'NIST.800.53.R5-LambdaConcurrency', reason: frameworkReason('runs once per deployment; reserving concurrency would only take it from the account') },
      { ruleId: 'HIPAA.Security-LambdaConcurrency', reason: frameworkReason('runs once per deployment; reserving concurrency would only take it from the account') },
      { ruleId: 'NIST.800.53.R5-LambdaDLQ', reason: frameworkReason('is invoked synchronously by CloudFormation, which receives its errors') },
      { ruleId: 'HIPAA.Security-LambdaDLQ', reason: frameworkReason('is invoked synchronously by CloudFormation, which receives its errors') },
    ]);
    acknowledgeNagFindings(onEvent.role.node.findChild('DefaultPolicy'), [{
      ruleId: 'AwsSolutions-IAM5',
      reason: `The ${purpose} handler's only wildcard resource is for X-Ray PutTraceSegments/PutTelemetryRecords, which have no resource-level permissions.`,
      findings: ['Resource::*'],
    }]);
    acknowledgeNagFindings(frameworkRole.node.findChild('DefaultPolicy'), [{
      ruleId: 'AwsSolutions-IAM5',
      reason: `The provider framework of the ${purpose} may invoke every version of its one onEvent function (the ARN with :*), as the CDK provider framework grants it.`,
      findings: [nagResourceFinding(this, `${onEvent.function.functionArn}:*`)],
    }]);
    if (!props.encryptionKey) {
      const reason = 'CloudWatch Logs encrypts this log group of the API Gateway account logging role custom resource with service-managed keys; pass encryptionKey to use a customer-managed KMS key.';
      for (const group of [onEvent.logGroup, frameworkLogGroup]) {
        acknowledgeNagFindings(group, [
          { ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason },
          { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason },
        ]);
      }
    }
    const resource = new CustomResource(this, 'Setting', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::ApiGatewayAccountCloudWatchRole',
      properties: { RoleArn: role.roleArn },
    });
    return resource;
  }
}
