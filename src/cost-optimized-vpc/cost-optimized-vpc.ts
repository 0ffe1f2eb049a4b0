import { CfnOutput, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ExplicitSubnetCidrs, cidrContains, cidrsOverlap, parseCidr } from './cidr';
import { EndpointRequirement, endpointsForWorkload, GATEWAY_SERVICES, knownInterfaceServices } from './endpoints';
import { EgressMode, NetworkCostEstimate, NetworkPricing } from './pricing';
import { PropChecker } from '../common/errors';
import { fixedResourceLineItems } from '../common/fixed-costs';
import { allowCloudWatchLogsToUseKey, limitGrantsToAwsServices } from '../common/key-policy';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';
import { DEFAULT_LOG_RETENTION } from '../common/shared-props';

/** Where interface endpoints are placed. */
export enum EndpointPlacement {
  /** One endpoint network interface in every AZ of the workload subnets: survives an AZ outage. */
  EVERY_AZ = 'EVERY_AZ',
  /**
   * Only in the first AZ: 1/N of the hourly cost, but tasks in other AZs cross AZs to reach the
   * endpoints (cross-AZ data transfer) and lose them if that AZ fails.
   */
  SINGLE_AZ = 'SINGLE_AZ',
}

/** Properties of a `CostOptimizedVpc`: a new VPC (AZs, CIDRs, egress) or an existing one, and where its endpoints go. */
export interface CostOptimizedVpcProps {
  /**
   * An existing VPC to add the missing endpoints to, instead of creating one. Subnets, NAT and flow
   * logs of an existing VPC are left as they are.
   * @default - a new VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Service short names of endpoints that already exist in `vpc` (AWS allows one private-DNS endpoint
   * per service per VPC: a duplicate fails the deployment). Only with `vpc`.
   * @default []
   */
  readonly existingEndpoints?: string[];
  /**
   * Subnets of an existing `vpc` where tasks and endpoints go.
   * @default - the isolated subnets of `vpc`, else its private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** AZs of a new VPC (1-6). @default 2 */
  readonly maxAzs?: number;
  /** CIDR block of a new VPC. @default '10.0.0.0/16' */
  readonly cidr?: string;
  /**
   * Explicit CIDRs of the public subnets, one per AZ, inside `cidr`.
   * @default - /24 blocks allocated from `cidr`
   */
  readonly publicSubnetCidrs?: string[];
  /**
   * Explicit CIDRs of the private subnets, one per AZ, inside `cidr`.
   * @default - /20 blocks allocated from `cidr`
   */
  readonly privateSubnetCidrs?: string[];
  /** Fargate tasks run here (ECS on Fargate or AWS Batch on Fargate). @default true */
  readonly runsFargate?: boolean;
  /** EC2 container instances run here (adds the ecs, ecs-agent and ecs-telemetry endpoints). @default false */
  readonly runsEc2ContainerInstances?: boolean;
  /** ECS Exec into tasks (adds ssmmessages). @default false */
  readonly ecsExec?: boolean;
  /** Session Manager on EC2 instances (adds ssm, ssmmessages, ec2messages). @default false */
  readonly sessionManager?: boolean;
  /** Traces go to X-Ray from inside the VPC: an OpenTelemetry collector sidecar, or in-VPC Lambda functions with active tracing (adds xray). @default false */
  readonly xrayTracing?: boolean;
  /** Tasks reference Secrets Manager secrets (adds secretsmanager). @default false */
  readonly secretsManager?: boolean;
  /** Tasks reference SSM parameters (adds ssm). @default false */
  readonly ssmParameters?: boolean;
  /** Code inside the VPC calls the AWS Batch API (adds batch). @default false */
  readonly batchApi?: boolean;
  /** Code inside the VPC uses DynamoDB (adds the free DynamoDB gateway endpoint). @default false */
  readonly dynamoDb?: boolean;
  /**
   * More interface endpoints by service short name as in `ec2.InterfaceVpcEndpointAwsService`
   * (e.g. 'sqs', 'kms', 'sts'). Each must be known and asked for once.
   * @default []
   */
  readonly additionalInterfaceEndpoints?: string[];
  /** Where interface endpoints are placed. @default EndpointPlacement.EVERY_AZ */
  readonly endpointPlacement?: EndpointPlacement;
  /** Internet egress for the private subnets. Only for a new VPC. @default EgressMode.NONE */
  readonly egress?: EgressMode;
  /** NAT gateways with EgressMode.NAT_GATEWAY. @default - one per AZ (high availability) */
  readonly natGateways?: number;
  /** Instance type of the NAT instance with EgressMode.NAT_INSTANCE. @default t4g.nano */
  readonly natInstanceType?: ec2.InstanceType;
  /**
   * Restrict the S3 gateway endpoint to these buckets (plus ECR's image-layer bucket, which image
   * pulls need).
   * @default - the endpoint allows any bucket (IAM policies still apply)
   */
  readonly s3EndpointAllowedBuckets?: s3.IBucket[];
  /** VPC flow logs to CloudWatch Logs. @default true for a new VPC, false for an existing one */
  readonly flowLogs?: boolean;
  /** Retention of the flow log group. @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /**
   * KMS key for the flow log group. Its key policy must allow the CloudWatch Logs service.
   * @default - a key is created, with rotation
   */
  readonly encryptionKey?: kms.IKey;
  /** Removal policy of the flow log group and the key created for it. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Region whose prices the cost estimate uses.
   * @default - the stack's region when known and priced, else 'us-east-1'
   */
  readonly costRegion?: string;
  /** Traffic through endpoints or NAT per month for the cost estimate (GB). @default 10 */
  readonly estimatedGbPerMonth?: number;
}

