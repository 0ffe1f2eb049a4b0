import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';
import { bundledWorkerLanguages, OcrEngine, PdfRenderer, WORKER_DIRECTORY } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { ApiGatewayCloudWatchRole } from './api-logging-role';
import { BatchOcrProcessor } from './batch-ocr-processor';
import { costPer1000Pages, DEFAULT_PAGES_PER_VCPU_SECOND, DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT, FARGATE_ARM_GB_HOUR_USD, FARGATE_ARM_VCPU_HOUR_USD, FARGATE_GB_HOUR_USD, FARGATE_VCPU_HOUR_USD } from './pricing';
import { ApiAuthorization, BatchOcrProcessorProps, DocumentOutput } from './props';
import { WorkerExitCode } from '../common/worker-contract';

const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');

/** Synthesize once with the compliance harness and return the stack's template. */
function compliantTemplate(build: (stack: Stack) => void): Template {
  const app = newTestApp();
  const stack = newTestStack(app);
  build(stack);
  synthCompliant(app);
  return Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
}

/** Template without cdk-nag (faster) for prop-path assertions. */
function template(props: BatchOcrProcessorProps, extra?: (stack: Stack) => Partial<BatchOcrProcessorProps>): { t: Template; ocr: BatchOcrProcessor } {
  const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
  const stack = newTestStack(app);
  const ocr = new BatchOcrProcessor(stack, 'Ocr', { image, ...props, ...(extra ? extra(stack) : {}) });
  return { t: Template.fromStack(stack), ocr };
}


/**
 * The median of one figure over the worker benchmark's runs on record on a CPU model
 * (bench/history.jsonl), from benchmark method `sinceMethod` on (a run without one is method 1).
 */
