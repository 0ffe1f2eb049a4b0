import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CostOptimizedVpc, CostOptimizedVpcProps, EndpointPlacement } from './cost-optimized-vpc';
import { EgressMode } from './pricing';
import { newTestApp, newTestStack, synthCompliant, synthFindings, formatFindings } from '../../test/helpers/compliance';

function build(props: CostOptimizedVpcProps = {}, nag = false): { app: App; stack: Stack; net: CostOptimizedVpc; template: () => Template } {
  const app = newTestApp({ nag });
  const stack = newTestStack(app);
  const net = new CostOptimizedVpc(stack, 'Network', props);
  return {
    app,
    stack,
    net,
    template: () => {
      const findings = synthFindings(app);
      if (findings.length > 0) throw new Error(formatFindings(findings));
      return Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
    },
  };
}

/** Service short names of the interface endpoints in a template, from their ServiceName. */
function interfaceServices(template: Template): string[] {
  const endpoints = template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } });
  return Object.values(endpoints).map((r) => String(r.Properties.ServiceName).replace('com.amazonaws.us-east-1.', '')).sort();
}

function gatewayServices(template: Template): string[] {
  const endpoints = template.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Gateway' } });
  return Object.values(endpoints).map((r) => JSON.stringify(r.Properties.ServiceName).match(/\.(s3|dynamodb)"/)![1]).sort();
}

describe('CostOptimizedVpc endpoints per workload', () => {
  test('GIVEN defaults (Fargate) THEN exactly ECR API, ECR Docker, Logs and the S3 gateway, no ECS endpoints, no NAT', () => {
    const { template } = build();
    const t = template();
    expect(interfaceServices(t)).toEqual(['ecr.api', 'ecr.dkr', 'logs']);
    expect(gatewayServices(t)).toEqual(['s3']);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::Instance', 0);
    t.resourceCountIs('AWS::EC2::Subnet', 4);
  });

  test('GIVEN EC2 container instances THEN the ECS agent endpoints are added', () => {
    const t = build({ runsEc2ContainerInstances: true }).template();
    expect(interfaceServices(t)).toEqual(['ecr.api', 'ecr.dkr', 'ecs', 'ecs-agent', 'ecs-telemetry', 'logs']);
  });

  test('GIVEN ECS Exec, X-Ray, Secrets Manager, Batch API and DynamoDB THEN each adds its endpoint', () => {
    const t = build({ ecsExec: true, xrayTracing: true, secretsManager: true, batchApi: true, dynamoDb: true }).template();
    expect(interfaceServices(t)).toEqual(['batch', 'ecr.api', 'ecr.dkr', 'logs', 'secretsmanager', 'ssmmessages', 'xray']);
    expect(gatewayServices(t)).toEqual(['dynamodb', 's3']);
  });

  test('GIVEN Session Manager THEN ssm, ssmmessages and ec2messages', () => {
    const t = build({ sessionManager: true }).template();
    expect(interfaceServices(t)).toEqual(['ec2messages', 'ecr.api', 'ecr.dkr', 'logs', 'ssm', 'ssmmessages']);
  });

  test('GIVEN additional endpoints and requireEndpoints THEN added once each, idempotently', () => {
    const { net, template } = build({ additionalInterfaceEndpoints: ['sqs'] });
    net.requireEndpoints(['batch', 'sqs', 'dynamodb', 'logs']);
    net.requireEndpoints(['batch']);
    const t = template();
    expect(interfaceServices(t)).toEqual(['batch', 'ecr.api', 'ecr.dkr', 'logs', 'sqs']);
    expect(gatewayServices(t)).toEqual(['dynamodb', 's3']);
    expect(net.interfaceEndpointServices).toEqual(['ecr.api', 'ecr.dkr', 'logs', 'sqs', 'batch']);
  });

  test('GIVEN the endpoint security group THEN it admits HTTPS from the VPC CIDR only and has no egress', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface VPC endpoints: HTTPS from inside the VPC only',
      SecurityGroupIngress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '10.0.0.0/16' })],
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
    });
  });
});

