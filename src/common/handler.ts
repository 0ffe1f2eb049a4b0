import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { createDeadLetterQueue } from './dead-letter-queue';
import { allowCloudWatchLogsToUseKey } from './key-policy';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from './nag';
import { DEFAULT_LOG_RETENTION } from './shared-props';

/**
 * Settings every Lambda handler of the library shares. Constructs expose them as props
 * (see `HandlerSettings` in each construct's props) and pass them through here.
 */
export interface HandlerSettings {
  /** Instruction set. ARM64 is ~20% cheaper per GB-second. */
  readonly architecture?: lambda.Architecture;
  /** Customer-managed key for the log group (and the DLQ). */
  readonly encryptionKey?: kms.IKey;
  /** Log retention of the handler's log group. */
  readonly logRetention?: logs.RetentionDays;
  /** Removal policy of the log group and DLQ. */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Run the handler inside this VPC. Handlers only call AWS APIs, so by default they run outside
   * any VPC; inside a VPC with no NAT they need an interface endpoint per service they call.
   */
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** The construct's prop that puts its handlers in a VPC, named in the acknowledgement reason. */
  readonly vpcProp?: string;
}

export interface CreateHandlerOptions extends HandlerSettings {
  /** What the handler does, for its description and for acknowledgement reasons. */
  readonly purpose: string;
  readonly timeout: Duration;
  readonly memorySize?: number;
  readonly environment?: { [key: string]: string };
  /**
   * How the handler is invoked. 'sync' (API Gateway, custom resources): errors go back to the
   * caller, a DLQ would never receive anything. 'async' (EventBridge, S3, schedules): failed
   * events go to a DLQ after Lambda's retries. 'poll' (SQS, DynamoDB streams event source
   * mappings): failures are handled by the source's own redrive / on-failure destination.
   */
  readonly invocation: 'sync' | 'async' | 'poll';
  /** Reserved concurrency; by default none (see the LambdaConcurrency acknowledgement reason). */
  readonly reservedConcurrentExecutions?: number;
  /**
   * X-Ray active tracing. A handler in a VPC sends its traces to X-Ray's endpoint: turn tracing off
   * where the VPC has neither an X-Ray interface endpoint nor a route out, or the traces are lost.
   * @default true
   */
  readonly tracing?: boolean;
}

export interface Handler {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Dead-letter queue, for asynchronously invoked handlers. */
  readonly deadLetterQueue?: sqs.Queue;
}

/** A projen-generated `*Function` class: `new XxxFunction(scope, id, props)`. */
export type HandlerFactory = (scope: Construct, id: string, props: lambda.FunctionOptions) => lambda.Function;

/** The Lambda runtime of every handler (the generated `*-function.ts` files set the same one). */
export const HANDLER_RUNTIME_NAME = 'nodejs24.x';

/**
 * Create a handler with the library's defaults: its own role (no AWS managed policies), its own
 * encrypted log group with retention, X-Ray tracing, a DLQ for asynchronous invocation, and
 * acknowledgements for the findings that are right for this design, each with its reason.
 */