function benchmarkMedian(machine: string, figure: (run: any) => number | null, sinceMethod = 1): number {
  const lines = fs.readFileSync(path.join(WORKER_DIRECTORY, 'bench', 'history.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  const values = lines.map((l) => JSON.parse(l)).filter((run) => run.machine === machine && (run.method ?? 1) >= sinceMethod).map(figure)
    .filter((v): v is number => typeof v === 'number').sort((a, b) => a - b);
  expect(values.length).toBeGreaterThanOrEqual(3);
  const mid = Math.floor(values.length / 2);
  return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
}

describe('BatchOcrProcessor with defaults', () => {
  let t: Template;
  let ocr!: BatchOcrProcessor;
  beforeAll(() => {
    t = compliantTemplate((stack) => {
      ocr = new BatchOcrProcessor(stack, 'Ocr', { image });
    });
  });

  test('GIVEN defaults WHEN synthesized THEN a Fargate Spot compute environment of 16 vCPUs in private subnets of its own CostOptimizedVpc', () => {
    t.resourceCountIs('AWS::Batch::ComputeEnvironment', 1);
    t.hasResourceProperties('AWS::Batch::ComputeEnvironment', {
      Type: 'managed',
      ComputeResources: Match.objectLike({ Type: 'FARGATE_SPOT', MaxvCpus: 16 }),
    });
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::EC2::NatGateway', 0);
    for (const service of ['ecr.api', 'ecr.dkr', 'logs']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: `com.amazonaws.us-east-1.${service}`, VpcEndpointType: 'Interface' });
    }
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'OCR worker tasks: no inbound; HTTPS out to VPC endpoints and S3',
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    });
  });

  test('GIVEN defaults WHEN synthesized THEN the queue cancels jobs stuck RUNNABLE for each supported reason', () => {
    t.hasResourceProperties('AWS::Batch::JobQueue', {
      JobStateTimeLimitActions: [
        { Action: 'CANCEL', MaxTimeSeconds: 3600, Reason: 'CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY', State: 'RUNNABLE' },
        { Action: 'CANCEL', MaxTimeSeconds: 600, Reason: 'MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE', State: 'RUNNABLE' },
        { Action: 'CANCEL', MaxTimeSeconds: 600, Reason: 'MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT', State: 'RUNNABLE' },
      ],
    });
  });

  test('GIVEN defaults WHEN synthesized THEN retries only on Spot interruption, task start, image pull and exit 75, ending with EXIT for everything else', () => {
    t.hasResourceProperties('AWS::Batch::JobDefinition', {
      RetryStrategy: {
        Attempts: 3,
        EvaluateOnExit: [
          { Action: 'RETRY', OnStatusReason: 'Your Spot Task was interrupted*' },
          { Action: 'RETRY', OnStatusReason: 'ResourceInitializationError*' },
          { Action: 'RETRY', OnReason: 'CannotPullContainerError*' },
          { Action: 'RETRY', OnExitCode: '75' },
          { Action: 'EXIT', OnStatusReason: '*' },
        ],
      },
    });
  });

  test('GIVEN the worker\'s exit codes WHEN synthesized THEN only its transient-failure code is retried, never a configuration error or a bug', () => {
    // The contract's exit codes; test/worker-contract.test.ts holds them equal to the worker's own.
    const exit = Object.fromEntries(Object.entries(WorkerExitCode).map(([name, code]) => [name, String(code)]));
    expect(Object.keys(exit)).toEqual(expect.arrayContaining(['CONFIG', 'UNEXPECTED', 'INFRA']));
    const def = Object.values(t.findResources('AWS::Batch::JobDefinition'))[0].Properties;
    const rules = def.RetryStrategy.EvaluateOnExit as { Action: string; OnExitCode?: string; OnStatusReason?: string }[];
    const retriedCodes = rules.filter((r) => r.Action === 'RETRY' && r.OnExitCode !== undefined).map((r) => r.OnExitCode);
    expect(retriedCodes).toEqual([exit.INFRA]);
    expect(rules[rules.length - 1]).toEqual({ Action: 'EXIT', OnStatusReason: '*' });
  });

  test('GIVEN defaults WHEN synthesized THEN the job definition has a stable name, read-only root, non-root user, /tmp volume, logs with retention and the worker contract', () => {
    const defs = t.findResources('AWS::Batch::JobDefinition');
    const def = Object.values(defs)[0].Properties;
    expect(def.JobDefinitionName).toBe(ocr.jobDefinitionName);
    expect(def.JobDefinitionName).toMatch(/^[A-Za-z0-9_-]{1,128}$/);
    expect(def.PlatformCapabilities).toEqual(['FARGATE']);
    expect(def.Timeout).toEqual({ AttemptDurationSeconds: 7200 });
    const c = def.ContainerProperties;
    expect(c.ReadonlyRootFilesystem).toBe(true);
    expect(c.User).toBe('1000:1000');
    expect(c.EphemeralStorage).toEqual({ SizeInGiB: 21 });
    expect(c.RuntimePlatform).toEqual({ CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' });
    expect(c.NetworkConfiguration).toEqual({ AssignPublicIp: 'DISABLED' });
    expect(c.MountPoints).toEqual([{ ContainerPath: '/tmp', SourceVolume: 'tmp' }]);
    expect(c.Volumes).toEqual([{ Name: 'tmp', Host: {} }]); // an empty task volume, not a host path
    expect(c.ResourceRequirements).toEqual(expect.arrayContaining([{ Type: 'VCPU', Value: '2' }, { Type: 'MEMORY', Value: '4096' }]));
    expect(c.LogConfiguration.LogDriver).toBe('awslogs');
    const env = Object.fromEntries(c.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      OCR_OUTPUT_PREFIX: 'results/',
      OCR_LANGUAGES: 'eng',
      OCR_DPI: '300',
      OCR_WORKERS: '2',
      OCR_DOC_TIMEOUT_SECONDS: '300',
      OCR_DOC_MEMORY_MB: '1792',
      OCR_MAX_DOCUMENT_BYTES: '104857600',
      OCR_METRICS_NAMESPACE: 'CdkOcrConstructs',
      OCR_METRICS_SERVICE: ocr.metricsService,
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  test('GIVEN defaults WHEN synthesized THEN the job reads only the input bucket and writes only the output prefix', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const jobPolicy = Object.entries(policies).find(([id]) => id.startsWith('OcrJobRoleDefaultPolicy'))![1];
    const statements = jobPolicy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
    const writes = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put')));
    expect(writes).toHaveLength(1);
    expect(JSON.stringify(writes[0].Resource)).toContain('/results/*');
    expect(JSON.stringify(writes[0].Resource)).toContain('OcrOutputBucket');
    expect(JSON.stringify(writes[0].Resource)).not.toContain('OcrInputBucket');
    const actions = statements.flatMap((s) => [s.Action].flat());
    expect(actions.some((a) => a.startsWith('s3:Delete'))).toBe(false);
  });

  test.each([
    ['defaults', {}, ['/uploads/*']],
    ['allowedInputPrefixes and an S3 trigger on a prefix', { allowedInputPrefixes: ['scans/'], s3Trigger: { prefix: 'inbox/' } }, ['/inbox/*', '/scans/*', '/uploads/*']],
    ['an S3 trigger on the whole bucket', { s3Trigger: {} }, ['/*']],
  ])('GIVEN %s WHEN synthesized THEN the job reads only the input keys a job can name', (_, extra, expected) => {
    const { t: synthesized } = template({ image, ...extra });
    const policies = synthesized.findResources('AWS::IAM::Policy');
    const jobPolicy = Object.entries(policies).find(([id]) => id.startsWith('OcrJobRoleDefaultPolicy'))![1];
    // the object ARNs of the input bucket: Fn::Join of its Arn and '/<prefix>*'
    const objectPatterns = new Set<string>();
    for (const statement of jobPolicy.Properties.PolicyDocument.Statement as { Resource: unknown }[]) {
      for (const resource of [statement.Resource].flat() as Array<{ 'Fn::Join'?: [string, unknown[]] }>) {
        const parts = resource['Fn::Join']?.[1];
        if (parts && JSON.stringify(parts[0]).includes('OcrInputBucket')) objectPatterns.add(parts[1] as string);
      }
    }
    expect([...objectPatterns].sort()).toEqual(expected);
  });

  test('GIVEN defaults WHEN synthesized THEN handlers submit by job definition name (every revision) to this queue only', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const submitPolicy = Object.entries(policies).find(([id]) => id.startsWith('OcrSubmitRoleDefaultPolicy'))![1];
    const statement = (submitPolicy.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown[] }[])
      .find((s) => [s.Action].flat().includes('batch:SubmitJob'))!;
    const resources = JSON.stringify(statement.Resource);
    expect(resources).toContain(`job-definition/${ocr.jobDefinitionName}"`);
    expect(resources).toContain(`job-definition/${ocr.jobDefinitionName}:*`);
    expect(resources).toContain('OcrJobQueue');
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ JOB_DEFINITION_NAME: ocr.jobDefinitionName }) },
    });
  });

  test('GIVEN defaults WHEN synthesized THEN the state handler may only read jobs (DescribeJobs), and the submit handler may list them (ListJobs), on Resource * for want of resource-level permissions', () => {
    const policies = t.findResources('AWS::IAM::Policy');
    const batchStatements = (prefix: string) => {
      const policy = Object.entries(policies).find(([id]) => id.startsWith(prefix))![1];
      return (policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
        .filter((s) => [s.Action].flat().some((a) => a.startsWith('batch:')));
    };
    expect(batchStatements('OcrJobStateRoleDefaultPolicy')).toEqual([expect.objectContaining({ Action: 'batch:DescribeJobs', Resource: '*', Effect: 'Allow' })]);
    const submit = batchStatements('OcrSubmitRoleDefaultPolicy');
    expect(submit).toContainEqual(expect.objectContaining({ Action: 'batch:ListJobs', Resource: '*' }));
    // Nothing but the lookup runs on Resource *: SubmitJob stays scoped to the queue and job definition.
    expect(submit.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat())).toEqual(['batch:ListJobs']);
  });

  test('GIVEN defaults WHEN synthesized THEN secure created buckets with result expiry and job tables with PITR and TTL', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.anyValue(),
      LifecycleConfiguration: { Rules: Match.arrayWith([{ Id: 'expire-results', Prefix: 'results/', ExpirationInDays: 90, Status: 'Enabled' }]) },
    });
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
    t.hasResourceProperties('AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }], TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true } });
  });

  test('GIVEN defaults WHEN synthesized THEN a regional API with IAM auth, validation, access and execution logs, X-Ray, throttling and no AWS::ApiGateway::Account (the account\'s role is set only where missing)', () => {
    t.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    // POST /jobs, GET /jobs/{jobId}, POST /uploads and Textract's POST /
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'AWS_IAM' }, 4);
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'POST', RequestValidatorId: Match.anyValue(), RequestModels: { 'application/json': Match.anyValue() } });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', RequestParameters: { 'method.request.path.jobId': true } });
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      TracingEnabled: true,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20, LoggingLevel: 'ERROR' })],
    });
    t.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({ $schema: 'http://json-schema.org/draft-04/schema#', additionalProperties: false, oneOf: [{ required: ['document'] }, { required: ['documents'] }] }),
    });
    t.resourceCountIs('AWS::ApiGateway::Resource', 3); // /jobs, /jobs/{jobId}, /uploads
  });

  test('GIVEN defaults WHEN synthesized THEN API Gateway validation errors use the handlers\' error body', () => {
    t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"success":false,"code":"INVALID_REQUEST","message":"Invalid request body: .*validationErrorString.*","requestId":"\\$context.requestId","timestamp":"\\$context.requestTime"\\}$') },
    });
    for (const type of ['BAD_REQUEST_PARAMETERS', 'DEFAULT_4XX', 'DEFAULT_5XX']) {
      t.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: type, ResponseTemplates: { 'application/json': Match.stringLikeRegexp('"success":false') } });
    }
  });

  test('GIVEN defaults WHEN synthesized THEN throttling and IAM refusals also carry the AWS error type a Textract client reads first', () => {
    const expected: Array<[string, string]> = [
      ['THROTTLED', 'ThrottlingException'], ['QUOTA_EXCEEDED', 'ThrottlingException'], ['ACCESS_DENIED', 'AccessDeniedException'],
      ['INVALID_SIGNATURE', 'InvalidSignatureException'], ['EXPIRED_TOKEN', 'ExpiredTokenException'],
      ['MISSING_AUTHENTICATION_TOKEN', 'MissingAuthenticationTokenException'],
    ];
    for (const [type, awsType] of expected) {
      const found = t.findResources('AWS::ApiGateway::GatewayResponse', { Properties: { ResponseType: type } });
      const templates = Object.values(found).map((r) => r.Properties.ResponseTemplates['application/json'] as string);
      expect(templates).toHaveLength(1);
      // the template with the context values filled in is the JSON both kinds of client read
      const filled = templates[0].replace('$context.error.messageString', '"Too Many Requests"').replace(/\$context\.[A-Za-z.]+/g, 'x');
      expect(JSON.parse(filled)).toEqual({ __type: awsType, success: false, code: 'x', message: 'Too Many Requests', requestId: 'x', timestamp: 'x' });
    }
  });

  test('GIVEN defaults WHEN synthesized THEN Batch state changes of this queue reach the state handler, and alarms and a dashboard exist', () => {
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.batch'], 'detail-type': ['Batch Job State Change'], 'detail': { jobQueue: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('OcrJobQueue'), 'JobQueueArn'] }] } },
      Targets: [Match.objectLike({ DeadLetterConfig: Match.anyValue(), RetryPolicy: { MaximumRetryAttempts: 4 } })],
    });
    t.resourceCountIs('AWS::CloudWatch::Alarm', 3);
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'JobsFailed', Namespace: 'CdkOcrConstructs', Dimensions: [{ Name: 'service', Value: ocr.metricsService }] });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: '5XXError', Namespace: 'AWS/ApiGateway' });
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    // the state handler's DLQ and the gathering queue with its DLQ: no S3 trigger by default
    t.resourceCountIs('AWS::SQS::Queue', 3);
  });

  test('GIVEN defaults WHEN synthesized THEN outputs name the API URL, buckets, queue, job definition and log group', () => {
    const outputs = Object.keys(t.findOutputs('*'));
    for (const name of ['ApiUrl', 'InputBucketName', 'OutputBucketName', 'JobQueueArn', 'JobDefinitionName', 'WorkerLogGroupName']) {
      expect(outputs.some((o) => o.includes(name))).toBe(true);
    }
  });
});