const CONSTRUCT = 'CostOptimizedVpc';

/**
 * Private networking for container workloads without a NAT gateway: only the VPC endpoints the
 * workload needs, priced honestly (interface endpoints are billed per AZ).
 *
 * Creates a VPC (public and private subnets across `maxAzs` AZs, no NAT by default, flow logs) or
 * adds the missing endpoints to an existing one. Other constructs call `requireEndpoints()` for the
 * services their tasks or in-VPC handlers call; the cost estimate follows.
 */
export class CostOptimizedVpc extends Construct {
  /** The VPC (created or given). */
  public readonly vpc: ec2.IVpc;
  /** Subnets for tasks, in-VPC Lambdas and the interface endpoints. */
  public readonly workloadSubnets: ec2.SubnetSelection;
  /** Security group of the interface endpoints: HTTPS from inside the VPC only. */
  public readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** Interface endpoints created here, by service short name. */
  public readonly interfaceEndpoints: { [service: string]: ec2.InterfaceVpcEndpoint } = {};
  /** Gateway endpoints created here (s3, dynamodb), by service short name. */
  public readonly gatewayEndpoints: { [service: string]: ec2.GatewayVpcEndpoint } = {};
  /** The flow log, when enabled. */
  public readonly flowLog?: ec2.FlowLog;
  /** The flow log group, when flow logs are enabled. */
  public readonly flowLogGroup?: logs.LogGroup;
  /** The key encrypting the flow log group, when flow logs are enabled. */
  public readonly encryptionKey?: kms.IKey;
  /** Internet egress of the private subnets. */
  public readonly egress: EgressMode;
  /** Where interface endpoints are placed. */
  public readonly endpointPlacement: EndpointPlacement;

  private readonly existing: Set<string>;
  /** The VPC CIDR as a literal when known (new VPC), so security-group rules and nag checks see it. */
  private readonly vpcCidr?: string;
  private readonly reasons = new Map<string, string>();
  private readonly props: CostOptimizedVpcProps;
  private readonly azCount: number;
  private readonly natCount: number;

