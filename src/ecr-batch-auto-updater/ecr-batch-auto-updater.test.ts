import { App, Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { EcrBatchAutoUpdater } from './ecr-batch-auto-updater';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';

function imported(stack: Stack) {
  return {
    repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr-worker'),
    jobDefinition: batch.EcsJobDefinition.fromJobDefinitionArn(stack, 'JobDef', 'arn:aws:batch:us-east-1:111111111111:job-definition/ocr-job:3'),
    jobRole: iam.Role.fromRoleArn(stack, 'JobRole', 'arn:aws:iam::111111111111:role/ocr-job-role'),
    executionRole: iam.Role.fromRoleArn(stack, 'ExecRole', 'arn:aws:iam::111111111111:role/ocr-exec-role'),
  };
}

function templateOf(app: App, stack: Stack): Template {
  return Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
}

describe('EcrBatchAutoUpdater', () => {
  test('GIVEN defaults WHEN synthesized THEN it passes schema validation and all cdk-nag packs of both majors', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const { repository, jobDefinition, jobRole, executionRole } = imported(stack);
    new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitions: [jobDefinition], passRoles: [jobRole, executionRole] });
    synthCompliant(app);
  });

  test('GIVEN main options (KMS key, patterns, names, VPC, custom schedule) WHEN synthesized THEN it is compliant', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const { repository, jobRole } = imported(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] });
    new EcrBatchAutoUpdater(stack, 'Updater', {
      repository,
      jobDefinitionNames: ['ocr-job', 'arn:aws:batch:us-east-1:111111111111:job-definition/other-job:7'],
      passRoles: [jobRole],
      imageTags: ['latest', 'release-*'],
      encryptionKey: key,
      lambdaVpc: vpc,
      reconciliationSchedule: events.Schedule.rate(Duration.minutes(30)),
    });
    synthCompliant(app);
  });

  test('GIVEN a repository and tags WHEN synthesized THEN the push rule matches successful pushes of those tags of this repository only and targets the FIFO queue', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { repository, jobDefinition } = imported(stack);
    new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitions: [jobDefinition], imageTags: ['latest', 'release-*'] });
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        'detail': {
          'action-type': ['PUSH'],
          'result': ['SUCCESS'],
          'repository-name': ['ocr-worker'],
          'image-tag': ['latest', { wildcard: 'release-*' }],
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('UpdateQueue'), 'Arn'] }, SqsParameters: { MessageGroupId: 'job-definition-updates' } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({ SqsParameters: { MessageGroupId: 'job-definition-updates' }, InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"action":"reconcile"') }) })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.cloudformation'],
        'detail-type': ['CloudFormation Stack Status Change'],
        'detail': { 'stack-id': [{ Ref: 'AWS::StackId' }], 'status-details': { status: ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'] } },
      },
      Targets: [Match.objectLike({ SqsParameters: { MessageGroupId: 'job-definition-updates' }, InputTransformer: Match.objectLike({ InputTemplate: Match.stringLikeRegexp('"reason":"deployment"') }) })],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      FifoQueue: true,
      ContentBasedDeduplication: true,
      VisibilityTimeout: 720,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 3 },
    });
    // One message at a time from one message group: updates are serialized.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 1 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ REPOSITORY_NAME: 'ocr-worker', IMAGE_TAGS: '["latest","release-*"]' }) },
    });
  });

  test('GIVEN an L2 EcsJobDefinition WHEN synthesized THEN the handler may register only its revisions and pass only its roles', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const repository = new ecr.Repository(stack, 'Repo');
    const jobRole = new iam.Role(stack, 'JobRole', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const jobDefinition = new batch.EcsJobDefinition(stack, 'JobDef', {
      container: new batch.EcsFargateContainerDefinition(stack, 'Container', {
        image: ecs.ContainerImage.fromEcrRepository(repository, 'latest'),
        cpu: 1,
        memory: Size.gibibytes(2),
        jobRole,
      }),
    });
    const updater = new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitions: [jobDefinition] });
    const template = templateOf(app, stack);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: stack.getLogicalId(updater.role.node.defaultChild as iam.CfnRole) }] } });
    const statements = Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    const bySid = (sid: string) => statements.find((s: any) => s.Sid === sid);

    const register = bySid('RegisterRevisionsOfTheNamedJobDefinitions');
    expect(register.Action).toEqual(['batch:RegisterJobDefinition', 'batch:TagResource']);
    expect(JSON.stringify(register.Resource)).toContain('job-definition/');
    expect(register.Resource).toHaveLength(2);
    expect(bySid('ReadJobDefinitions')).toEqual(expect.objectContaining({ Action: 'batch:DescribeJobDefinitions', Resource: '*' }));
    const passRole = bySid('PassTheJobDefinitionsRoles');
    expect(passRole.Action).toBe('iam:PassRole');
    expect(passRole.Resource).toHaveLength(2); // the job role and the execution role the container created
    expect(JSON.stringify(passRole.Resource)).toContain(stack.getLogicalId(jobRole.node.defaultChild as iam.CfnRole));
    const describeImages = statements.find((s: any) => s.Action === 'ecr:DescribeImages');
    expect(describeImages.Resource).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(repository.node.defaultChild as ecr.CfnRepository), 'Arn'] });
    // Besides X-Ray tracing, the only statement on every resource is the read-only describe call.
    expect(statements.filter((s: any) => s.Resource === '*').map((s: any) => s.Action)).toEqual([['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], 'batch:DescribeJobDefinitions']);
  });

  test('GIVEN named job definitions WHEN synthesized THEN RegisterJobDefinition is scoped to the family ARN and all its revisions', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { repository } = imported(stack);
    new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitionNames: ['ocr-job:3'], reconciliation: false });
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'RegisterRevisionsOfTheNamedJobDefinitions',
          Resource: [
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':batch:us-east-1:111111111111:job-definition/ocr-job']] },
            { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':batch:us-east-1:111111111111:job-definition/ocr-job:*']] },
          ],
        })]),
      },
    });
    // Only the push rule: no schedule, no deployment rule.
    template.resourceCountIs('AWS::Events::Rule', 1);
  });

  test('GIVEN defaults WHEN synthesized THEN alarms watch update failures and the dead-letter queue, and widgets are available', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { repository, jobDefinition } = imported(stack);
    const updater = new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitions: [jobDefinition] });
    const widgets = updater.dashboardWidgets();
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'UpdatesFailed', Namespace: 'CdkOcrConstructs', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS', Threshold: 1 });
    expect(widgets).toHaveLength(3);
    expect(updater.metricUpdatesApplied().metricName).toBe('UpdatesApplied');
    expect(updater.metricUpdatesSkipped().dimensions).toEqual(updater.metricUpdatesFailed().dimensions);
  });

  test('GIVEN a pipeline role WHEN granted THEN it may send reconcile messages to the update queue', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { repository, jobDefinition } = imported(stack);
    const updater = new EcrBatchAutoUpdater(stack, 'Updater', { repository, jobDefinitions: [jobDefinition] });
    const pipeline = new iam.Role(stack, 'Pipeline', { assumedBy: new iam.AccountRootPrincipal() });
    updater.grantTriggerReconciliation(pipeline);
    templateOf(app, stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(pipeline.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(['sqs:SendMessage']) })]) },
    });
  });

  test('GIVEN two updaters in one stack WHEN synthesized THEN there is no physical-name clash', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { repository, jobDefinition } = imported(stack);
    const a = new EcrBatchAutoUpdater(stack, 'A', { repository, jobDefinitions: [jobDefinition] });
    const b = new EcrBatchAutoUpdater(stack, 'B', { repository, jobDefinitionNames: ['ocr-job'] });
    templateOf(app, stack).resourceCountIs('AWS::Lambda::Function', 2);
    expect(a.metricUpdatesFailed().dimensions).not.toEqual(b.metricUpdatesFailed().dimensions);
  });

  test.each([
    [{ jobDefinitionNames: [] }, /EcrBatchAutoUpdater 'Updater': 'jobDefinitions' or 'jobDefinitionNames' must name at least one job definition/],
    [{ jobDefinitionNames: ['ocr-job'], imageTags: [] }, /EcrBatchAutoUpdater 'Updater': 'imageTags' must name at least one tag/],
    [{ jobDefinitionNames: ['ocr-job'], imageTags: ['bad tag!'] }, /'imageTags' must be ECR tags or patterns .* got 'bad tag!'/],
    [{ jobDefinitionNames: ['not a name'] }, /'jobDefinitionNames' must be job definition names or ARNs, got 'not a name'/],
    [{ jobDefinitionNames: ['ocr-job'], lambdaVpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }, /'lambdaVpcSubnets' needs 'lambdaVpc'/],
  ])('GIVEN bad props %# WHEN constructed THEN it fails naming the prop', (props, message) => {
    const stack = newTestStack(newTestApp({ nag: false }));
    const { repository } = imported(stack);
    expect(() => new EcrBatchAutoUpdater(stack, 'Updater', { repository, ...props })).toThrow(message);
  });
});
