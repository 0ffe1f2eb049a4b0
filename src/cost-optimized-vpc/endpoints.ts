import * as ec2 from 'aws-cdk-lib/aws-ec2';

/** Services reached through free gateway endpoints rather than interface endpoints. */
export const GATEWAY_SERVICES = ['s3', 'dynamodb'] as const;

let knownServices: Map<string, ec2.InterfaceVpcEndpointAwsService> | undefined;

/**
 * Every interface endpoint service aws-cdk-lib knows, by short name ('ecr.api', 'logs', 'batch', ...).
 * Read from `InterfaceVpcEndpointAwsService`'s static members, so the list follows aws-cdk-lib.
 */
export function knownInterfaceServices(): Map<string, ec2.InterfaceVpcEndpointAwsService> {
  if (!knownServices) {
    knownServices = new Map();
    for (const key of Object.getOwnPropertyNames(ec2.InterfaceVpcEndpointAwsService)) {
      let value: unknown;
      try {
        value = (ec2.InterfaceVpcEndpointAwsService as unknown as Record<string, unknown>)[key];
      } catch {
        continue;
      }
      if (value instanceof ec2.InterfaceVpcEndpointAwsService && !knownServices.has(value.shortName)) {
        knownServices.set(value.shortName, value);
      }
    }
  }
  return knownServices;
}

/** What runs in the VPC, which decides the endpoints it needs. */
export interface WorkloadNeeds {
  readonly fargate: boolean;
  readonly ec2ContainerInstances: boolean;
  readonly ecsExec: boolean;
  readonly sessionManager: boolean;
  readonly xray: boolean;
  readonly secretsManager: boolean;
  readonly ssmParameters: boolean;
  readonly batchApi: boolean;
  readonly dynamoDb: boolean;
}

/** One endpoint and why it is there (shown in docs and the cost estimate). */
export interface EndpointRequirement {
  readonly service: string;
  readonly reason: string;
}

/**
 * The interface and gateway endpoints a workload needs, with the reason for each.
 *
 * Fargate tasks (ECS or Batch) pull images from ECR (ecr.api for auth and manifests, ecr.dkr for the
 * registry, image layers from S3 through the gateway endpoint) and ship logs to CloudWatch Logs. They do
 * NOT need the ecs, ecs-agent or ecs-telemetry endpoints: those serve the ECS agent on EC2 container
 * instances. ECS Exec needs only ssmmessages; Session Manager on EC2 needs ssm, ssmmessages, ec2messages.
 */
export function endpointsForWorkload(needs: WorkloadNeeds): EndpointRequirement[] {
  const out: EndpointRequirement[] = [];
  const add = (service: string, reason: string) => {
    if (!out.some((e) => e.service === service)) out.push({ service, reason });
  };
  if (needs.fargate || needs.ec2ContainerInstances) {
    add('ecr.api', 'image pull: ECR authentication and manifests');
    add('ecr.dkr', 'image pull: registry API');
    add('logs', 'container logs to CloudWatch Logs');
    add('s3', 'image layers (ECR stores them in S3) and documents');
  }
  if (needs.ec2ContainerInstances) {
    add('ecs', 'ECS agent on EC2 container instances: control plane');
    add('ecs-agent', 'ECS agent on EC2 container instances: agent communication');
    add('ecs-telemetry', 'ECS agent on EC2 container instances: telemetry');
  }
  if (needs.ecsExec) add('ssmmessages', 'ECS Exec sessions');
  if (needs.sessionManager) {
    add('ssm', 'Session Manager');
    add('ssmmessages', 'Session Manager sessions');
    add('ec2messages', 'Session Manager on EC2 instances');
  }
  if (needs.xray) add('xray', 'X-Ray traces from an OpenTelemetry collector (PutTraceSegments) and Lambda active tracing');
  if (needs.secretsManager) add('secretsmanager', 'secrets injected into tasks');
  if (needs.ssmParameters) add('ssm', 'SSM parameters injected into tasks');
  if (needs.batchApi) add('batch', 'AWS Batch API calls from inside the VPC');
  if (needs.dynamoDb) add('dynamodb', 'DynamoDB reads and writes');
  return out;
}