describe('CostOptimizedVpc placement', () => {
  test('GIVEN EVERY_AZ THEN each interface endpoint spans both private subnets', () => {
    const t = build().template();
    for (const ep of Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))) {
      expect(ep.Properties.SubnetIds).toHaveLength(2);
    }
  });

  test('GIVEN SINGLE_AZ THEN each interface endpoint sits in one subnet and the estimate halves', () => {
    const every = build({ maxAzs: 2 });
    const single = build({ maxAzs: 2, endpointPlacement: EndpointPlacement.SINGLE_AZ });
    const t = single.template();
    for (const ep of Object.values(t.findResources('AWS::EC2::VPCEndpoint', { Properties: { VpcEndpointType: 'Interface' } }))) {
      expect(ep.Properties.SubnetIds).toHaveLength(1);
    }
    const fixed = (n: CostOptimizedVpc) => n.estimateMonthlyCost(0).fixedMonthlyUsd;
    // 3 endpoints x 2 AZ x 730 h x $0.01, + $1 for the flow-log KMS key the construct created
    expect(fixed(every.net)).toBeCloseTo(43.8 + 1, 2);
    expect(fixed(single.net)).toBeCloseTo(21.9 + 1, 2);
  });

  test('GIVEN flow logs WHEN costed THEN the flow-log key the construct created is a line item, and a key of the caller\'s is not', () => {
    const own = build({ maxAzs: 2 }).net.estimateMonthlyCost(0);
    expect(own.lineItems).toContainEqual({ item: 'KMS customer-managed keys x 1', quantity: 1, unit: 'key-months', unitPriceUsd: 1, monthlyUsd: 1 });
    expect(own.totalMonthlyUsd).toBeCloseTo(own.fixedMonthlyUsd, 2);
    const stack = new Stack(new App(), 'Keyed', { env: { account: '111111111111', region: 'us-east-1' } });
    const key = new kms.Key(stack, 'CallersKey');
    const theirs = new CostOptimizedVpc(stack, 'Net', { maxAzs: 2, encryptionKey: key }).estimateMonthlyCost(0);
    expect(theirs.lineItems.map((i) => i.item)).not.toContain('KMS customer-managed keys x 1');
    expect(theirs.fixedMonthlyUsd).toBeCloseTo(43.8, 2);
  });
});

describe('CostOptimizedVpc egress modes', () => {
  test('GIVEN NAT_GATEWAY THEN one NAT gateway per AZ and private subnets with egress', () => {
    const { template, net } = build({ egress: EgressMode.NAT_GATEWAY });
    const t = template();
    t.resourceCountIs('AWS::EC2::NatGateway', 2);
    expect(net.estimateMonthlyCost(0).lineItems.map((i) => i.item)).toEqual(expect.arrayContaining(['NAT gateway x 2', 'Public IPv4 address x 2 (one per NAT gateway)']));
  });

  test('GIVEN NAT_GATEWAY with natGateways 1 THEN a single gateway', () => {
    build({ egress: EgressMode.NAT_GATEWAY, natGateways: 1 }).template().resourceCountIs('AWS::EC2::NatGateway', 1);
  });

  test('GIVEN NAT_INSTANCE THEN one t4g.nano instance and no NAT gateway', () => {
    const t = build({ egress: EgressMode.NAT_INSTANCE }).template();
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    t.resourceCountIs('AWS::EC2::Instance', 1);
    t.hasResourceProperties('AWS::EC2::Instance', { InstanceType: 't4g.nano', SourceDestCheck: false });
  });

  test('GIVEN no egress THEN private subnets have no default route', () => {
    const t = build().template();
    const routes = t.findResources('AWS::EC2::Route');
    // Only the public subnets route 0.0.0.0/0, to the internet gateway.
    for (const r of Object.values(routes)) expect(r.Properties.GatewayId).toBeDefined();
    expect(Object.keys(routes)).toHaveLength(2);
  });
});

