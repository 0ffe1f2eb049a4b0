import { Annotations, Duration, Names } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { OcrServiceCapacity, OcrServiceClusterProps } from './props';
import { tracingEnabled } from './tracing';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

/** Where the construct runs: its VPC, the subnets of its tasks and in-VPC handlers. */
export interface Placement {
  readonly vpc: ec2.IVpc;
  /** The CostOptimizedVpc the construct created, when it created one. */
  readonly createdNetwork?: CostOptimizedVpc;
  readonly workloadSubnets: ec2.SubnetSelection;
  /** Whether the in-VPC handlers (stream trigger, sweep) can reach X-Ray, so may send traces. */
  readonly inVpcHandlersCanTrace: boolean;
}

/**
 * The VPC from `network`, `vpc` or `cluster`, else a new CostOptimizedVpc; in a CostOptimizedVpc,
 * the endpoints the tasks and handlers call.
 */
export function placeInNetwork(scope: Construct, props: OcrServiceClusterProps): Placement {
  let vpc: ec2.IVpc;
  let createdNetwork: CostOptimizedVpc | undefined;
  if (props.network) {
    vpc = props.network.vpc;
  } else if (props.vpc) {
    vpc = props.vpc;
  } else if (props.cluster) {
    vpc = props.cluster.vpc;
  } else {
    createdNetwork = new CostOptimizedVpc(scope, 'Network', { maxAzs: 2 });
    vpc = createdNetwork.vpc;
  }
  const network = props.network ?? createdNetwork;
  const workloadSubnets = props.vpcSubnets ?? network?.workloadSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
  if (network) {
    const endpoints = ['ecr.api', 'ecr.dkr', 'logs', 's3', 'dynamodb'];
    if (tracingEnabled(props)) endpoints.push('xray');
    if (props.secrets || props.cache) endpoints.push('secretsmanager');
    // Textract's completion messages go to SNS from the tasks
    if ((props.textractNotificationTopics ?? []).length > 0) endpoints.push('sns');
    network.requireEndpoints(endpoints);
  }
  // In a CostOptimizedVpc (no route out) traces reach X-Ray only through its endpoint, which is
  // there while tracing is on.
  return { vpc, createdNetwork, workloadSubnets, inVpcHandlersCanTrace: !network || tracingEnabled(props) };
}

/** The `cluster` you passed (with Fargate Spot when `capacity` needs it), else a new one with Container Insights. */
export function clusterOf(scope: Construct, props: OcrServiceClusterProps, vpc: ec2.IVpc): ecs.ICluster {
  if (!props.cluster) {
    return new ecs.Cluster(scope, 'Cluster', {
      vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
      enableFargateCapacityProviders: true,
    });
  }
  if ((props.capacity ?? OcrServiceCapacity.ON_DEMAND) !== OcrServiceCapacity.ON_DEMAND) {
    if (props.cluster instanceof ecs.Cluster) {
      props.cluster.enableFargateCapacityProviders();
    } else {
      Annotations.of(scope).addWarningV2('cdk-ocr-constructs:spotNeedsCapacityProviders',
        'capacity uses FARGATE_SPOT: make sure the imported cluster has the FARGATE and FARGATE_SPOT capacity providers');
    }
  }
  return props.cluster;
}

/** Security group of the tasks; the load balancer, the handlers and the cache open their own rules on it. */
export function createServiceSecurityGroup(scope: Construct, vpc: ec2.IVpc): ec2.SecurityGroup {
  return new ec2.SecurityGroup(scope, 'ServiceSecurityGroup', {
    vpc,
    description: 'OCR service tasks: inbound only from the load balancer',
    allowAllOutbound: true,
  });
}

/** The Cloud Map options through which the stream trigger reaches the tasks of an internet-facing service. */
export function serviceDiscoveryOf(
  scope: Construct, vpc: ec2.IVpc,
): { namespace: servicediscovery.PrivateDnsNamespace; cloudMapOptions: ecs.CloudMapOptions } {
  // A name unique to this construct (two clusters in one VPC must not collide); not a physical
  // name anyone types: the stream trigger gets it from the construct.
  const suffix = Names.uniqueId(scope).replace(/[^A-Za-z0-9]/g, '').slice(-12).toLowerCase();
  const namespace = new servicediscovery.PrivateDnsNamespace(scope, 'ServiceDiscovery', {
    name: `ocr-${suffix}.internal`,
    vpc,
    description: 'OCR service tasks, for the stream trigger',
  });
  return {
    namespace,
    cloudMapOptions: { cloudMapNamespace: namespace, name: 'ocr', dnsRecordType: servicediscovery.DnsRecordType.A, dnsTtl: Duration.seconds(10) },
  };
}