describe('BatchOcrProcessor options', () => {
  test('GIVEN KMS, API keys, CORS, S3 trigger, in-VPC handlers, a created repository, alarm actions, WAF and the CloudWatch role WHEN synthesized THEN compliant and wired', () => {
    let ocr!: BatchOcrProcessor;
    const t = compliantTemplate((stack) => {
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
      const topic = new sns.Topic(stack, 'Alarms', { masterKey: key, enforceSSL: true });
      ocr = new BatchOcrProcessor(stack, 'Ocr', {
        encryptionKey: key,
        apiKeyRequired: true,
        corsAllowOrigins: ['https://app.example.com'],
        s3Trigger: { prefix: 'inbox/', suffix: '.pdf', batchSize: 50, maxBatchingWindow: Duration.seconds(30), outputs: [DocumentOutput.JSON, DocumentOutput.SEARCHABLE_PDF], geometry: false },
        handlersInVpc: true,
        createRepository: true,
        imageTag: 'v1',
        alarmActions: [new cloudwatchActions.SnsAction(topic)],
        apiGatewayCloudWatchRole: ApiGatewayCloudWatchRole.MANAGED,
        webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:regional/webacl/ocr/abc',
        removalPolicy: RemovalPolicy.DESTROY,
      });
    });
    t.resourceCountIs('AWS::ApiGateway::Account', 1);
    t.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR' })] });
    // API keys meter callers on top of IAM authentication; they never replace it.
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { ApiKeyRequired: true, AuthorizationType: 'AWS_IAM' }, 4);
    t.resourceCountIs('AWS::ApiGateway::UsagePlan', 1);
    t.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS' });
    t.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: 'arn:aws:wafv2:us-east-1:111111111111:regional/webacl/ocr/abc' });
    t.hasResourceProperties('AWS::ECR::Repository', { ImageScanningConfiguration: { ScanOnPush: true }, LifecyclePolicy: Match.anyValue(), EncryptionConfiguration: Match.objectLike({ EncryptionType: 'KMS' }) });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'source': ['aws.s3'], 'detail-type': ['Object Created'], 'detail': { bucket: { name: [Match.anyValue()] }, object: { key: [{ wildcard: 'inbox/*.pdf' }] } } },
    });
    t.hasResourceProperties('AWS::S3::Bucket', { NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 50, MaximumBatchingWindowInSeconds: 30, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    t.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 5 }), KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }) });
    // Every alarm of the processor gets every action.
    t.resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('Alarms') }] }, 3);
    t.hasResourceProperties('AWS::Lambda::Function', { VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }) });
    for (const service of ['batch', 'events', 'xray', 'kms']) {
      t.hasResourceProperties('AWS::EC2::VPCEndpoint', { ServiceName: `com.amazonaws.us-east-1.${service}` });
    }
    expect(ocr.ingestQueue).toBeDefined();
    expect(ocr.repository).toBeDefined();
    // s3Trigger's outputs and geometry reach the ingest handler only
    t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ INGEST_OUTPUTS: '["json","pdf"]', INGEST_GEOMETRY: 'false' }) } });
    t.resourcePropertiesCountIs('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ INGEST_OUTPUTS: Match.anyValue() }) } }, 1);
  });

  test('GIVEN Cognito, a private API, the user\'s VPC, buckets and ECR repository on on-demand Fargate WHEN synthesized THEN compliant and wired', () => {
    const t = compliantTemplate((stack) => {
      // The user's own (compliant) network, passed as a plain VPC.
      const userNet = new CostOptimizedVpc(stack, 'UserNet', { additionalInterfaceEndpoints: ['execute-api'] });
      const vpc = userNet.vpc;
      const endpoint = userNet.interfaceEndpoints['execute-api'];
      const userPool = new cognito.UserPool(stack, 'Users', {
        mfa: cognito.Mfa.REQUIRED,
        mfaSecondFactor: { sms: false, otp: true },
        featurePlan: cognito.FeaturePlan.PLUS,
        passwordPolicy: { minLength: 12, requireSymbols: true, requireDigits: true, requireLowercase: true, requireUppercase: true },
      });
      const input = s3.Bucket.fromBucketName(stack, 'In', 'user-documents');
      const output = s3.Bucket.fromBucketName(stack, 'Out', 'user-results');
      const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr-worker');
      new BatchOcrProcessor(stack, 'Ocr', {
        vpc,
        vpcSubnets: userNet.workloadSubnets,
        authorization: ApiAuthorization.COGNITO,
        userPool,
        privateApiEndpoints: [endpoint],
        inputBucket: input,
        outputBucket: output,
        repository,
        imageTag: '2026-11-01',
        spot: false,
      });
    });
    t.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: Match.objectLike({ Type: 'FARGATE' }) });
    t.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['PRIVATE'], VpcEndpointIds: [Match.anyValue()] }, Policy: Match.anyValue() });
    t.resourcePropertiesCountIs('AWS::ApiGateway::Method', { AuthorizationType: 'COGNITO_USER_POOLS' }, 3);
    t.resourceCountIs('AWS::S3::Bucket', 0);
    t.resourceCountIs('AWS::ECR::Repository', 0);
    const def = Object.values(t.findResources('AWS::Batch::JobDefinition'))[0].Properties;
    expect(JSON.stringify(def.ContainerProperties.Image)).toContain('ocr-worker:2026-11-01');
    expect(JSON.stringify(def.ContainerProperties.Environment)).toContain('user-documents');
  });

  test('GIVEN on-demand overflow and a shared network WHEN synthesized THEN two compute environments in order and the shared network gets the endpoints', () => {
    let net!: CostOptimizedVpc;
    const t = compliantTemplate((stack) => {
      net = new CostOptimizedVpc(stack, 'Shared', { maxAzs: 2 });
      new BatchOcrProcessor(stack, 'Ocr', { image, network: net, onDemandOverflow: true, maxvCpus: 32, dashboard: false });
    });
    t.resourceCountIs('AWS::Batch::ComputeEnvironment', 2);
    t.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: Match.objectLike({ Type: 'FARGATE', MaxvCpus: 32 }) });
    const queue = Object.values(t.findResources('AWS::Batch::JobQueue'))[0].Properties;
    expect(queue.ComputeEnvironmentOrder.map((o: { Order: number }) => o.Order)).toEqual([1, 2]);
    t.resourceCountIs('AWS::EC2::VPC', 1);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(net.interfaceEndpointServices).toEqual(expect.arrayContaining(['ecr.api', 'ecr.dkr', 'logs']));
  });

  test('GIVEN two processors in one stack WHEN synthesized THEN no physical names collide', () => {
    const { t } = template({}, (stack) => {
      new BatchOcrProcessor(stack, 'Second', { image });
      return {};
    });
    const names = Object.values(t.findResources('AWS::Batch::JobDefinition')).map((r) => r.Properties.JobDefinitionName);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
  });

  test('GIVEN compute and OCR props WHEN synthesized THEN they reach the job definition and the handlers', () => {
    const { t } = template({
      vcpu: 4,
      memory: Size.gibibytes(8),
      ephemeralStorage: Size.gibibytes(50),
      jobTimeout: Duration.minutes(30),
      retryAttempts: 5,
      workersPerTask: 3,
      ocrLanguages: ['eng', 'deu'],
      ocrDpi: 200,
      maxPagesPerDocument: 50,
      documentTimeout: Duration.minutes(2),
      maxDocumentSize: Size.kibibytes(1),
      maxDocumentsPerJob: 50_000,
      targetBytesPerChild: Size.mebibytes(16),
      maxDocumentsPerChild: 10,
      outputPrefix: 'ocr/',
      uploadPrefix: 'in/',
      resultExpiration: Duration.days(7),
      capacityWaitLimit: Duration.hours(4),
      misconfigurationWaitLimit: Duration.minutes(15),
      throttlingRateLimit: 50,
      throttlingBurstLimit: 100,
      presignedUrlExpiry: Duration.minutes(5),
      metricsNamespace: 'MyOcr',
      cpuArchitecture: ecs.CpuArchitecture.ARM64,
      spot: false,
    });
    const def = Object.values(t.findResources('AWS::Batch::JobDefinition'))[0].Properties;
    expect(def.Timeout).toEqual({ AttemptDurationSeconds: 1800 });
    expect(def.RetryStrategy.Attempts).toBe(5);
    expect(def.ContainerProperties.EphemeralStorage).toEqual({ SizeInGiB: 50 });
    expect(def.ContainerProperties.RuntimePlatform.CpuArchitecture).toBe('ARM64');
    const env = Object.fromEntries(def.ContainerProperties.Environment.map((e: { Name: string; Value: unknown }) => [e.Name, e.Value]));
    expect(env).toMatchObject({ OCR_WORKERS: '3', OCR_LANGUAGES: 'eng+deu', OCR_DPI: '200', OCR_MAX_PAGES: '50', OCR_DOC_TIMEOUT_SECONDS: '120', OCR_MAX_DOCUMENT_BYTES: '1024', OCR_OUTPUT_PREFIX: 'ocr/', OCR_METRICS_NAMESPACE: 'MyOcr', OCR_DOC_MEMORY_MB: '2560' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ MAX_DOCUMENTS_PER_JOB: '50000', TARGET_BYTES_PER_CHILD: '16777216', MAX_DOCUMENTS_PER_CHILD: '10', RECORD_TTL_DAYS: '7', PRESIGN_SECONDS: '300', UPLOAD_PREFIX: 'in/', OCR_OUTPUT_PREFIX: 'ocr/' }) },
    });
    t.hasResourceProperties('AWS::Batch::JobQueue', { JobStateTimeLimitActions: Match.arrayWith([Match.objectLike({ MaxTimeSeconds: 14_400 }), Match.objectLike({ MaxTimeSeconds: 900 })]) });
    t.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 })] });
    t.hasResourceProperties('AWS::ApiGateway::Model', { Schema: Match.objectLike({ properties: Match.objectLike({ documents: Match.objectLike({ maxItems: 50_000 }) }) }) });
    t.hasResourceProperties('AWS::S3::Bucket', { LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: 'expire-results', Prefix: 'ocr/', ExpirationInDays: 7 })]) } });
  });

  test('GIVEN handler, log and lifecycle props WHEN synthesized THEN handlers, log groups and stateful resources follow them', () => {
    const { t, ocr } = template({
      architecture: lambda.Architecture.X86_64,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
      pagesPerVcpuSecond: 1,
    });
    // the six handlers and the handler of the API Gateway account-role custom resource
    t.resourcePropertiesCountIs('AWS::Lambda::Function', { Architectures: ['x86_64'] }, 7);
    t.resourcePropertiesCountIs('AWS::Lambda::Function', { Architectures: ['arm64'] }, 0);
    // Every log group of the processor (the network's flow logs keep their own retention).
    const groups = Object.entries(t.findResources('AWS::Logs::LogGroup')).filter(([id]) => !id.startsWith('OcrNetwork'));
    // worker, API access, six handlers, and the API Gateway account-role custom resource's two
    expect(groups).toHaveLength(10);
    for (const [, group] of groups) expect(group.Properties.RetentionInDays).toBe(30);
    for (const table of Object.values(t.findResources('AWS::DynamoDB::Table'))) expect(table.DeletionPolicy).toBe('Delete');
    for (const bucket of Object.values(t.findResources('AWS::S3::Bucket'))) expect(bucket.DeletionPolicy).toBe('Delete');
    // 1 page per vCPU-second: 1,000 pages on 2 vCPUs = 500 task-seconds.
    const hours = 500 / 3600;
    expect(ocr.estimateMonthlyCost().perThousandPages.fargateUsd).toBeCloseTo(hours * (2 * FARGATE_VCPU_HOUR_USD + 4 * FARGATE_GB_HOUR_USD), 4);
  });

  test('GIVEN the defaults WHEN synthesized THEN handlers run on ARM64 outside the VPC with X-Ray', () => {
    const { t } = template({});
    t.resourcePropertiesCountIs('AWS::Lambda::Function', { Architectures: ['arm64'] }, 7);
    const handlers = Object.values(t.findResources('AWS::Lambda::Function')).filter((fn) => String(fn.Properties.Description).startsWith('cdk-ocr-constructs:'));
    expect(handlers).toHaveLength(7);
    for (const fn of handlers) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });

  test('GIVEN the default image WHEN the bundled worker exists THEN it is a compliant linux/amd64 Docker image asset, else a clear error', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    if (fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))) {
      const ocr = new BatchOcrProcessor(stack, 'Ocr');
      expect(ocr.imageAsset).toBeDefined();
      synthCompliant(app);
      const assembly = app.synth();
      const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
      const images = Object.values(manifest.dockerImages) as { source: { directory: string; platform?: string } }[];
      expect(images).toHaveLength(1);
      expect(images[0].source.platform).toBe('linux/amd64');
      // The staged build context has the Dockerfile and none of the worker's node_modules.
      const context = path.join(assembly.directory, images[0].source.directory);
      expect(fs.existsSync(path.join(context, 'Dockerfile'))).toBe(true);
      expect(fs.existsSync(path.join(context, 'node_modules'))).toBe(false);
    } else {
      expect(() => new BatchOcrProcessor(stack, 'Ocr')).toThrow(/BatchOcrProcessor 'Ocr': 'image' has no default: the bundled worker .*ocr-worker\/Dockerfile\) is missing/);
    }
  });

  test('GIVEN the bundled worker image WHEN ocrLanguages add a language THEN the image is built with them (OCR_LANGUAGES) and the submit handler accepts them', () => {
    expect(fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))).toBe(true);
    expect(bundledWorkerLanguages()).toEqual(['eng']); // the worker's @tesseract.js-data dependencies
    const built = (ocrLanguages?: string[]) => {
      const app = newTestApp();
      const stack = newTestStack(app);
      new BatchOcrProcessor(stack, 'Ocr', { ocrLanguages });
      const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
      const buildArgs = (Object.values(manifest.dockerImages) as { source: { dockerBuildArgs?: Record<string, string> } }[])
        .map((i) => i.source.dockerBuildArgs);
      const submit = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
        .find((fn: any) => fn.Properties.Environment?.Variables?.JOB_DEFINITION_NAME && fn.Properties.Environment.Variables.UPLOAD_PREFIX) as any;
      return { buildArgs, available: submit.Properties.Environment.Variables.OCR_AVAILABLE_LANGUAGES };
    };
    // the default (and eng alone) is the Dockerfile's default: no build argument, the same asset as ever
    expect(built()).toEqual({ buildArgs: [{ OCR_ENGINE: 'tesseract.js' }], available: 'eng' });
    expect(built(['eng'])).toEqual({ buildArgs: [{ OCR_ENGINE: 'tesseract.js' }], available: 'eng' });
    expect(built(['eng', 'deu'])).toEqual({ buildArgs: [{ OCR_ENGINE: 'tesseract.js', OCR_LANGUAGES: 'deu+eng' }], available: 'deu+eng' });
    // eng, the worker's default, is always kept; one set of languages is one image in any order
    expect(built(['fra', 'chi_sim'])).toEqual({ buildArgs: [{ OCR_ENGINE: 'tesseract.js', OCR_LANGUAGES: 'chi_sim+eng+fra' }], available: 'chi_sim+eng+fra' });
    // with your own image its languages are yours to know: nothing is assumed or checked
    const own = template({ ocrLanguages: ['eng', 'deu', 'xyz'] }).t;
    for (const fn of Object.values(own.findResources('AWS::Lambda::Function')) as any[]) {
      expect(fn.Properties.Environment?.Variables?.OCR_AVAILABLE_LANGUAGES).toBeUndefined();
    }
  });

  test('GIVEN the bundled worker image WHEN ocrLanguages names a code with no tesseract data package THEN synth fails naming the construct and prop', () => {
    expect(() => new BatchOcrProcessor(newTestStack(new App()), 'Ocr', { ocrLanguages: ['eng', 'due'] }))
      .toThrow(/BatchOcrProcessor 'Ocr': 'ocrLanguages' lists 'due', for which no tesseract language data package exists \(npm @tesseract.js-data\/<code>\), so the bundled worker image cannot hold it; use tesseract language codes such as 'eng', 'deu'.*or pass an 'image' or 'repository'/);
  });

  test('GIVEN ARM64 and the bundled worker WHEN synthesized THEN the image asset is built for linux/arm64 and the jobs run on ARM64', () => {
    expect(fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))).toBe(true);
    const app = newTestApp();
    const stack = newTestStack(app);
    // CpuArchitecture.of gives another object than the static ARM64: compared by value
    new BatchOcrProcessor(stack, 'Ocr', { cpuArchitecture: ecs.CpuArchitecture.of('ARM64'), spot: false });
    const assembly = app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    const images = Object.values(manifest.dockerImages) as { source: { platform?: string } }[];
    expect(images.map((i) => i.source.platform)).toEqual(['linux/arm64']);
    const def = Object.values(Template.fromStack(stack).findResources('AWS::Batch::JobDefinition'))[0].Properties;
    expect(def.ContainerProperties.RuntimePlatform.CpuArchitecture).toBe('ARM64');
  });

  test('GIVEN ocrEngine NATIVE_TESSERACT WHEN synthesized THEN the bundled image is built with OCR_ENGINE=tesseract and the jobs run it', () => {
    const built = (ocrEngine?: OcrEngine) => {
      const app = newTestApp();
      const stack = newTestStack(app);
      new BatchOcrProcessor(stack, 'Ocr', { ocrEngine });
      const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
      const [asset] = Object.entries(manifest.dockerImages) as [string, { source: { dockerBuildArgs?: Record<string, string> } }][];
      const def = Object.values(Template.fromStack(stack).findResources('AWS::Batch::JobDefinition'))[0].Properties;
      const env = Object.fromEntries(def.ContainerProperties.Environment.map((e: { Name: string; Value: string }) => [e.Name, e.Value]));
      return { hash: asset[0], buildArgs: asset[1].source.dockerBuildArgs, engineEnv: env.OCR_ENGINE, rendererEnv: env.OCR_PDF_RENDERER };
    };
    const native = built(OcrEngine.NATIVE_TESSERACT);
    expect(native.buildArgs).toEqual({ OCR_ENGINE: 'tesseract' });
    expect(native.engineEnv).toBe('tesseract');
    expect(native.rendererEnv).toBe('poppler'); // the native image's pdftoppm draws the PDF pages
    const wasm = built();
    expect(wasm.buildArgs).toEqual({ OCR_ENGINE: 'tesseract.js' });
    expect(wasm.engineEnv).toBe('tesseract.js');
    expect(wasm.rendererEnv).toBe('pdf.js');
    // two different images, two asset hashes: switching the engine rebuilds and redeploys the image
    expect(native.hash).not.toBe(wasm.hash);
  });

  test('GIVEN pdfRenderer WHEN synthesized THEN the jobs get it, and POPPLER with the bundled tesseract.js image (no pdftoppm) fails naming the prop', () => {
    const rendererOf = (props: BatchOcrProcessorProps) => {
      const stack = newTestStack(new App());
      new BatchOcrProcessor(stack, 'Ocr', props);
      const def = Object.values(Template.fromStack(stack).findResources('AWS::Batch::JobDefinition'))[0].Properties;
      return def.ContainerProperties.Environment.find((e: { Name: string }) => e.Name === 'OCR_PDF_RENDERER')?.Value;
    };
    // an own image with native Tesseract but no Poppler in it
    expect(rendererOf({ image, ocrEngine: OcrEngine.NATIVE_TESSERACT, pdfRenderer: PdfRenderer.PDF_JS })).toBe('pdf.js');
    // an own image may bring Poppler for tesseract.js too
    expect(rendererOf({ image, pdfRenderer: PdfRenderer.POPPLER })).toBe('poppler');
    expect(() => new BatchOcrProcessor(newTestStack(new App()), 'Ocr', { pdfRenderer: PdfRenderer.POPPLER }))
      .toThrow(/BatchOcrProcessor 'Ocr': 'pdfRenderer' is PdfRenderer.POPPLER, which the bundled worker image contains only when built for ocrEngine OcrEngine.NATIVE_TESSERACT/);
  });

  test('GIVEN ARM64 on Fargate Spot WHEN synthesized THEN the jobs run on ARM64 in a Fargate Spot compute environment', () => {
    for (const props of [{}, { spot: true }, { onDemandOverflow: true }]) {
      const stack = newTestStack(new App());
      new BatchOcrProcessor(stack, 'Ocr', { image, cpuArchitecture: ecs.CpuArchitecture.ARM64, ...props });
      const t = Template.fromStack(stack);
      const def = Object.values(t.findResources('AWS::Batch::JobDefinition'))[0].Properties;
      expect(def.ContainerProperties.RuntimePlatform.CpuArchitecture).toBe('ARM64');
      // Fargate platform version 1.4.0 (LATEST): what Fargate Spot needs for ARM64 tasks
      expect(def.ContainerProperties.FargatePlatformConfiguration).toEqual({ PlatformVersion: 'LATEST' });
      t.hasResourceProperties('AWS::Batch::ComputeEnvironment', { ComputeResources: Match.objectLike({ Type: 'FARGATE_SPOT' }) });
    }
  });
});