  constructor(scope: Construct, id: string, props: CostOptimizedVpcProps = {}) {
    super(scope, id);
    this.props = props;
    const check = new PropChecker(CONSTRUCT, id);
    validateProps(check, props);

    this.egress = props.egress ?? EgressMode.NONE;
    this.endpointPlacement = props.endpointPlacement ?? EndpointPlacement.EVERY_AZ;
    this.existing = new Set(props.existingEndpoints ?? []);

    if (props.vpc) {
      this.vpc = props.vpc;
      this.workloadSubnets = props.vpcSubnets ?? {
        subnetType: props.vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS,
      };
      this.azCount = Token.isUnresolved(props.vpc.availabilityZones) ? 2 : props.vpc.availabilityZones.length;
      this.natCount = 0;
    } else {
      const maxAzs = props.maxAzs ?? 2;
      const privateType = this.egress === EgressMode.NONE ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS;
      this.natCount = this.egress === EgressMode.NAT_GATEWAY ? (props.natGateways ?? maxAzs)
        : this.egress === EgressMode.NAT_INSTANCE ? 1 : 0;
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs,
        ipAddresses: props.publicSubnetCidrs || props.privateSubnetCidrs
          ? new ExplicitSubnetCidrs(props.cidr ?? '10.0.0.0/16', props.publicSubnetCidrs, props.privateSubnetCidrs)
          : ec2.IpAddresses.cidr(props.cidr ?? '10.0.0.0/16'),
        subnetConfiguration: [
          // Public subnets hold an internet-facing load balancer or the NAT; nothing gets a public IP by default.
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          { name: 'Private', subnetType: privateType, cidrMask: 20 },
        ],
        natGateways: this.natCount,
        natGatewayProvider: this.egress === EgressMode.NAT_INSTANCE
          ? ec2.NatProvider.instanceV2({
            instanceType: props.natInstanceType ?? ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.NANO),
            machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
            associatePublicIpAddress: true,
            // Inbound is opened below to the VPC CIDR only, not to 0.0.0.0/0 as the default would.
            defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
          })
          : undefined,
        // Removes all rules from the default security group (NIST SC-7): nothing here uses it.
        restrictDefaultSecurityGroup: true,
      });
      this.vpc = vpc;
      this.vpcCidr = props.cidr ?? '10.0.0.0/16';
      this.workloadSubnets = { subnetType: privateType };
      this.azCount = vpc.availabilityZones.length;
      acknowledgeDefaultSgProvider(this);
      acknowledgePublicRoutes(vpc);
      if (this.egress === EgressMode.NAT_INSTANCE) {
        hardenNatInstances(vpc, this.vpcCidr);
      }
    }

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    this.endpointSecurityGroup.addIngressRule(ec2.Peer.ipv4(this.vpcCidr ?? this.vpc.vpcCidrBlock), ec2.Port.tcp(443), 'HTTPS from inside the VPC');
    if (!this.vpcCidr) {
      // An existing VPC's CIDR is a token here, which the port rules cannot evaluate.
      const reason = 'The endpoint security group admits only TCP 443 from the existing VPC\'s own CIDR, a token the rule cannot resolve at synth.';
      acknowledgeNagFindings(this.endpointSecurityGroup, [
        { ruleId: 'AwsSolutions-EC23', reason },
        { ruleId: 'NIST.800.53.R5-EC2RestrictedCommonPorts', reason },
        { ruleId: 'NIST.800.53.R5-EC2RestrictedSSH', reason },
        { ruleId: 'HIPAA.Security-EC2RestrictedCommonPorts', reason },
        { ruleId: 'HIPAA.Security-EC2RestrictedSSH', reason },
      ]);
    }

    if (props.flowLogs ?? !props.vpc) {
      this.encryptionKey = props.encryptionKey ?? this.createLogKey(props.removalPolicy ?? RemovalPolicy.RETAIN);
      allowCloudWatchLogsToUseKey(this, this.encryptionKey);
      this.flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
        retention: props.logRetention ?? DEFAULT_LOG_RETENTION,
        encryptionKey: this.encryptionKey,
        removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      });
      this.flowLog = new ec2.FlowLog(this, 'FlowLog', {
        resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
        destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      acknowledgeInlinePolicyOf(this.flowLog, 'VPC flow log delivery');
    }

    const needs = endpointsForWorkload({
      fargate: props.runsFargate ?? true,
      ec2ContainerInstances: props.runsEc2ContainerInstances ?? false,
      ecsExec: props.ecsExec ?? false,
      sessionManager: props.sessionManager ?? false,
      xray: props.xrayTracing ?? false,
      secretsManager: props.secretsManager ?? false,
      ssmParameters: props.ssmParameters ?? false,
      batchApi: props.batchApi ?? false,
      dynamoDb: props.dynamoDb ?? false,
    });
    const implied = new Set(needs.map((n) => n.service));
    for (const extra of props.additionalInterfaceEndpoints ?? []) {
      if (implied.has(extra)) {
        check.fail('additionalInterfaceEndpoints', `asks for '${extra}' twice: the workload settings already add it (${needs.find((n) => n.service === extra)!.reason})`);
      }
    }
    // S3 is always needed: ECR keeps image layers in S3, and documents live there.
    this.addRequirements([{ service: 's3', reason: 'image layers (ECR stores them in S3) and documents' }, ...needs]);
    this.addRequirements((props.additionalInterfaceEndpoints ?? []).map((service) => ({ service, reason: 'asked for explicitly' })));

    new CfnOutput(this, 'MonthlyCostEstimateUsd', {
      description: 'Estimated monthly cost of this network configuration in USD (endpoints and NAT; see README for the basis)',
      value: Lazy.string({ produce: () => this.estimateMonthlyCost().totalMonthlyUsd.toFixed(2) }),
    });
  }

  /**
   * Make sure the VPC has endpoints for these services (short names as in
   * `ec2.InterfaceVpcEndpointAwsService`, e.g. 'batch', 'sqs', 'xray'; 's3' and 'dynamodb' become
   * free gateway endpoints). Idempotent: services already present are skipped.
   */
  public requireEndpoints(services: string[], reason?: string): void {
    this.addRequirements(services.map((service) => ({ service, reason: reason ?? 'required by a construct using this network' })));
  }

  /** Services with an endpoint created here, each with why it is there. */
  public endpointReasons(): { [service: string]: string } {
    return Object.fromEntries(this.reasons);
  }

  /** Short names of the interface endpoints created here, in creation order. */
  public get interfaceEndpointServices(): string[] {
    return Object.keys(this.interfaceEndpoints);
  }

  /** AZs the interface endpoints are placed in. */
  public get endpointAzCount(): number {
    return this.endpointPlacement === EndpointPlacement.SINGLE_AZ ? 1 : this.azCount;
  }

  /**
   * What this configuration costs per month: interface endpoints per AZ, NAT if any, at
   * `gbPerMonth` of traffic, and the customer-managed KMS key of the flow logs when this construct
   * created it. See `NetworkPricing` for the price table and its date. Flow-log ingestion is billed
   * per GB of logs and is not included.
   */
  public estimateMonthlyCost(gbPerMonth?: number): NetworkCostEstimate {
    const network = NetworkPricing.estimate({
      region: this.costRegion(),
      interfaceEndpoints: this.interfaceEndpointServices,
      endpointAzs: this.endpointAzCount,
      egress: this.egress,
      natGateways: this.natCount,
      gbProcessedPerMonth: gbPerMonth ?? this.props.estimatedGbPerMonth ?? 10,
    });
    // the keys (and any other fixed items) among the resources this construct created
    const own = fixedResourceLineItems(this);
    const ownUsd = own.reduce((sum, i) => sum + i.monthlyUsd, 0);
    const cents = (x: number) => Math.round(x * 100) / 100;
    return {
      ...network,
      lineItems: [...network.lineItems, ...own],
      fixedMonthlyUsd: cents(network.fixedMonthlyUsd + ownUsd),
      totalMonthlyUsd: cents(network.totalMonthlyUsd + ownUsd),
    };
  }

  private costRegion(): string {
    if (this.props.costRegion) return this.props.costRegion;
    const region = Stack.of(this).region;
    return !Token.isUnresolved(region) && NetworkPricing.knownRegions().includes(region) ? region : 'us-east-1';
  }

  private addRequirements(requirements: EndpointRequirement[]): void {
    const known = knownInterfaceServices();
    for (const { service, reason } of requirements) {
      if (this.reasons.has(service) || this.existing.has(service)) continue;
      if ((GATEWAY_SERVICES as readonly string[]).includes(service)) {
        this.reasons.set(service, reason);
        this.gatewayEndpoints[service] = this.addGatewayEndpoint(service);
        continue;
      }
      const awsService = known.get(service);
      if (!awsService) {
        throw new Error(`${CONSTRUCT} '${this.node.id}': unknown endpoint service name '${service}' (use a short name such as 'ecr.api', 'logs', 'batch', 'sqs')`);
      }
      this.reasons.set(service, reason);
      this.interfaceEndpoints[service] = new ec2.InterfaceVpcEndpoint(this, `Endpoint-${service}`, {
        vpc: this.vpc,
        service: awsService,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        subnets: this.endpointPlacement === EndpointPlacement.SINGLE_AZ
          ? { ...this.workloadSubnets, availabilityZones: [this.firstAz()] }
          : this.workloadSubnets,
        open: false,
      });
    }
  }

  private firstAz(): string {
    return this.vpc.selectSubnets(this.workloadSubnets).availabilityZones[0];
  }

  private addGatewayEndpoint(service: string): ec2.GatewayVpcEndpoint {
    const endpoint = new ec2.GatewayVpcEndpoint(this, `Endpoint-${service}`, {
      vpc: this.vpc,
      service: service === 's3' ? ec2.GatewayVpcEndpointAwsService.S3 : ec2.GatewayVpcEndpointAwsService.DYNAMODB,
      subnets: [this.workloadSubnets],
    });
    if (service === 's3' && this.props.s3EndpointAllowedBuckets) {
      const stack = Stack.of(this);
      const buckets = this.props.s3EndpointAllowedBuckets;
      endpoint.addToPolicy(new iam.PolicyStatement({
        sid: 'AllowedBuckets',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:*'],
        resources: buckets.flatMap((b) => [b.bucketArn, b.arnForObjects('*')]),
      }));
      // Without this, every image pull fails: ECR serves image layers from this AWS-owned bucket.
      endpoint.addToPolicy(new iam.PolicyStatement({
        sid: 'EcrImageLayers',
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject'],
        resources: [`arn:${stack.partition}:s3:::prod-${stack.region}-starport-layer-bucket/*`],
      }));
    }
    return endpoint;
  }

  private createLogKey(removalPolicy: RemovalPolicy): kms.Key {
    const key = new kms.Key(this, 'LogKey', {
      description: `Encrypts the VPC flow logs of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy,
    });
    allowCloudWatchLogsToUseKey(this, key);
    limitGrantsToAwsServices(key);
    return key;
  }
}

function validateProps(check: PropChecker, props: CostOptimizedVpcProps): void {
  check.integerInRange('maxAzs', props.maxAzs, 1, 6);
  check.numberInRange('estimatedGbPerMonth', props.estimatedGbPerMonth, 0, 1e9);
  if (props.vpc) {
    for (const p of ['maxAzs', 'cidr', 'publicSubnetCidrs', 'privateSubnetCidrs', 'natGateways', 'natInstanceType'] as const) {
      if (props[p] !== undefined) check.fail(p, 'cannot be set with an existing vpc (its subnets and NAT are left as they are)');
    }
    if (props.egress !== undefined && props.egress !== EgressMode.NONE) check.fail('egress', 'cannot add NAT to an existing vpc');
  } else if (props.existingEndpoints !== undefined) {
    check.fail('existingEndpoints', 'only applies to an existing vpc');
  }
  if (props.vpcSubnets && !props.vpc) check.fail('vpcSubnets', 'only applies to an existing vpc');

  if (props.natGateways !== undefined) {
    if (props.egress !== EgressMode.NAT_GATEWAY) check.fail('natGateways', 'needs egress: EgressMode.NAT_GATEWAY');
    check.integerInRange('natGateways', props.natGateways, 1, props.maxAzs ?? 2);
  }
  if (props.natInstanceType && props.egress !== EgressMode.NAT_INSTANCE) check.fail('natInstanceType', 'needs egress: EgressMode.NAT_INSTANCE');

  const known = knownInterfaceServices();
  const seen = new Set<string>();
  for (const s of props.additionalInterfaceEndpoints ?? []) {
    if ((GATEWAY_SERVICES as readonly string[]).includes(s)) check.fail('additionalInterfaceEndpoints', `'${s}' is a free gateway endpoint: use dynamoDb: true (S3 is always added)`);
    if (!known.has(s)) check.fail('additionalInterfaceEndpoints', `unknown endpoint service name '${s}' (use a short name such as 'sqs', 'kms', 'sts')`);
    if (seen.has(s)) check.fail('additionalInterfaceEndpoints', `asks for '${s}' twice`);
    seen.add(s);
  }
  for (const s of props.existingEndpoints ?? []) {
    if (!known.has(s) && !(GATEWAY_SERVICES as readonly string[]).includes(s)) check.fail('existingEndpoints', `unknown endpoint service name '${s}'`);
  }

  const cidr = props.cidr ?? '10.0.0.0/16';
  if (!props.vpc && !Token.isUnresolved(cidr)) {
    const parsed = parseCidr(cidr);
    if (!parsed) check.fail('cidr', `must be an IPv4 CIDR block like 10.0.0.0/16, got '${cidr}'`);
    if (parsed.prefix < 16 || parsed.prefix > 24) check.fail('cidr', `must have a prefix from /16 to /24 (the VPC limits), got /${parsed.prefix}`);
    const azs = props.maxAzs ?? 2;
    const all: { prop: string; value: string }[] = [];
    for (const prop of ['publicSubnetCidrs', 'privateSubnetCidrs'] as const) {
      const list = props[prop];
      if (!list) continue;
      if (list.length !== azs) check.fail(prop, `needs one CIDR per AZ (${azs}), got ${list.length}`);
      for (const value of list) {
        if (!parseCidr(value)) check.fail(prop, `has '${value}', which is not an IPv4 CIDR block`);
        if (!cidrContains(cidr, value)) check.fail(prop, `has '${value}', which is outside the VPC CIDR ${cidr}`);
        all.push({ prop, value });
      }
    }
    if ((props.publicSubnetCidrs === undefined) !== (props.privateSubnetCidrs === undefined)) {
      check.fail(props.publicSubnetCidrs ? 'privateSubnetCidrs' : 'publicSubnetCidrs', 'must be given together with the other list of subnet CIDRs');
    }
    for (let i = 0; i < all.length; i++) {
      for (let j = i + 1; j < all.length; j++) {
        if (cidrsOverlap(all[i].value, all[j].value)) {
          check.fail(all[j].prop, `has '${all[j].value}', which overlaps '${all[i].value}' (${all[i].prop})`);
        }
      }
    }
  }
}

const acknowledgedProviders = new WeakSet<Construct>();

/**
 * `restrictDefaultSecurityGroup` is implemented by aws-cdk-lib with a stack-level custom resource
 * provider (a Lambda function and its role). It exists only because this construct asked for it.
 */
function acknowledgeDefaultSgProvider(scope: Construct): void {
  const provider = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  // One provider per stack, however many VPCs ask for it: acknowledge it once.
  if (!provider || acknowledgedProviders.has(provider)) return;
  acknowledgedProviders.add(provider);
  const handler = provider.node.tryFindChild('Handler');
  const role = provider.node.tryFindChild('Role');
  const why = 'aws-cdk-lib custom resource that strips the rules of the VPC default security group once per deployment';
  if (handler) {
    acknowledgeNagFindings(handler, [
      { ruleId: 'NIST.800.53.R5-LambdaInsideVPC', reason: `${why}; it calls only the EC2 API and must run outside the VPC it configures.` },
      { ruleId: 'HIPAA.Security-LambdaInsideVPC', reason: `${why}; it calls only the EC2 API and must run outside the VPC it configures.` },
      { ruleId: 'NIST.800.53.R5-LambdaDLQ', reason: `${why}; CloudFormation invokes it synchronously and reports failures itself.` },
      { ruleId: 'HIPAA.Security-LambdaDLQ', reason: `${why}; CloudFormation invokes it synchronously and reports failures itself.` },
      { ruleId: 'NIST.800.53.R5-LambdaConcurrency', reason: `${why}; it runs only during deployments, so reserved concurrency would only risk the account quota.` },
      { ruleId: 'HIPAA.Security-LambdaConcurrency', reason: `${why}; it runs only during deployments, so reserved concurrency would only risk the account quota.` },
      { ruleId: 'AwsSolutions-L1', reason: `${why}; its runtime is chosen and updated by aws-cdk-lib, not by this library.` },
    ]);
  }
  if (role) {
    acknowledgeNagFindings(role, [
      { ruleId: 'AwsSolutions-IAM4', reason: `${why}; aws-cdk-lib attaches AWSLambdaBasicExecutionRole for its logs.`, findings: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'] },
    ]);
  }
}

/** Public subnets route to the internet gateway by design: they exist for an internet-facing ALB or the NAT. */
function acknowledgePublicRoutes(vpc: ec2.Vpc): void {
  for (const subnet of vpc.publicSubnets) {
    const route = subnet.node.tryFindChild('DefaultRoute');
    if (!route) continue;
    const reason = 'Default route of a public subnet to the internet gateway: public subnets hold only an internet-facing load balancer or the NAT, and nothing in them gets a public IP automatically.';
    acknowledgeNagFindings(route, [
      { ruleId: 'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW', reason },
      { ruleId: 'HIPAA.Security-VPCNoUnrestrictedRouteToIGW', reason },
    ]);
  }
}

/**
 * The NAT instance (egress NAT_INSTANCE) is an explicit choice of one cheap instance: encrypt its root
 * volume, admit traffic only from the VPC, and acknowledge what a plain forwarder does not need.
 */
function hardenNatInstances(vpc: ec2.Vpc, vpcCidr: string): void {
  for (const subnet of vpc.publicSubnets) {
    const instance = subnet.node.tryFindChild('NatInstance') as ec2.Instance | undefined;
    if (!instance) continue;
    const cfn = instance.node.defaultChild as ec2.CfnInstance;
    cfn.blockDeviceMappings = [{ deviceName: '/dev/xvda', ebs: { encrypted: true, volumeType: 'gp3', volumeSize: 8 } }];
    // Forward web traffic only (HTTP for package mirrors, HTTPS for APIs), from the VPC only.
    for (const sg of instance.connections.securityGroups) {
      sg.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), 'HTTPS from the private subnets to forward');
      sg.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(80), 'HTTP from the private subnets to forward');
    }
    acknowledgeInlinePolicyOf(instance, 'NAT instance');
    const why = 'NAT instance chosen with egress NAT_INSTANCE as the cheapest internet egress';
    acknowledgeNagFindings(instance, [
      { ruleId: 'AwsSolutions-EC28', reason: `${why}; basic monitoring suffices for a stateless forwarder.` },
      { ruleId: 'AwsSolutions-EC29', reason: `${why}; it is stateless and replaced by redeploying, so termination protection would only block that.` },
      { ruleId: 'NIST.800.53.R5-EC2InstanceDetailedMonitoringEnabled', reason: `${why}; basic monitoring suffices for a stateless forwarder.` },
      { ruleId: 'HIPAA.Security-EC2InstanceDetailedMonitoringEnabled', reason: `${why}; basic monitoring suffices for a stateless forwarder.` },
      { ruleId: 'NIST.800.53.R5-EC2InstanceNoPublicIp', reason: `${why}; a NAT instance needs a public IP to forward traffic to the internet.` },
      { ruleId: 'HIPAA.Security-EC2InstanceNoPublicIp', reason: `${why}; a NAT instance needs a public IP to forward traffic to the internet.` },
      { ruleId: 'NIST.800.53.R5-EC2IMDSv2Enabled', reason: `${why}; its role grants only SSM-free defaults and it runs no workload code that could query metadata.` },
      { ruleId: 'HIPAA.Security-EC2IMDSv2Enabled', reason: `${why}; its role grants only SSM-free defaults and it runs no workload code that could query metadata.` },
      { ruleId: 'NIST.800.53.R5-EC2InstancesInVPC', reason: `${why}; it is in a public subnet of this VPC (the rule cannot resolve the subnet token).` },
      { ruleId: 'HIPAA.Security-EC2InstancesInVPC', reason: `${why}; it is in a public subnet of this VPC (the rule cannot resolve the subnet token).` },
    ]);
  }
}
