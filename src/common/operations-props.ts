import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { HandlerProps, MonitoringProps } from './shared-props';

/**
 * Settings shared by the operational constructs (EcrBatchAutoUpdater, JobCleanup): one Lambda handler
 * with its queues, log group and alarms.
 */
export interface OperationalHandlerProps extends MonitoringProps, HandlerProps {
  /**
   * Customer-managed key for the construct's queues and the handler's log group. The key policy
   * gets a statement letting CloudWatch Logs of this account and Region use it.
   * @default - SQS-managed encryption for the queues, CloudWatch Logs' own encryption for the log group
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Removal policy of the queues and the log group (no data outlives a run).
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Run the handler in this VPC. It then needs a route (NAT or interface endpoints) to every service
   * it calls: see the construct's documentation for the list.
   * @default - outside any VPC
   */
  readonly lambdaVpc?: ec2.IVpc;
  /**
   * Subnets for the handler in `lambdaVpc`.
   * @default - the VPC's private subnets
   */
  readonly lambdaVpcSubnets?: ec2.SubnetSelection;
}