export function createHandler(scope: Construct, id: string, factory: HandlerFactory, options: CreateHandlerOptions): Handler {
  const removalPolicy = options.removalPolicy ?? RemovalPolicy.DESTROY;
  // A log group with a KMS key deploys only if the key policy lets CloudWatch Logs use the key.
  if (options.encryptionKey) allowCloudWatchLogsToUseKey(scope, options.encryptionKey);
  const logGroup = new logs.LogGroup(scope, `${id}LogGroup`, {
    retention: options.logRetention ?? DEFAULT_LOG_RETENTION,
    encryptionKey: options.encryptionKey,
    removalPolicy,
  });
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the ${options.purpose} handler`,
  });
  // Only its own log group: the AWS managed AWSLambdaBasicExecutionRole would allow every log group.
  logGroup.grantWrite(role);
  acknowledgeInlinePolicyOf(role, `${options.purpose} handler`);

  let deadLetterQueue: sqs.Queue | undefined;
  if (options.invocation === 'async') {
    deadLetterQueue = createDeadLetterQueue(scope, `${id}DeadLetterQueue`, {
      deadLetterOf: `the ${options.purpose} handler`, encryptionKey: options.encryptionKey, removalPolicy,
    });
    // Lambda sends failed events to the DLQ as the function's role: with a customer key, the role
    // needs the key to encrypt them (aws-cdk-lib grants only sqs:SendMessage), or they are dropped.
    if (options.encryptionKey) options.encryptionKey.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
  }

  if (options.vpc) {
    // ENI management for a function in a VPC, scoped as narrowly as EC2 allows (these actions do not
    // support resource-level permissions for create/describe).
    role.addToPolicy(new iam.PolicyStatement({
      actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
      resources: ['*'],
    }));
  }

  const fn = factory(scope, id, {
    description: `cdk-ocr-constructs: ${options.purpose}`,
    role,
    logGroup,
    architecture: options.architecture ?? lambda.Architecture.ARM_64,
    timeout: options.timeout,
    memorySize: options.memorySize ?? 256,
    environment: {
      POWERTOOLS_SERVICE_NAME: id,
      ...(options.environment ?? {}),
    },
    tracing: options.tracing === false ? lambda.Tracing.DISABLED : lambda.Tracing.ACTIVE,
    deadLetterQueue,
    retryAttempts: options.invocation === 'async' ? 2 : undefined,
    reservedConcurrentExecutions: options.reservedConcurrentExecutions,
    vpc: options.vpc,
    vpcSubnets: options.vpc ? options.vpcSubnets : undefined,
  });

  const acks = [];
  if (!options.vpc) {
    const reason = `The ${options.purpose} handler only calls AWS APIs and runs outside the VPC by design, so it needs no NAT or interface endpoints; set the construct's ${options.vpcProp ?? 'lambdaVpc'} prop to run it inside.`;
    acks.push({ ruleId: 'NIST.800.53.R5-LambdaInsideVPC', reason }, { ruleId: 'HIPAA.Security-LambdaInsideVPC', reason });
  }
  if (options.reservedConcurrentExecutions === undefined) {
    const reason = `Reserving concurrency for the ${options.purpose} handler would fail deployment in accounts at the default concurrency quota of 10; its invocation rate is bounded by its event source instead.`;
    acks.push({ ruleId: 'NIST.800.53.R5-LambdaConcurrency', reason }, { ruleId: 'HIPAA.Security-LambdaConcurrency', reason });
  }
  if (options.invocation !== 'async') {
    const how = options.invocation === 'sync'
      ? 'is invoked synchronously, so errors return to the caller and a DLQ would never receive anything'
      : 'is invoked by an event source mapping whose failures are handled by the source (redrive or on-failure destination); Lambda DLQs apply only to asynchronous invocation';
    const reason = `The ${options.purpose} handler ${how}.`;
    acks.push({ ruleId: 'NIST.800.53.R5-LambdaDLQ', reason }, { ruleId: 'HIPAA.Security-LambdaDLQ', reason });
  }
  if (options.vpc) {
    acks.push({
      ruleId: 'AwsSolutions-IAM5',
      reason: `EC2 network-interface actions for the ${options.purpose} handler in a VPC do not support resource-level permissions.`,
      findings: ['Resource::*'],
    });
  }
  acknowledgeNagFindings(fn, acks.filter((a) => a.ruleId !== 'AwsSolutions-IAM5'));
  const iamAcks = acks.filter((a) => a.ruleId === 'AwsSolutions-IAM5');
  if (iamAcks.length > 0) {
    acknowledgeNagFindings(role.node.findChild('DefaultPolicy'), iamAcks);
  }
  return { function: fn, role, logGroup, deadLetterQueue };
}

/** `arn:${partition}:service:${region}:${account}:resource` for the stack of `scope`. */
export function stackArn(scope: Construct, service: string, resource: string): string {
  const stack = Stack.of(scope);
  return `arn:${stack.partition}:${service}:${stack.region}:${stack.account}:${resource}`;
}
