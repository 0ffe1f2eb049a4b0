import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { BatchOcrProcessorProps } from './props';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

/** Where the tasks (and, with `handlersInVpc`, the handlers) run. */
export interface ProcessorNetwork {
  /** The CostOptimizedVpc, created or passed in; undefined with `vpc`. */
  readonly network?: CostOptimizedVpc;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
}

/**
 * The user's VPC, or a CostOptimizedVpc (created as 'Network' unless passed in) with the endpoints
 * the tasks need, and those of the handlers when they run in the VPC.
 */
export function createNetwork(scope: Construct, props: BatchOcrProcessorProps): ProcessorNetwork {
  if (props.vpc) {
    return { vpc: props.vpc, subnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } };
  }
  const network = props.network ?? new CostOptimizedVpc(scope, 'Network', { maxAzs: 2 });
  // Tasks pull from ECR and log to CloudWatch Logs (the Fargate defaults of the network) and
  // read/write S3 (gateway endpoint). Their EMF metrics travel in the logs.
  network.requireEndpoints(['ecr.api', 'ecr.dkr', 'logs', 's3'], 'BatchOcrProcessor tasks: image pull, logs, documents');
  if (props.handlersInVpc) {
    const services = ['batch', 'dynamodb', 's3', 'events', 'xray', 'logs'];
    if (props.encryptionKey) services.push('kms');
    // The submit handler queues single-document requests for gathering.
    if (props.gathering?.enabled ?? true) services.push('sqs');
    // The job state handler publishes Textract's completion messages.
    if ((props.textractNotificationTopics ?? []).length > 0) services.push('sns');
    network.requireEndpoints(services, 'BatchOcrProcessor handlers in the VPC');
  }
  return { network, vpc: network.vpc, subnets: network.workloadSubnets };
}