describe('CostOptimizedVpc on an existing VPC', () => {
  test('GIVEN an existing VPC with some endpoints THEN only the missing ones are added, no subnets or flow logs', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const vpc = new ec2.Vpc(stack, 'Existing', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'Iso', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const net = new CostOptimizedVpc(stack, 'Network', { vpc, existingEndpoints: ['ecr.api', 's3'] });
    expect(net.vpc).toBe(vpc);
    const t = Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
    expect(interfaceServices(t)).toEqual(['ecr.dkr', 'logs']);
    t.resourceCountIs('AWS::EC2::VPCEndpoint', 2);
    t.resourceCountIs('AWS::EC2::FlowLog', 0);
    t.resourceCountIs('AWS::EC2::VPC', 1);
  });
});

describe('CostOptimizedVpc security settings', () => {
  test('GIVEN defaults THEN flow logs go to an encrypted log group with one-year retention', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC', TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  test('GIVEN the flow-log key THEN only AWS services, or grants for AWS resources, may create grants on it', () => {
    const t = build().template();
    t.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([{
          Sid: 'DenyGrantsExceptForAwsServices',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'kms:CreateGrant',
          Resource: '*',
          Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
        }]),
      },
    });
  });

  test('GIVEN allowed buckets THEN the S3 gateway policy still allows the ECR image-layer bucket', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const bucket = new s3.Bucket(stack, 'Docs');
    new CostOptimizedVpc(stack, 'Network', { s3EndpointAllowedBuckets: [bucket] });
    const t = Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
    t.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'AllowedBuckets' }),
          Match.objectLike({ Sid: 'EcrImageLayers', Action: 's3:GetObject', Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::prod-us-east-1-starport-layer-bucket/*']] } }),
        ]),
      },
    });
  });

  test('GIVEN explicit subnet CIDRs THEN the subnets use them', () => {
    const t = build({ cidr: '10.1.0.0/16', publicSubnetCidrs: ['10.1.0.0/24', '10.1.1.0/24'], privateSubnetCidrs: ['10.1.16.0/20', '10.1.32.0/20'] }).template();
    for (const c of ['10.1.0.0/24', '10.1.1.0/24', '10.1.16.0/20', '10.1.32.0/20']) t.hasResourceProperties('AWS::EC2::Subnet', { CidrBlock: c });
  });

  test('GIVEN two instances in one stack THEN both synthesize', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    new CostOptimizedVpc(stack, 'A');
    new CostOptimizedVpc(stack, 'B', { cidr: '10.2.0.0/16' });
    expect(synthFindings(app)).toEqual([]);
  });

  test('GIVEN the estimate THEN it is a stack output', () => {
    const t = build().template();
    t.hasOutput('*', { Value: '44.90' }); // 43.80 fixed + the flow-log key $1 + 10 GB x $0.01 through endpoints
  });
});

describe('CostOptimizedVpc compliance', () => {
  test.each([
    ['defaults', {}],
    ['NAT instance', { egress: EgressMode.NAT_INSTANCE }],
    ['NAT gateways, every workload', { egress: EgressMode.NAT_GATEWAY, ecsExec: true, xrayTracing: true, secretsManager: true, batchApi: true, dynamoDb: true }],
    ['single AZ', { maxAzs: 1, endpointPlacement: EndpointPlacement.SINGLE_AZ }],
  ] as [string, CostOptimizedVpcProps][])('GIVEN %s THEN cdk-nag (both majors, three packs) and schema validation are clean', (_name, props) => {
    const { app } = build(props, true);
    synthCompliant(app);
  });
});

describe('CostOptimizedVpc bad props fail at synth naming the construct and prop', () => {
  const app = () => newTestStack(newTestApp({ nag: false }));
  test.each([
    [{ maxAzs: 0 }, /CostOptimizedVpc 'Network': 'maxAzs' must be an integer from 1 to 6, got 0/],
    [{ maxAzs: 7 }, /'maxAzs' must be an integer from 1 to 6, got 7/],
    [{ maxAzs: 1.5 }, /'maxAzs' must be an integer/],
    [{ cidr: '10.0.0.0' }, /'cidr' must be an IPv4 CIDR block/],
    [{ cidr: '10.0.0.0/8' }, /'cidr' must have a prefix from \/16 to \/24/],
    [{ additionalInterfaceEndpoints: ['not-a-service'] }, /'additionalInterfaceEndpoints' unknown endpoint service name 'not-a-service'/],
    [{ additionalInterfaceEndpoints: ['sqs', 'sqs'] }, /'additionalInterfaceEndpoints' asks for 'sqs' twice/],
    [{ additionalInterfaceEndpoints: ['logs'] }, /'additionalInterfaceEndpoints' asks for 'logs' twice: the workload settings already add it/],
    [{ additionalInterfaceEndpoints: ['s3'] }, /'s3' is a free gateway endpoint/],
    [{ publicSubnetCidrs: ['10.0.0.0/24', '10.0.0.128/25'], privateSubnetCidrs: ['10.0.16.0/20', '10.0.32.0/20'] }, /'publicSubnetCidrs' has '10.0.0.128\/25', which overlaps '10.0.0.0\/24'/],
    [{ publicSubnetCidrs: ['10.0.0.0/24', '10.0.1.0/24'], privateSubnetCidrs: ['10.0.0.0/20', '10.0.32.0/20'] }, /'privateSubnetCidrs' has '10.0.0.0\/20', which overlaps/],
    [{ publicSubnetCidrs: ['10.9.0.0/24', '10.0.1.0/24'], privateSubnetCidrs: ['10.0.16.0/20', '10.0.32.0/20'] }, /outside the VPC CIDR 10.0.0.0\/16/],
    [{ publicSubnetCidrs: ['10.0.0.0/24'], privateSubnetCidrs: ['10.0.16.0/20', '10.0.32.0/20'] }, /'publicSubnetCidrs' needs one CIDR per AZ \(2\), got 1/],
    [{ publicSubnetCidrs: ['10.0.0.0/24', '10.0.1.0/24'] }, /'privateSubnetCidrs' must be given together/],
    [{ existingEndpoints: ['logs'] }, /'existingEndpoints' only applies to an existing vpc/],
    [{ natGateways: 2 }, /'natGateways' needs egress: EgressMode.NAT_GATEWAY/],
    [{ egress: EgressMode.NAT_GATEWAY, natGateways: 3 }, /'natGateways' must be an integer from 1 to 2, got 3/],
    [{ natInstanceType: new ec2.InstanceType('t4g.micro') }, /'natInstanceType' needs egress: EgressMode.NAT_INSTANCE/],
    [{ estimatedGbPerMonth: -1 }, /'estimatedGbPerMonth' must be from 0/],
  ] as [CostOptimizedVpcProps, RegExp][])('%j', (props, error) => {
    expect(() => new CostOptimizedVpc(app(), 'Network', props)).toThrow(error);
  });

  test('GIVEN an existing VPC THEN creation props and NAT are refused', () => {
    const stack = app();
    const vpc = new ec2.Vpc(stack, 'Existing');
    expect(() => new CostOptimizedVpc(stack, 'Network', { vpc, maxAzs: 3 })).toThrow(/'maxAzs' cannot be set with an existing vpc/);
    expect(() => new CostOptimizedVpc(stack, 'Network2', { vpc, egress: EgressMode.NAT_GATEWAY })).toThrow(/'egress' cannot add NAT to an existing vpc/);
    expect(() => new CostOptimizedVpc(stack, 'Network3', { vpc, existingEndpoints: ['bogus'] })).toThrow(/'existingEndpoints' unknown endpoint service name 'bogus'/);
  });

  test('GIVEN requireEndpoints with an unknown service THEN a clear error', () => {
    const net = new CostOptimizedVpc(app(), 'Network');
    expect(() => net.requireEndpoints(['nope'])).toThrow(/CostOptimizedVpc 'Network': unknown endpoint service name 'nope'/);
  });
});
