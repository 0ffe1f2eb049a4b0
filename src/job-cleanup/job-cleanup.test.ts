import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { JobCleanup } from './job-cleanup';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';

function imported(stack: Stack) {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0123456789abcdef0'] });
  return {
    vpc,
    queue: batch.JobQueue.fromJobQueueArn(stack, 'Queue', 'arn:aws:batch:us-east-1:111111111111:job-queue/ocr'),
    jobDefinition: batch.EcsJobDefinition.fromJobDefinitionArn(stack, 'JobDef', 'arn:aws:batch:us-east-1:111111111111:job-definition/ocr-job:3'),
    cluster: ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'tools', vpc }),
  };
}

function templateOf(app: App, stack: Stack): Template {
  return Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
}

function cleanupConfig(template: Template): any {
  const fns = template.findResources('AWS::Lambda::Function');
  const env = Object.values(fns).map((f: any) => f.Properties.Environment?.Variables?.CLEANUP_CONFIG).find(Boolean);
  // With tokens (ARNs with the partition) the JSON is an Fn::Join: put placeholders in for them.
  if (typeof env === 'string') return env;
  return (env['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
}

describe('JobCleanup', () => {
  test('GIVEN a queue WHEN synthesized with defaults THEN it passes schema validation and all cdk-nag packs of both majors', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    new JobCleanup(stack, 'Cleanup', { jobQueues: [queue] });
    synthCompliant(app);
  });

  test('GIVEN every target kind and main options WHEN synthesized THEN it is compliant', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const { queue, jobDefinition, cluster, vpc } = imported(stack);
    new JobCleanup(stack, 'Cleanup', {
      jobQueues: [queue],
      jobQueueNames: ['legacy-queue'],
      jobDefinitions: [jobDefinition],
      jobDefinitionNames: ['legacy-job'],
      ecsClusters: [cluster],
      encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
      lambdaVpc: vpc,
      dryRun: true,
      schedule: events.Schedule.cron({ minute: '0', hour: '2' }),
      jobAgeThresholds: { runnable: Duration.hours(2), running: Duration.hours(12) },
    });
    synthCompliant(app);
  });

  test('GIVEN a customer-managed key WHEN synthesized THEN CloudWatch Logs of this account and region may use it for the log group', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    new JobCleanup(stack, 'Cleanup', { jobQueues: [queue], encryptionKey: key });
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([Match.objectLike({
          Sid: 'AllowCloudWatchLogsOfThisAccountAndRegion',
          Principal: { Service: { 'Fn::Join': ['', ['logs.us-east-1.', { Ref: 'AWS::URLSuffix' }]] } },
          Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:us-east-1:111111111111:log-group:*']] } } },
        })]),
      },
    });
  });

  test('GIVEN a customer-managed key WHEN synthesized THEN the function\'s role may encrypt with it the failed events it sends to its KMS-encrypted dead-letter queue', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const cleanup = new JobCleanup(stack, 'Cleanup', { jobQueues: [queue], encryptionKey: key });
    const template = templateOf(app, stack);
    const keyArn = { 'Fn::GetAtt': [stack.getLogicalId(key.node.defaultChild as kms.CfnKey), 'Arn'] };
    template.hasResourceProperties('AWS::SQS::Queue', { KmsMasterKeyId: keyArn });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(cleanup.function.role!.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['kms:GenerateDataKey', 'kms:Decrypt'], Resource: keyArn })]) },
    });
  });

  test('GIVEN defaults WHEN synthesized THEN it runs every 6 hours, async with a DLQ, with 24-hour thresholds and outputs the manual command', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    new JobCleanup(stack, 'Cleanup', { jobQueues: [queue] });
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(6 hours)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('Cleanup'), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Lambda::Function', { Timeout: 300, DeadLetterConfig: { TargetArn: Match.anyValue() } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
    const config = JSON.parse(cleanupConfig(template));
    expect(config).toEqual({
      jobQueues: ['arn:aws:batch:us-east-1:111111111111:job-queue/ocr'],
      jobThresholdsMs: { SUBMITTED: 86_400_000, PENDING: 86_400_000, RUNNABLE: 86_400_000, STARTING: 86_400_000, RUNNING: 86_400_000 },
      jobDefinitionFamilies: [],
      keepRevisions: 5,
      ecsClusters: [],
      ecsTaskMaxAgeMs: 86_400_000,
      protectionTagKey: 'cdk-ocr:protect',
      protectionTagValue: 'true',
      dryRun: false,
    });
    const outputs = template.findOutputs('*');
    const command = Object.entries(outputs).find(([k]) => k.includes('ManualRunCommand'))![1];
    expect(JSON.stringify(command.Value)).toContain('aws lambda invoke --function-name ');
    expect(JSON.stringify(command.Value)).toContain('--payload \'{\\"dryRun\\":true}\'');
    expect(Object.keys(outputs).some((k) => k.includes('FunctionName'))).toBe(true);
  });

  test('GIVEN queues only WHEN synthesized THEN the role can list and cancel/terminate jobs but not deregister or stop tasks', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const cleanup = new JobCleanup(stack, 'Cleanup', { jobQueues: [queue] });
    const statements = policyStatements(templateOf(app, stack), stack, cleanup);

    expect(statements.find((s: any) => s.Sid === 'ReadBatchState').Action).toEqual(['batch:ListJobs', 'batch:DescribeJobs']);
    expect(statements.find((s: any) => s.Sid === 'CancelAndTerminateJobs')).toEqual(expect.objectContaining({
      Action: ['batch:CancelJob', 'batch:TerminateJob'],
      Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':batch:us-east-1:111111111111:job/*']] },
    }));
    const all = JSON.stringify(statements);
    expect(all).not.toContain('DeregisterJobDefinition');
    expect(all).not.toContain('ecs:');
  });

  test('GIVEN families and clusters WHEN synthesized THEN deregistration is scoped to the families and task actions to the clusters', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { jobDefinition, cluster } = imported(stack);
    const cleanup = new JobCleanup(stack, 'Cleanup', { jobDefinitions: [jobDefinition], jobDefinitionNames: ['legacy-job'], ecsClusters: [cluster], keepRevisions: 2 });
    const template = templateOf(app, stack);
    const statements = policyStatements(template, stack, cleanup);

    expect(statements.find((s: any) => s.Sid === 'DeregisterOldRevisions').Resource).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':batch:us-east-1:111111111111:job-definition/ocr-job:*']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':batch:us-east-1:111111111111:job-definition/legacy-job:*']] },
    ]);
    const stop = statements.find((s: any) => s.Sid === 'StopStandaloneTasks');
    expect(stop.Action).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(stop.Resource).toEqual({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111111111111:task/tools/*']] });
    const clusterCondition = { ArnEquals: { 'ecs:cluster': [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111111111111:cluster/tools']] }] } };
    expect(stop.Condition).toEqual(clusterCondition);
    expect(statements.find((s: any) => s.Sid === 'ListTasksOfTheClusters').Condition).toEqual(clusterCondition);
    expect(statements.find((s: any) => s.Sid === 'ReadBatchState').Action).toEqual(
      ['batch:ListJobs', 'batch:DescribeJobs', 'batch:DescribeJobQueues', 'batch:DescribeJobDefinitions', 'batch:DescribeComputeEnvironments']);
    expect(JSON.stringify(statements)).not.toContain('batch:CancelJob');
    const config = JSON.parse(cleanupConfig(template));
    expect(config.jobDefinitionFamilies).toEqual(['ocr-job', 'legacy-job']);
    expect(config.keepRevisions).toBe(2);
  });

  test('GIVEN defaults WHEN synthesized THEN alarms watch run errors, function errors and the DLQ, and widgets and metrics are available', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const cleanup = new JobCleanup(stack, 'Cleanup', { jobQueues: [queue] });
    const widgets = cleanup.dashboardWidgets();
    const template = templateOf(app, stack);

    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'CdkOcrConstructs', Threshold: 1 });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Namespace: 'AWS/SQS' });
    expect(widgets).toHaveLength(3);
    const metrics = [
      cleanup.metricJobsCancelled(), cleanup.metricJobsTerminated(), cleanup.metricRevisionsDeregistered(),
      cleanup.metricTasksStopped(), cleanup.metricNotReached(), cleanup.metricDryRunActions(),
    ];
    expect(metrics
      .map((m) => m.metricName)).toEqual(['JobsCancelled', 'JobsTerminated', 'RevisionsDeregistered', 'TasksStopped', 'NotReached', 'DryRunActions']);
  });

  test('GIVEN an operator role WHEN granted THEN it may invoke the cleanup function', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const cleanup = new JobCleanup(stack, 'Cleanup', { jobQueues: [queue] });
    const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
    cleanup.grantRun(operator);
    templateOf(app, stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(operator.node.defaultChild as iam.CfnRole) }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'lambda:InvokeFunction' })]) },
    });
  });

  test('GIVEN two cleanups in one stack WHEN synthesized THEN both synthesize with distinct metrics', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const { queue } = imported(stack);
    const a = new JobCleanup(stack, 'A', { jobQueues: [queue] });
    const b = new JobCleanup(stack, 'B', { jobQueueNames: ['other'] });
    templateOf(app, stack).resourceCountIs('AWS::Lambda::Function', 2);
    expect(a.metricErrors().dimensions).not.toEqual(b.metricErrors().dimensions);
  });

  test.each([
    [{}, /JobCleanup 'Cleanup': 'jobQueues' or one of .* must give the cleanup something to clean/],
    [{ jobQueueNames: ['q'], keepRevisions: 0 }, /'keepRevisions' must be an integer from 1 to 1000, got 0/],
    [{ jobQueueNames: ['q'], jobAgeThresholds: { running: Duration.minutes(5) } }, /'jobAgeThresholds.running' must be from 10 to/],
    [{ jobQueueNames: ['q'], maxTaskAge: Duration.minutes(1) }, /'maxTaskAge' must be from 10 to/],
    [{ jobQueueNames: ['q'], timeout: Duration.minutes(20) }, /'timeout' must be from 60 to 900, got 1200/],
    [{ jobDefinitionNames: ['ocr-job:3'] }, /'jobDefinitionNames' must be job definition family names .* got 'ocr-job:3'/],
    [{ jobQueueNames: ['q'], lambdaVpcSubnets: {} }, /'lambdaVpcSubnets' needs 'lambdaVpc'/],
    [{ jobQueueNames: ['my queue'] }, /'jobQueueNames' must be job queue names or ARNs, got 'my queue'/],
  ])('GIVEN bad props %# WHEN constructed THEN it fails naming the prop', (props, message) => {
    const stack = newTestStack(newTestApp({ nag: false }));
    expect(() => new JobCleanup(stack, 'Cleanup', props)).toThrow(message);
  });

  test('GIVEN a cluster named like a Batch-managed one WHEN constructed THEN it is refused at synth', () => {
    const stack = newTestStack(newTestApp({ nag: false }));
    const { vpc } = imported(stack);
    const batchCluster = ecs.Cluster.fromClusterAttributes(stack, 'BatchCluster', { clusterName: 'AWSBatch-ocr-ce-1a2b3c4d', vpc });
    expect(() => new JobCleanup(stack, 'Cleanup', { ecsClusters: [batchCluster] }))
      .toThrow(/JobCleanup 'Cleanup': 'ecsClusters' must not contain 'AWSBatch-ocr-ce-1a2b3c4d': it belongs to an AWS Batch compute environment/);
  });
});

function policyStatements(template: Template, stack: Stack, cleanup: JobCleanup): any[] {
  const roleId = stack.getLogicalId(cleanup.role.node.defaultChild as any);
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
