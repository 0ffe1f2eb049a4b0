import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { imagePullProblem, nonEcrRegistryOf, PullThroughCacheImage, subnetsWithoutInternet } from './image-pull';
import { loadExample } from '../../build-tools/nag-acknowledgements';
import { newTestStack } from '../../test/helpers/compliance';
import { BatchOcrProcessor } from '../batch-ocr-processor';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { OcrServiceCluster } from '../ocr-service-cluster';

const ECR_IMAGE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0';

function stack(): Stack {
  return newTestStack(new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } }));
}

describe('which registry an image comes from', () => {
  test.each([
    ['public.ecr.aws/xray/aws-xray-daemon:3.x', 'public.ecr.aws'],
    ['amazon/aws-xray-daemon', 'docker.io'],
    ['ubuntu', 'docker.io'],
    ['ghcr.io/org/image:1', 'ghcr.io'],
    ['localhost:5000/image', 'localhost:5000'],
    [ECR_IMAGE, undefined],
    ['111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn/x:1', undefined],
  ])('GIVEN %s THEN the registry is %s', (name, registry) => {
    expect(nonEcrRegistryOf(name)).toBe(registry);
  });

  test('GIVEN subnets without a route out THEN only ECR images can be pulled; with NAT any can', () => {
    expect(imagePullProblem('public.ecr.aws/x/y:1', true)).toMatch(/is pulled from public\.ecr\.aws, which tasks in private subnets without NAT cannot reach/);
    expect(imagePullProblem(ECR_IMAGE, true)).toBeUndefined();
    expect(imagePullProblem('public.ecr.aws/x/y:1', false)).toBeUndefined();
  });

  test('GIVEN a CostOptimizedVpc THEN its workload subnets have no internet; a VPC\'s NAT subnets do', () => {
    const s = stack();
    const network = new CostOptimizedVpc(s, 'Network', { maxAzs: 2 });
    expect(subnetsWithoutInternet(network.vpc, network.workloadSubnets)).toBe(true);
    const natVpc = new ec2.Vpc(s, 'WithNat', { maxAzs: 2, natGateways: 1 });
    expect(subnetsWithoutInternet(natVpc, { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS })).toBe(false);
  });
});

describe('PullThroughCacheImage', () => {
  test('GIVEN a cached public image THEN the execution role may pull it and make ECR import it and create its cache repository, in that repository only', () => {
    const s = stack();
    const taskDefinition = new ecs.FargateTaskDefinition(s, 'Task');
    const container = taskDefinition.addContainer('Sidecar', {
      image: PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ecr-public', upstreamRepository: 'aws-observability/aws-otel-collector', tag: 'v0.49.0' }),
    });
    expect(s.resolve(container.imageName)).toEqual({ 'Fn::Join': ['', ['111111111111.dkr.ecr.us-east-1.', { Ref: 'AWS::URLSuffix' }, '/ecr-public/aws-observability/aws-otel-collector:v0.49.0']] });
    Template.fromStack(s).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('TaskExecutionRole') }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'ecr:BatchImportUpstreamImage', 'ecr:CreateRepository'],
            Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecr:us-east-1:111111111111:repository/ecr-public/aws-observability/aws-otel-collector']] },
          },
          { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
        ]),
      },
    });
  });

  test('GIVEN a cached image THEN synth warns that its first pull needs a network with internet access', () => {
    const s = stack();
    new ecs.FargateTaskDefinition(s, 'Task').addContainer('Sidecar', {
      image: PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ecr-public', upstreamRepository: 'aws-observability/aws-otel-collector', tag: 'v0.49.0' }),
    });
    Annotations.fromStack(s).hasWarning('*', Match.stringLikeRegexp('ecr-public/aws-observability/aws-otel-collector:v0.49.0 comes through an ECR pull-through cache. Its first pull must come from a network with internet access'));
  });

  test('GIVEN a prefix that is no repository name THEN it fails naming both props', () => {
    expect(() => PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ECR Public', upstreamRepository: 'x' })).toThrow(/'ecrRepositoryPrefix' and 'upstreamRepository' must be lower-case ECR repository names/);
  });

  test('GIVEN the ocr-service example THEN its tracing collector is pulled through the cache with the permissions a first pull needs', () => {
    const app = new App();
    loadExample('ocr-service')(app);
    const template = app.synth().stacks[0].template as { Resources: Record<string, { Type: string; Properties: any }> };
    const policies = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy').map((r) => JSON.stringify(r.Properties));
    const execution = policies.find((p) => p.includes('ecr-public/aws-observability/aws-otel-collector'));
    expect(execution).toContain('ecr:BatchImportUpstreamImage');
    expect(execution).toContain('ecr:CreateRepository');
  });
});

describe('images the workload subnets cannot pull fail at synth', () => {
  test('GIVEN OcrServiceCluster in a CostOptimizedVpc with a sidecar from public.ecr.aws THEN synth fails naming tracing.image', () => {
    const s = stack();
    expect(() => new OcrServiceCluster(s, 'Ocr', {
      image: ecs.ContainerImage.fromRegistry(ECR_IMAGE),
      tracing: { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0') },
    })).toThrow(/OcrServiceCluster 'Ocr': 'tracing.image' is pulled from public\.ecr\.aws/);
  });

  test('GIVEN BatchOcrProcessor in its own CostOptimizedVpc with a Docker Hub image THEN synth fails naming image', () => {
    expect(() => new BatchOcrProcessor(stack(), 'Ocr', { image: ecs.ContainerImage.fromRegistry('example/ocr-worker:1') }))
      .toThrow(/BatchOcrProcessor 'Ocr': 'image' is pulled from docker\.io/);
  });

  test('GIVEN BatchOcrProcessor in a VPC with NAT THEN a public image is accepted', () => {
    const s = stack();
    const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
    expect(() => new BatchOcrProcessor(s, 'Ocr', { vpc, image: ecs.ContainerImage.fromRegistry('public.ecr.aws/example/ocr-worker:1') })).not.toThrow();
  });
});