describe('BatchOcrProcessor methods', () => {
  test('GIVEN a role WHEN grantSubmit THEN it may invoke POST /jobs, GET /jobs/* and POST /uploads of this API only', () => {
    const app = new App();
    const stack = newTestStack(app);
    const ocr = new BatchOcrProcessor(stack, 'Ocr', { image });
    const role = new iam.Role(stack, 'Client', { assumedBy: new iam.AccountRootPrincipal() });
    ocr.grantSubmit(role);
    const t2 = Template.fromStack(stack);
    const policy = Object.entries(t2.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('ClientDefaultPolicy'))![1];
    const statement = policy.Properties.PolicyDocument.Statement[0];
    expect(statement.Action).toBe('execute-api:Invoke');
    const resources = JSON.stringify(statement.Resource);
    expect(resources).toContain('"/POST/jobs"');
    expect(resources).toContain('"/GET/jobs/*"');
    expect(resources).toContain('"/POST/uploads"');
    expect(resources).toContain('OcrApiDeploymentStagev1');
    expect(statement.Resource).toHaveLength(3);
  });

  test('GIVEN a processor WHEN metrics are asked for THEN handler metrics carry the service dimension and worker metrics the Service (and ErrorCode) dimensions', () => {
    const { ocr } = template({});
    expect(ocr.metricJobsFailed().metricName).toBe('JobsFailed');
    expect(ocr.metricJobsFailed().dimensions).toEqual({ service: ocr.metricsService });
    expect(ocr.metricJobsSubmitted().metricName).toBe('JobsSubmitted');
    expect(ocr.metricJobsSucceeded().namespace).toBe('CdkOcrConstructs');
    expect(ocr.metricRequestsRejected().statistic).toBe('Sum');
    expect(ocr.metricDocumentsSucceeded().dimensions).toEqual({ Service: ocr.metricsService });
    expect(ocr.metricDocumentsFailed(undefined, 'INVALID_PDF').dimensions).toEqual({ Service: ocr.metricsService, ErrorCode: 'INVALID_PDF' });
    expect(ocr.metricPagesProcessed().metricName).toBe('PagesProcessed');
    expect(ocr.metricDocumentDuration().statistic).toBe('p90');
  });

  test('GIVEN the default configuration WHEN costed THEN the fixed cost reuses CostOptimizedVpc pricing and per-page figures follow the Fargate prices', () => {
    const { ocr } = template({});
    const estimate = ocr.estimateMonthlyCost();
    expect(estimate.network).toBeDefined();
    expect(estimate.network!.fixedMonthlyUsd).toBe(ocr.network!.estimateMonthlyCost().fixedMonthlyUsd);
    // 3 interface endpoints (ecr.api, ecr.dkr, logs) x 2 AZ x 730 h x $0.01 = $43.80 + the flow-log key $1,
    // + the dashboard $3 and the 3 alarms $0.30 found among the processor's resources.
    expect(estimate.network!.fixedMonthlyUsd).toBeCloseTo(44.8, 2);
    const t = Template.fromStack(Stack.of(ocr));
    const alarms = Object.keys(t.findResources('AWS::CloudWatch::Alarm')).length;
    expect(estimate.lineItems).toEqual([
      { item: `CloudWatch alarms x ${alarms} (standard resolution)`, quantity: alarms, unit: 'alarm-months', unitPriceUsd: 0.1, monthlyUsd: Math.round(alarms * 10) / 100 },
      { item: 'CloudWatch dashboards x 1', quantity: 1, unit: 'dashboard-months', unitPriceUsd: 3, monthlyUsd: 3 },
    ]);
    expect(estimate.fixedMonthlyUsd).toBeCloseTo(44.8 + 3 + alarms * 0.1, 2);
    // the stack outputs carry the same figures (Spot by default)
    const outputs = Object.entries(t.findOutputs('*')).map(([id, o]) => [id, o.Value]);
    expect(outputs).toContainEqual([expect.stringMatching(/^OcrMonthlyFixedCostEstimateUsd/), estimate.fixedMonthlyUsd.toFixed(2)]);
    expect(outputs).toContainEqual([expect.stringMatching(/^OcrCostPer1000OnePageScansEstimateUsd/), estimate.perThousandDocuments[0].allInSpotUsd.toFixed(3)]);
    // 2 vCPU, 4 GiB at the benchmark's median 0.23 pages/vCPU-s: 1,000 pages = 2,174 task-seconds.
    const hours = 1000 / (2 * 0.23) / 3600;
    expect(estimate.perThousandPages.fargateUsd).toBeCloseTo(hours * (2 * FARGATE_VCPU_HOUR_USD + 4 * FARGATE_GB_HOUR_USD), 4);
    expect(estimate.perThousandPages.fargateSpotUsd).toBeCloseTo(estimate.perThousandPages.fargateUsd * 0.3, 4);
    expect(estimate.perThousandPages.textractUsd).toBe(1.5);
    expect(estimate.perThousandPages.fargateUsd).toBeCloseTo(0.0596, 4);
    expect(estimate.perThousandPages.fargateSpotUsd).toBeCloseTo(0.0179, 4);
    expect(estimate.perThousandPages.fargateUsd).toBeLessThan(estimate.perThousandPages.textractUsd / 10);
  });

  test('GIVEN the worker benchmark WHEN its runs on record are read THEN the default throughput of the estimate is within 15% of their median', () => {
    // every `npm run bench` appends a run to history.jsonl; one run moves by ±10% on the shared VM,
    // so the estimate's default follows the median of the runs on the latest run's CPU model
    const results = JSON.parse(fs.readFileSync(path.join(WORKER_DIRECTORY, 'bench', 'results.json'), 'utf8'));
    expect(results.dpi).toBe(300);
    const measured = benchmarkMedian(results.machine.model, (run) => run.pagesPerMinute.engine) / 60 / results.machine.cpus;
    expect(Math.abs(DEFAULT_PAGES_PER_VCPU_SECOND / measured - 1)).toBeLessThan(0.15);
  });

  test('GIVEN the native Tesseract backend WHEN costed THEN the estimate uses its benchmark throughput (within 15% of the median run) and says so', () => {
    const results = JSON.parse(fs.readFileSync(path.join(WORKER_DIRECTORY, 'bench', 'results.json'), 'utf8'));
    // method 2 on: the backend keeps its tesseract processes warm since then (before, one per page)
    const measured = benchmarkMedian(results.machine.model, (run) => run.pagesPerMinute.nativeBackend, 2) / 60 / results.machine.cpus;
    expect(Math.abs(DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT / measured - 1)).toBeLessThan(0.15);
    expect(DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT).toBeGreaterThan(DEFAULT_PAGES_PER_VCPU_SECOND);
    const { ocr } = template({ ocrEngine: OcrEngine.NATIVE_TESSERACT });
    const estimate = ocr.estimateMonthlyCost();
    expect(estimate.perThousandPages.pagesPerVcpuSecond).toBe(DEFAULT_PAGES_PER_VCPU_SECOND_NATIVE_TESSERACT);
    expect(estimate.notes.join(' ')).toMatch(/native Tesseract backend/);
    // a measured figure of the user's own wins over either default
    const own = template({ ocrEngine: OcrEngine.NATIVE_TESSERACT, pagesPerVcpuSecond: 0.3 }).ocr.estimateMonthlyCost();
    expect(own.perThousandPages.pagesPerVcpuSecond).toBe(0.3);
  });

  test('GIVEN ARM64 WHEN costed THEN Fargate Linux/ARM rates on demand and on Spot, and a note on the unmeasured throughput', () => {
    const { ocr } = template({ cpuArchitecture: ecs.CpuArchitecture.ARM64 });
    const estimate = ocr.estimateMonthlyCost();
    const hours = 1000 / (2 * DEFAULT_PAGES_PER_VCPU_SECOND) / 3600;
    expect(estimate.perThousandPages.cpuArchitecture).toBe('ARM64');
    expect(estimate.perThousandPages.fargateUsd).toBeCloseTo(hours * (2 * FARGATE_ARM_VCPU_HOUR_USD + 4 * FARGATE_ARM_GB_HOUR_USD), 4);
    expect(estimate.perThousandPages.fargateUsd).toBeCloseTo(0.0477, 4);
    expect(estimate.perThousandPages.fargateSpotUsd).toBeCloseTo(estimate.perThousandPages.fargateUsd * 0.3, 4);
    expect(estimate.perThousandDocuments.every((d) => d.cpuArchitecture === 'ARM64' && d.fargateSpotUsd < d.fargateUsd)).toBe(true);
    expect(estimate.notes.join(' ')).toMatch(/Linux\/ARM rates; the throughput and start-up assumed are the x86 benchmark's/);
    expect(template({}).ocr.estimateMonthlyCost().perThousandPages.cpuArchitecture).toBe('X86_64');
  });

  test('GIVEN a shared network WHEN costed THEN the network is not counted twice', () => {
    const { ocr } = template({}, (stack) => ({ network: new CostOptimizedVpc(stack, 'Shared') }));
    const estimate = ocr.estimateMonthlyCost();
    expect(estimate.network).toBeUndefined();
    expect(estimate.fixedMonthlyUsd).toBeCloseTo(3.3, 2);
    expect(estimate.notes.join(' ')).toMatch(/Network cost is not included/);
  });

  test('GIVEN bad pricing inputs WHEN costed THEN clear errors', () => {
    expect(() => costPer1000Pages({ vcpu: 1, memoryGib: 2, pagesPerVcpuSecond: 0 })).toThrow(/pagesPerVcpuSecond must be > 0/);
    expect(() => costPer1000Pages({ vcpu: 1, memoryGib: 2, spotDiscount: 1 })).toThrow(/spotDiscount must be from 0 to below 1/);
    expect(() => costPer1000Pages({ vcpu: 0, memoryGib: 2 })).toThrow(/vcpu and memoryGib must be > 0/);
  });
});

describe('BatchOcrProcessor bad props', () => {
  const cases: [string, (stack: Stack) => BatchOcrProcessorProps, RegExp][] = [
    ['vpc with network', (s) => ({ network: new CostOptimizedVpc(s, 'N'), vpc: ec2.Vpc.fromLookup(s, 'V', { vpcId: 'vpc-1' }) }), /'vpc' cannot be combined with 'network'/],
    ['vpcSubnets without vpc', () => ({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } }), /'vpcSubnets' needs 'vpc'/],
    ['image with repository', (s) => ({ repository: ecr.Repository.fromRepositoryName(s, 'R', 'r') }), /'repository' cannot be combined with 'image'/],
    ['image with createRepository', () => ({ createRepository: true }), /'createRepository' cannot be combined with 'image'/],
    ['imageTag without repository', () => ({ imageTag: 'v1' }), /'imageTag' needs 'repository' or 'createRepository'/],
    ['onDemandOverflow without spot', () => ({ spot: false, onDemandOverflow: true }), /'onDemandOverflow' only applies with 'spot'/],
    ['maxvCpus 0', () => ({ maxvCpus: 0 }), /BatchOcrProcessor 'Ocr': 'maxvCpus' must be an integer from 1 to 10000, got 0/],
    ['maxvCpus below vcpu', () => ({ maxvCpus: 1 }), /'maxvCpus' must be at least 'vcpu' \(2\), got 1/],
    ['vcpu 3', () => ({ vcpu: 3 }), /'vcpu' must be one of 0.25, 0.5, 1, 2, 4, 8, 16/],
    ['memory outside the Fargate range', () => ({ vcpu: 1, memory: Size.gibibytes(16) }), /'memory' must be 2048-8192 MiB in steps of 1024 with 1 vCPU on Fargate, got 16384 MiB/],
    ['memory between Fargate\'s increments', () => ({ vcpu: 2, memory: Size.mebibytes(5632) }), /'memory' must be 4096-16384 MiB in steps of 1024 with 2 vCPU on Fargate, got 5632 MiB/],
    ['8 vCPU with memory off its 4 GiB steps', () => ({ vcpu: 8, memory: Size.gibibytes(18) }), /'memory' must be 16384-61440 MiB in steps of 4096 with 8 vCPU/],
    ['0.25 vCPU with the default 4 GiB', () => ({ vcpu: 0.25 }), /'memory' must be 512, 1024 or 2048 MiB with 0.25 vCPU on Fargate, got 4096 MiB/],
    ['ephemeral storage 10 GiB', () => ({ ephemeralStorage: Size.gibibytes(10) }), /'ephemeralStorage' must be an integer from 21 to 200, got 10/],
    ['retryAttempts 11', () => ({ retryAttempts: 11 }), /'retryAttempts' must be an integer from 1 to 10, got 11/],
    ['workersPerTask 0', () => ({ workersPerTask: 0 }), /'workersPerTask' must be an integer from 1 to 64, got 0/],
    ['capacityWaitLimit 5 min', () => ({ capacityWaitLimit: Duration.minutes(5) }), /'capacityWaitLimit' must be an integer from 600 to 86400, got 300/],
    ['misconfigurationWaitLimit 2 days', () => ({ misconfigurationWaitLimit: Duration.days(2) }), /'misconfigurationWaitLimit' must be an integer from 600 to 86400, got 172800/],
    ['jobTimeout 10 s', () => ({ jobTimeout: Duration.seconds(10) }), /'jobTimeout' must be an integer from 60/],
    ['documentTimeout 2 h', () => ({ documentTimeout: Duration.hours(2) }), /'documentTimeout' must be an integer from 10 to 3600, got 7200/],
    ['ocrDpi 1000', () => ({ ocrDpi: 1000 }), /'ocrDpi' must be an integer from 72 to 600, got 1000/],
    ['maxPagesPerDocument 0', () => ({ maxPagesPerDocument: 0 }), /'maxPagesPerDocument' must be an integer from 1/],
    ['maxDocumentSize 0', () => ({ maxDocumentSize: Size.bytes(0) }), /BatchOcrProcessor '\w+': 'maxDocumentSize' must be a whole number of bytes from 1 to 5497558138880 \(5 TiB\), got 0/],
    ['maxDocumentSize above S3\'s largest object', () => ({ maxDocumentSize: Size.tebibytes(6) }), /'maxDocumentSize' must be a whole number of bytes from 1 to 5497558138880 \(5 TiB\), got 6597069766656/],
    ['maxDocumentSize in part bytes', () => ({ maxDocumentSize: Size.kibibytes(0.5001) }), /'maxDocumentSize' must be a whole number of bytes/],
    ['maxDocumentsPerJob 200000', () => ({ maxDocumentsPerJob: 200_000 }), /'maxDocumentsPerJob' must be an integer from 1 to 100000, got 200000/],
    ['maxDocumentsPerChild 0', () => ({ maxDocumentsPerChild: 0 }), /BatchOcrProcessor '\w+': 'maxDocumentsPerChild' must be an integer from 1 to 10000, got 0/],
    ['targetBytesPerChild below 1 MiB', () => ({ targetBytesPerChild: Size.kibibytes(512) }), /BatchOcrProcessor '\w+': 'targetBytesPerChild' must be a whole number of bytes from 1048576 \(1 MiB\) to 107374182400 \(100 GiB\), got 524288/],
    ['targetBytesPerChild above 100 GiB', () => ({ targetBytesPerChild: Size.gibibytes(101) }), /'targetBytesPerChild' must be a whole number of bytes from 1048576/],
    ['no languages', () => ({ ocrLanguages: [] }), /'ocrLanguages' must list 1 to 5 languages/],
    ['a bad language', () => ({ ocrLanguages: ['English'] }), /'ocrLanguages' has 'English', not a tesseract language code/],
    ['outputPrefix without slash', () => ({ outputPrefix: 'results' }), /'outputPrefix' must be a relative prefix ending with '\/', got 'results'/],
    ['uploadPrefix absolute', () => ({ uploadPrefix: '/up/' }), /'uploadPrefix' must be a relative prefix/],
    ['resultExpiration with own bucket', (s) => ({ outputBucket: s3.Bucket.fromBucketName(s, 'B', 'user-results'), resultExpiration: Duration.days(1) }), /'resultExpiration' only applies to the created output bucket/],
    ['Cognito without a user pool', () => ({ authorization: ApiAuthorization.COGNITO }), /'userPool' is required with ApiAuthorization.COGNITO/],
    ['a user pool without Cognito', (s) => ({ userPool: cognito.UserPool.fromUserPoolId(s, 'P', 'us-east-1_x') }), /'userPool' only applies with ApiAuthorization.COGNITO/],
    ['throttlingRateLimit 0', () => ({ throttlingRateLimit: 0 }), /'throttlingRateLimit' must be an integer from 1/],
    ['presignedUrlExpiry 1 day', () => ({ presignedUrlExpiry: Duration.days(1) }), /'presignedUrlExpiry' must be an integer from 60 to 43200, got 86400/],
    ['no CORS origins', () => ({ corsAllowOrigins: [] }), /'corsAllowOrigins' must list at least one origin/],
    ['no private endpoints', () => ({ privateApiEndpoints: [] }), /'privateApiEndpoints' must list at least one/],
    ['S3 batch above maxDocumentsPerJob', () => ({ maxDocumentsPerJob: 10, s3Trigger: { batchSize: 20 } }), /'s3Trigger.batchSize' must be an integer from 1 to 10, got 20/],
    ['S3 window too long', () => ({ s3Trigger: { maxBatchingWindow: Duration.minutes(10) } }), /'s3Trigger.maxBatchingWindow' must be an integer from 0 to 300, got 600/],
    ['S3 large batch without a window', () => ({ s3Trigger: { batchSize: 100, maxBatchingWindow: Duration.seconds(0) } }), /'s3Trigger.maxBatchingWindow' must be at least 1 second when batchSize is above 10/],
    ['S3 outputs empty', () => ({ s3Trigger: { outputs: [] } }), /'s3Trigger.outputs' must list at least one output/],
    ['S3 outputs repeated', () => ({ s3Trigger: { outputs: [DocumentOutput.SEARCHABLE_PDF, DocumentOutput.SEARCHABLE_PDF] } }), /'s3Trigger.outputs' must not list an output twice, got \[pdf, pdf\]/],
    ['pagesPerVcpuSecond 0', () => ({ pagesPerVcpuSecond: 0 }), /'pagesPerVcpuSecond' must be from 0.001 to 1000, got 0/],
  ];
  test.each(cases)('GIVEN %s WHEN constructed THEN it fails at synth naming the prop', (_name, props, message) => {
    const app = new App();
    const stack = newTestStack(app);
    expect(() => new BatchOcrProcessor(stack, 'Ocr', { image, ...props(stack) })).toThrow(message);
  });
});
