import * as fs from 'fs';
import * as path from 'path';
import { App, Duration, RemovalPolicy, SecretValue, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';
import { DEFAULT_PAGES_PER_VCPU_SECOND, FARGATE_GB_HOUR_USD, FARGATE_VCPU_HOUR_USD } from '../batch-ocr-processor/pricing';
import { OcrEngine, PdfRenderer, WORKER_DIRECTORY } from '../common/worker-image';
import { CostOptimizedVpc } from '../cost-optimized-vpc';
import { OcrServiceApi, OcrServiceEnvironment } from './contract';
import * as streamEvents from './fixtures/stream-events.json';
import { OcrServiceCluster } from './ocr-service-cluster';
import { OcrServiceCapacity, OcrServiceClusterProps } from './props';
import { COLLECTOR_DIRECTORY } from './tracing';

const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');
/** The collector from an ECR pull-through cache repository, as users would (the execution role then pulls from ECR). */
const collectorImage = (stack: Stack) => ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'Collector', 'ecr-public/aws-observability/aws-otel-collector'), 'v0.49.0');
const certificateArn = 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555';

function templateOf(app: App, stack: Stack): Template {
  return Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
}

/** Build, check compliance (schema + both cdk-nag majors), and return the template. */
function compliantTemplate(build: (stack: Stack) => void): { template: Template; stack: Stack } {
  const app = newTestApp();
  const stack = newTestStack(app);
  build(stack);
  synthCompliant(app);
  return { template: Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template), stack };
}

function fullProps(stack: Stack): OcrServiceClusterProps {
  return {
    image,
    network: new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 }),
    encryptionKey: new kms.Key(stack, 'Key', { enableKeyRotation: true }),
    cache: { replicas: 1 },
    tracing: { image: collectorImage(stack), memoryLimitMiB: 512 },
    secrets: { OCR_API_KEY: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretNameV2(stack, 'ApiKey', 'ocr/api-key')) },
    capacity: OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE,
    internetFacing: true,
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', certificateArn),
    jwtAuthentication: { issuer: 'https://issuer.example.com', jwksEndpoint: 'https://issuer.example.com/.well-known/jwks.json' },
    webAclArn: 'arn:aws:wafv2:us-east-1:111111111111:regional/webacl/ocr/1234',
    minCapacity: 2,
    maxCapacity: 10,
    desiredCount: 2,
  };
}

/** Lambda event filtering for the subset of patterns the construct uses: literal lists, nested objects. */
function matchesPattern(pattern: any, value: any): boolean {
  if (Array.isArray(pattern)) return pattern.some((p) => (typeof p === 'object' ? false : p === value));
  if (pattern && typeof pattern === 'object') {
    if (value === null || typeof value !== 'object') return false;
    return Object.entries(pattern).every(([k, p]) => matchesPattern(p, value[k]));
  }
  return false;
}

describe('OcrServiceCluster with defaults', () => {
  const { template } = compliantTemplate((stack) => new OcrServiceCluster(stack, 'Ocr', { image }));

  test('GIVEN defaults WHEN synthesized THEN the cluster has enhanced Container Insights', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }],
    });
  });

  test('GIVEN defaults THEN the service has 2 tasks, a rollback circuit breaker, private tasks and a health-check grace', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 2,
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
        MinimumHealthyPercent: 100,
        MaximumPercent: 200,
      }),
      HealthCheckGracePeriodSeconds: 120,
      NetworkConfiguration: { AwsvpcConfiguration: Match.objectLike({ AssignPublicIp: 'DISABLED' }) },
    });
  });

  test('GIVEN defaults THEN the container runs in service mode with the contract environment and timings', () => {
    const defs = template.findResources('AWS::ECS::TaskDefinition');
    const [taskDef] = Object.values(defs) as any[];
    expect(taskDef.Properties.Cpu).toBe('1024');
    expect(taskDef.Properties.Memory).toBe('3072');
    const container = taskDef.Properties.ContainerDefinitions[0];
    expect(container.StopTimeout).toBe(120);
    // Read-only root with /tmp as the only writable path (the image declares VOLUME /tmp).
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.MountPoints).toEqual([{ SourceVolume: 'tmp', ContainerPath: '/tmp', ReadOnly: false }]);
    expect(taskDef.Properties.Volumes).toEqual([{ Name: 'tmp' }]);
    // A user's image keeps its own command.
    expect(container.Command).toBeUndefined();
    expect(container.PortMappings).toEqual([expect.objectContaining({ ContainerPort: 8000, Protocol: 'tcp' })]);
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      OCR_MODE: 'service',
      PORT: '8000',
      OCR_UPLOADS_PREFIX: 'uploads/',
      OCR_RESULTS_PREFIX: 'results/',
      OCR_REQUEST_TIMEOUT_SECONDS: '30',
      OCR_SHUTDOWN_GRACE_SECONDS: '100',
      OCR_WORKERS: '1',
      OCR_DOC_TIMEOUT_SECONDS: '300',
      OCR_LANGUAGES: 'eng',
      OCR_MAX_DOCUMENT_BYTES: String(100 * 1024 * 1024),
      OCR_METRICS_NAMESPACE: 'CdkOcrConstructs',
    });
    expect(env.OCR_TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^OcrStatusTable/) });
    expect(env.OCR_DOCUMENTS_BUCKET).toEqual({ Ref: expect.stringMatching(/^OcrDocumentsBucket/) });
    expect(env.OCR_REDIS_URL).toBeUndefined();
    expect(container.LogConfiguration.Options).toMatchObject({ 'mode': 'non-blocking', 'max-buffer-size': '26214400b' });
  });

  test('GIVEN defaults THEN the load balancer is internal, logs access, drops invalid headers, and listens on HTTP 80', () => {
    const [alb] = Object.values(template.findResources('AWS::ElasticLoadBalancingV2::LoadBalancer')) as any[];
    expect(alb.Properties.Scheme).toBe('internal');
    const attributes = Object.fromEntries(alb.Properties.LoadBalancerAttributes.map((a: any) => [a.Key, a.Value]));
    expect(attributes).toMatchObject({
      'access_logs.s3.enabled': 'true',
      'access_logs.s3.prefix': 'alb',
      'routing.http.drop_invalid_header_fields.enabled': 'true',
      'idle_timeout.timeout_seconds': '60',
      'deletion_protection.enabled': 'false',
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
  });

  test('GIVEN defaults THEN the target group checks /health and drains for 60 s (< 120 s Spot notice)', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
      Port: 8000,
      TargetType: 'ip',
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '60' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([{ Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' }]),
    });
  });

  test('GIVEN defaults THEN a deployment rolls back when the 5xx or unhealthy-task alarm fires', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: Match.objectLike({
        Alarms: { Enable: true, Rollback: true, AlarmNames: [{ Ref: Match.stringLikeRegexp('^OcrTarget5xxAlarm') }, { Ref: Match.stringLikeRegexp('^OcrUnhealthyTasksAlarm') }] },
      }),
    });
  });

  test('GIVEN defaults THEN the tasks accept traffic only from the load balancer security group', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as any[];
    const toService = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('OcrServiceSecurityGroup'));
    expect(toService).toHaveLength(1);
    expect(JSON.stringify(toService[0].Properties.SourceSecurityGroupId)).toContain('OcrLoadBalancerSecurityGroup');
    expect(toService[0].Properties).toMatchObject({ FromPort: 8000, ToPort: 8000 });
    // The internal load balancer admits nobody but the stream trigger and the sweep until the user allows clients.
    const toAlb = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('OcrLoadBalancerSecurityGroup'));
    expect(toAlb.map((r) => JSON.stringify(r.Properties.SourceSecurityGroupId)).sort())
      .toEqual([expect.stringContaining('OcrStreamTrigger'), expect.stringContaining('OcrSweep')].sort());
    const sgs = Object.values(template.findResources('AWS::EC2::SecurityGroup')) as any[];
    expect(sgs.every((sg) => !(sg.Properties.SecurityGroupIngress ?? []).some((r: any) => r.CidrIp === '0.0.0.0/0'))).toBe(true);
  });

  test('GIVEN defaults THEN autoscaling spans 1..3 with a 30/70 CPU step band and scale-out-only request tracking', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1, MaxCapacity: 3 });
    const policies = Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy')) as any[];
    const steps = policies.filter((p) => p.Properties.PolicyType === 'StepScaling');
    expect(steps).toHaveLength(2);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    const cpuThresholds = alarms.filter((a) => a.Properties.MetricName === 'CPUUtilization' && a.Properties.Namespace === 'AWS/ECS')
      .map((a) => [a.Properties.ComparisonOperator, a.Properties.Threshold]).sort();
    expect(cpuThresholds).toEqual([['GreaterThanOrEqualToThreshold', 70], ['LessThanOrEqualToThreshold', 30]]);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({
        TargetValue: 300,
        DisableScaleIn: true,
        PredefinedMetricSpecification: Match.objectLike({ PredefinedMetricType: 'ALBRequestCountPerTarget' }),
      }),
    });
  });

  test('GIVEN defaults THEN the table is on-demand, PITR, encrypted, keyed by document_id, with a NEW_AND_OLD_IMAGES stream', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'document_id', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expires_at', Enabled: true },
      }),
    });
  });

  test('GIVEN defaults THEN the documents bucket is KMS-encrypted, versioned, TLS-only and logs access', () => {
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
        VersioningConfiguration: { Status: 'Enabled' },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'documents-bucket/' }),
      }),
    });
    // The access-log bucket uses SSE-S3 (ELB log delivery cannot write to SSE-KMS buckets).
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
    });
  });

  test('GIVEN defaults THEN the stream mapping filters, bisects, retries 3 times, reports item failures and keeps failed batches in S3', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^OcrDocumentsBucket'), 'Arn'] } } },
      FilterCriteria: { Filters: Match.arrayWith([Match.objectLike({ Pattern: Match.stringLikeRegexp('INSERT') })]) },
    });
  });

  test('GIVEN the synthesized filters WHEN the recorded stream events are matched THEN only new pending documents and hand-backs invoke the trigger', () => {
    const [mapping] = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')) as any[];
    const patterns = mapping.Properties.FilterCriteria.Filters.map((f: any) => JSON.parse(f.Pattern));
    const invoked = Object.entries(streamEvents)
      .filter(([name]) => name !== 'default' && name !== 'batchOfThree')
      .filter(([, e]) => patterns.some((p: any) => matchesPattern(p, (e as any).Records[0])))
      .map(([name]) => name)
      .sort();
    expect(invoked).toEqual(['insertSeedPending', 'insertUpperPending', 'insertWithoutFileType', 'modifyHandBack']);
  });

  test('GIVEN defaults THEN the trigger runs in the VPC, calls the internal load balancer by its DNS name, and traces actively (tracing is on, the X-Ray endpoint is there)', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          OCR_SERVICE_URL: { 'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^OcrLoadBalancer'), 'DNSName'] }]] },
          OCR_HANDOFF_TIMEOUT_MS: '10000',
        }),
      },
    });
  });

  test('GIVEN defaults THEN the created network has the endpoints the tasks call, and no NAT gateway', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[];
    const names = endpoints.map((e) => JSON.stringify(e.Properties.ServiceName));
    for (const service of ['ecr.api', 'ecr.dkr', 'logs', 's3', 'dynamodb']) {
      expect(names.some((n) => n.includes(`.${service}`))).toBe(true);
    }
    expect(names.some((n) => n.includes('.xray'))).toBe(true);
    expect(names.some((n) => n.includes('.secretsmanager'))).toBe(false);
  });

  test('GIVEN defaults THEN tracing is on: the ADOT collector beside the service, built from the bundled Dockerfile into an image asset, receiving OTLP on the loopback interface and exporting to X-Ray', () => {
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    const collector = taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === 'Tracing');
    const service = taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === 'Service');
    expect(service.Environment).toContainEqual({ Name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', Value: 'http://127.0.0.1:4318/v1/traces' });
    // Control Tower CT.ECS.PR.3/6/7: non-root, read-only root filesystem, hard memory limit; nothing listens beyond the task
    expect(collector).toMatchObject({ Essential: false, User: '1000:1000', ReadonlyRootFilesystem: true, Memory: 256, Cpu: 32 });
    expect(collector.PortMappings).toBeUndefined();
    expect(service.Memory + collector.Memory).toBe(Number(taskDef.Properties.Memory));
    // the image: the CDK asset repository (built at deploy from assets/otel-collector), not a public registry
    expect(JSON.stringify(collector.Image)).toContain('cdk-hnb659fds-container-assets');
    expect(fs.readFileSync(path.join(COLLECTOR_DIRECTORY, 'Dockerfile'), 'utf8')).toMatch(/^FROM public\.ecr\.aws\/aws-observability\/aws-otel-collector:v\d+\.\d+\.\d+$/m);
    const env = Object.fromEntries(collector.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env.GOMEMLIMIT).toBe('204MiB');
    const config = JSON.parse(env.AOT_CONFIG_CONTENT);
    expect(config).toEqual({
      receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:4318' } } } },
      processors: { batch: {} },
      exporters: { awsxray: { region: 'us-east-1', indexed_attributes: ['ocr.document_id', 'ocr.status', 'ocr.error_code'] } },
      service: { pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] } } },
    });
    expect(collector.LogConfiguration.Options['awslogs-stream-prefix']).toBe('tracing');
  });

  test('GIVEN defaults THEN the task role may put trace segments and nothing else of X-Ray', () => {
    const actions = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('OcrTaskDefinitionTaskRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement.flatMap((st: any) => [st.Action].flat()));
    expect(actions.filter((a: string) => a.startsWith('xray:'))).toEqual(['xray:PutTraceSegments']);
  });

  test('GIVEN defaults THEN the service and handler log groups keep logs for one year', () => {
    const retentions = Object.values(template.findResources('AWS::Logs::LogGroup')).map((g: any) => g.Properties.RetentionInDays);
    expect(retentions.length).toBeGreaterThanOrEqual(3);
    expect(new Set(retentions)).toEqual(new Set([365]));
  });

  test('GIVEN defaults THEN the table has the status index and the sweep runs every 5 minutes with exactly Query on it and UpdateItem', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: [Match.objectLike({
        IndexName: 'status-index',
        KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
        Projection: Match.objectLike({ ProjectionType: 'INCLUDE', NonKeyAttributes: Match.arrayWith(['updated_at', 'lease_expires_at']) }),
      })],
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as any[])
      .find((f) => f.Properties.Environment?.Variables?.OCR_STATUS_INDEX_NAME);
    expect(fn.Properties.Environment.Variables).toMatchObject({ OCR_STATUS_INDEX_NAME: 'status-index', OCR_STALE_PENDING_SECONDS: '600', OCR_SWEEP_MAX_ITEMS: '100' });
    expect(fn.Properties.DeadLetterConfig).toBeDefined();
    const policies = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('OcrSweepRole'));
    const statements = policies.flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement);
    expect(statements.filter((st: any) => String(st.Action).startsWith('dynamodb:'))).toEqual([
      expect.objectContaining({ Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [expect.stringMatching(/^OcrStatusTable/), 'Arn'] }, '/index/status-index']] } }),
      expect.objectContaining({ Action: 'dynamodb:UpdateItem', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^OcrStatusTable/), 'Arn'] } }),
    ]);
  });

  test('GIVEN defaults THEN alarms cover 5xx, latency, unhealthy tasks, trigger errors and lag, and the pending backlog', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')) as any[];
    const byMetric = (name: string) => alarms.filter((a) => a.Properties.MetricName === name);
    expect(byMetric('HTTPCode_Target_5XX_Count')).toHaveLength(1);
    expect(byMetric('HTTPCode_ELB_5XX_Count')).toHaveLength(1);
    expect(byMetric('TargetResponseTime')[0].Properties).toMatchObject({ ExtendedStatistic: 'p99', Threshold: 24 });
    expect(byMetric('UnHealthyHostCount')).toHaveLength(1);
    expect(byMetric('Errors')).toHaveLength(1);
    expect(byMetric('IteratorAge')[0].Properties.Threshold).toBe(900000);
    expect(byMetric('PendingDocuments')[0].Properties).toMatchObject({ Namespace: 'CdkOcrConstructs', Threshold: 100 });
  });

  test('GIVEN defaults THEN a dashboard shows requests, latency, 5xx, CPU/memory, tasks, documents and the pending queue', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as any[];
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metric of ['RequestCount', 'TargetResponseTime', 'HTTPCode_Target_5XX_Count', 'CPUUtilization', 'MemoryUtilization', 'RunningTaskCount', 'PendingDocuments', 'DocumentsSucceeded', 'IteratorAge']) {
      expect(body).toContain(metric);
    }
  });
});

describe('OcrServiceCluster with every option', () => {
  const { template } = compliantTemplate((stack) => new OcrServiceCluster(stack, 'Ocr', fullProps(stack)));

  test('GIVEN cache THEN a Valkey replication group is encrypted in transit and at rest, with AUTH and Multi-AZ', () => {
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      Engine: 'valkey',
      NumCacheClusters: 2,
      MultiAZEnabled: true,
      AutomaticFailoverEnabled: true,
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      KmsKeyId: Match.anyValue(),
      AuthToken: Match.anyValue(),
      Port: 6380,
    });
  });

  test('GIVEN cache THEN only the service security group reaches it, and the tasks get its TLS endpoint and AUTH secret', () => {
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as any[];
    const toCache = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('OcrCacheSecurityGroup'));
    expect(toCache).toHaveLength(1);
    expect(JSON.stringify(toCache[0].Properties.SourceSecurityGroupId)).toContain('OcrServiceSecurityGroup');
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    const service = taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === 'Service');
    const env = Object.fromEntries(service.Environment.map((e: any) => [e.Name, e.Value]));
    expect(JSON.stringify(env.OCR_REDIS_URL)).toContain('rediss://');
    expect(env.OCR_REDIS_TLS).toBe('true');
    expect(env.OCR_CACHE_TTL_SECONDS).toBe(String(7 * 24 * 3600));
    expect(service.Secrets.map((s: any) => s.Name).sort()).toEqual(['OCR_API_KEY', 'OCR_REDIS_AUTH_TOKEN']);
  });

  test('GIVEN tracing with a collector from ECR THEN that image is pulled by the execution role from its repository, and the collector gets the memory asked for', () => {
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    const collector = taskDef.Properties.ContainerDefinitions.find((c: any) => c.Name === 'Tracing');
    expect(JSON.stringify(collector.Image)).toContain('ecr-public/aws-observability/aws-otel-collector:v0.49.0');
    expect(collector.Memory).toBe(512);
    expect(collector.Environment).toContainEqual({ Name: 'GOMEMLIMIT', Value: '409MiB' });
    const execution = (Object.values(template.findResources('AWS::IAM::Policy')) as any[])
      .filter((p) => JSON.stringify(p.Properties.Roles).includes('ExecutionRole'))
      .map((p) => JSON.stringify(p.Properties.PolicyDocument));
    expect(execution.some((d) => d.includes('repository/ecr-public/aws-observability/aws-otel-collector') && d.includes('ecr:BatchGetImage'))).toBe(true);
  });

  test('GIVEN tracing, secrets and cache in a CostOptimizedVpc THEN the xray and secretsmanager endpoints are required', () => {
    const names = (Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[]).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(names.some((n) => n.includes('.xray'))).toBe(true);
    expect(names.some((n) => n.includes('.secretsmanager'))).toBe(true);
  });

  test('GIVEN tracing THEN the in-VPC trigger and sweep trace actively (their traces go through the X-Ray endpoint)', () => {
    const inVpc = (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).filter((f) => f.Properties.VpcConfig);
    expect(inVpc).toHaveLength(2);
    for (const fn of inVpc) expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
  });

  test('GIVEN Spot with an on-demand base THEN the service uses FARGATE base 1 and FARGATE_SPOT', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 0 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 1 },
      ],
    });
  });

  test('GIVEN internet-facing with a certificate and JWT THEN HTTPS verifies tokens before forwarding, HTTP redirects, WAF is attached', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internet-facing' });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      Certificates: [{ CertificateArn: certificateArn }],
      DefaultActions: [
        Match.objectLike({ Type: 'jwt-validation', Order: 1 }),
        Match.objectLike({ Type: 'forward', Order: 2 }),
      ],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) })],
    });
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    // The load balancer may fetch the issuer's JWKS.
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'OCR service load balancer',
      SecurityGroupEgress: Match.arrayWith([Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })]),
    });
  });

  test('GIVEN internet-facing THEN the trigger reaches the tasks through Cloud Map, not the authenticated public listener', () => {
    template.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 1);
    template.hasResourceProperties('AWS::ECS::Service', { ServiceRegistries: [Match.objectLike({ RegistryArn: Match.anyValue() })] });
    const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as any[])
      .find((f) => f.Properties.Environment?.Variables?.OCR_SERVICE_URL);
    expect(JSON.stringify(fn.Properties.Environment.Variables.OCR_SERVICE_URL)).toMatch(/http:\/\/ocr\..*:8000/);
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroupIngress')) as any[];
    const toService = ingress.filter((r) => JSON.stringify(r.Properties.GroupId).includes('OcrServiceSecurityGroup'));
    const sources = toService.map((r) => JSON.stringify(r.Properties.SourceSecurityGroupId));
    expect(sources).toHaveLength(3);
    for (const source of ['OcrLoadBalancerSecurityGroup', 'OcrStreamTrigger', 'OcrSweep']) {
      expect(sources.some((x) => x.includes(source))).toBe(true);
    }
  });

  test('GIVEN a customer-managed key THEN the table, bucket and log groups use it', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() }) });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ KMSMasterKeyID: Match.anyValue() }) }),
        ],
      },
    });
    const logGroups = Object.values(template.findResources('AWS::Logs::LogGroup')) as any[];
    expect(logGroups.filter((g) => g.Properties.KmsKeyId).length).toBeGreaterThanOrEqual(2);
  });
});

describe('OcrServiceCluster: bring your own', () => {
  test('GIVEN the user\'s VPC, cluster, bucket and table WHEN synthesized THEN none is created and their names reach the container', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const bucket = s3.Bucket.fromBucketName(stack, 'Docs', 'my-documents');
    const table = dynamodb.Table.fromTableAttributes(stack, 'Table', {
      tableName: 'my-status',
      tableStreamArn: 'arn:aws:dynamodb:us-east-1:111111111111:table/my-status/stream/2026-01-01T00:00:00.000',
    });
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image, vpc, cluster, documentsBucket: bucket, table, capacity: OcrServiceCapacity.SPOT });
    const template = templateOf(app, stack);
    expect(ocr.cluster).toBe(cluster);
    template.resourceCountIs('AWS::ECS::Cluster', 1);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    // Only the ALB/S3 access-log bucket is created.
    template.resourceCountIs('AWS::S3::Bucket', 1);
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    const env = Object.fromEntries(taskDef.Properties.ContainerDefinitions[0].Environment.map((e: any) => [e.Name, e.Value]));
    expect(env).toMatchObject({ OCR_TABLE_NAME: 'my-status', OCR_DOCUMENTS_BUCKET: 'my-documents' });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: Match.arrayWith(['FARGATE_SPOT']) });
    // Without statusIndexName the sweep cannot find work in the user's table, so it is off.
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(ocr.sweepHandler).toBeUndefined();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: 'arn:aws:dynamodb:us-east-1:111111111111:table/my-status/stream/2026-01-01T00:00:00.000',
      DestinationConfig: { OnFailure: { Destination: Match.objectLike({ 'Fn::Join': Match.anyValue() }) } },
    });
  });

  test('GIVEN the user\'s table with a status index THEN the sweep queries that index', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const table = dynamodb.Table.fromTableAttributes(stack, 'Table', {
      tableName: 'my-status',
      tableStreamArn: 'arn:aws:dynamodb:us-east-1:111111111111:table/my-status/stream/2026-01-01T00:00:00.000',
    });
    new OcrServiceCluster(stack, 'Ocr', { image, table, statusIndexName: 'by-status', sweepInterval: Duration.minutes(15), stalePendingAfter: Duration.minutes(30) });
    const template = templateOf(app, stack);
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ OCR_STATUS_INDEX_NAME: 'by-status', OCR_STALE_PENDING_SECONDS: '1800' }) },
    });
  });

  test('GIVEN two alarmActions, no dashboard and no sweep THEN every alarm has both actions and nothing else is created', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const topic = new sns.Topic(stack, 'Pager');
    const oncall = new sns.Topic(stack, 'OnCall');
    const ocr = new OcrServiceCluster(stack, 'Ocr', {
      image, alarmActions: [new cloudwatch_actions.SnsAction(topic), new cloudwatch_actions.SnsAction(oncall)], dashboard: false, sweep: false,
    });
    const template = templateOf(app, stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((a: any) => a.Properties.AlarmDescription?.startsWith('OCR service:')) as any[];
    expect(alarms).toHaveLength(6);
    expect(ocr.alarms).toHaveLength(6);
    expect(alarms.every((a) => a.Properties.AlarmActions?.length === 2)).toBe(true);
  });

  test('GIVEN OIDC authentication on an internal HTTPS listener THEN the listener authenticates before forwarding', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', {
      image,
      certificate: acm.Certificate.fromCertificateArn(stack, 'C', certificateArn),
      domainName: 'ocr.internal.example.com',
      oidcAuthentication: {
        issuer: 'https://idp.example.com',
        authorizationEndpoint: 'https://idp.example.com/authorize',
        tokenEndpoint: 'https://idp.example.com/token',
        userInfoEndpoint: 'https://idp.example.com/userinfo',
        clientId: 'ocr',
        clientSecret: SecretValue.secretsManager('ocr/oidc-client-secret'),
      },
    });
    const template = templateOf(app, stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      DefaultActions: [
        Match.objectLike({ Type: 'authenticate-oidc', AuthenticateOidcConfig: Match.objectLike({ Issuer: 'https://idp.example.com', Scope: 'openid' }) }),
        Match.objectLike({ Type: 'forward' }),
      ],
    });
  });

  test('GIVEN Cognito authentication on an internet-facing listener THEN it authenticates with the pool before forwarding', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const userPool = new cognito.UserPool(stack, 'Pool');
    const userPoolClient = userPool.addClient('Client', { generateSecret: true });
    const userPoolDomain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'ocr-test' } });
    const network = new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 });
    new OcrServiceCluster(stack, 'Ocr', {
      image,
      network,
      internetFacing: true,
      certificate: acm.Certificate.fromCertificateArn(stack, 'C', certificateArn),
      cognitoAuthentication: { userPool, userPoolClient, userPoolDomain },
    });
    const template = templateOf(app, stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      DefaultActions: [Match.objectLike({ Type: 'authenticate-cognito' }), Match.objectLike({ Type: 'forward' })],
    });
  });

  test('GIVEN no image WHEN constructed THEN the bundled worker image is built from assets/ocr-worker, or a clear error says it is missing', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const bundled = fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'));
    if (bundled) {
      const ocr = new OcrServiceCluster(stack, 'Ocr');
      expect(ocr.node.tryFindChild('WorkerImage')).toBeDefined();
      // The ECR pull permissions of the execution role are acknowledged: the default is compliance-clean.
      synthCompliant(app);
      const [taskDef] = Object.values(templateOf(app, stack).findResources('AWS::ECS::TaskDefinition')) as any[];
      expect(taskDef.Properties.ContainerDefinitions[0].Command).toEqual(OcrServiceApi.BUNDLED_IMAGE_COMMAND);
    } else {
      expect(() => new OcrServiceCluster(stack, 'Ocr')).toThrow(/OcrServiceCluster 'Ocr': 'image' is required: the bundled OCR worker .*assets\/ocr-worker/);
    }
  });

  test('GIVEN the bundled worker image WHEN ocrLanguages add a language THEN the image is built with them (OCR_LANGUAGES); none by default', () => {
    const buildArgs = (ocrLanguages?: string[]) => {
      const app = newTestApp();
      const stack = newTestStack(app);
      new OcrServiceCluster(stack, 'Ocr', { ocrLanguages });
      const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
      return (Object.values(manifest.dockerImages) as { source: { dockerBuildArgs?: Record<string, string> } }[])
        .map((i) => i.source.dockerBuildArgs);
    };
    expect(buildArgs()).toEqual([{ OCR_ENGINE: 'tesseract.js' }]);
    expect(buildArgs(['eng', 'deu'])).toEqual([{ OCR_ENGINE: 'tesseract.js', OCR_LANGUAGES: 'deu+eng' }]);
  });

  test('GIVEN the bundled worker image WHEN ocrLanguages names a code with no tesseract data package THEN synth fails naming the prop (the image build would fail)', () => {
    expect(() => new OcrServiceCluster(newTestStack(new App()), 'Ocr', { ocrLanguages: ['eng', 'germ'] }))
      .toThrow(/OcrServiceCluster 'Ocr': 'ocrLanguages' lists 'germ', for which no tesseract language data package exists .*or pass an 'image' whose worker has data for it/);
  });

  test('GIVEN ARM64 and the bundled worker WHEN synthesized THEN the image asset is linux/arm64 and the task runs on ARM64', () => {
    expect(fs.existsSync(path.join(WORKER_DIRECTORY, 'Dockerfile'))).toBe(true);
    const app = newTestApp();
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', { cpuArchitecture: ecs.CpuArchitecture.ARM64 });
    const assembly = app.synth();
    const manifest = JSON.parse(fs.readFileSync(path.join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8'));
    // the worker and the tracing collector, both for the tasks' CPU
    expect((Object.values(manifest.dockerImages) as { source: { platform?: string } }[]).map((i) => i.source.platform)).toEqual(['linux/arm64', 'linux/arm64']);
    templateOf(app, stack).hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
  });

  test('GIVEN ocrEngine NATIVE_TESSERACT WHEN synthesized THEN the bundled image is built with OCR_ENGINE=tesseract and the service runs it', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', { ocrEngine: OcrEngine.NATIVE_TESSERACT });
    const manifest = JSON.parse(fs.readFileSync(path.join(app.synth().directory, `${stack.artifactId}.assets.json`), 'utf8'));
    // the worker's build arguments (the tracing collector has none)
    const images = Object.values(manifest.dockerImages) as { source: { dockerBuildArgs?: Record<string, string> } }[];
    expect(images.map((i) => i.source.dockerBuildArgs).filter(Boolean)).toEqual([{ OCR_ENGINE: 'tesseract' }]);
    templateOf(app, stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({
        Environment: Match.arrayWith([{ Name: 'OCR_ENGINE', Value: 'tesseract' }, { Name: 'OCR_PDF_RENDERER', Value: 'poppler' }]),
      })]),
    });
  });

  test('GIVEN pdfRenderer WHEN constructed THEN the service gets it, and POPPLER with the bundled tesseract.js image (no pdftoppm) fails naming the prop', () => {
    const own = new OcrServiceCluster(newTestStack(new App()), 'Ocr', { image, ocrEngine: OcrEngine.NATIVE_TESSERACT, pdfRenderer: PdfRenderer.PDF_JS });
    expect(own.containerEnvironment.OCR_PDF_RENDERER).toBe('pdf.js');
    expect(new OcrServiceCluster(newTestStack(new App()), 'Ocr', { image }).containerEnvironment.OCR_PDF_RENDERER).toBe('pdf.js');
    expect(() => new OcrServiceCluster(newTestStack(new App()), 'Ocr', { pdfRenderer: PdfRenderer.POPPLER }))
      .toThrow(/OcrServiceCluster 'Ocr': 'pdfRenderer' is PdfRenderer.POPPLER, which the bundled worker image contains only when built for ocrEngine OcrEngine.NATIVE_TESSERACT/);
  });

  test('GIVEN ARM64 with Fargate Spot capacity WHEN constructed THEN the ARM64 task runs on FARGATE_SPOT', () => {
    for (const capacity of [OcrServiceCapacity.SPOT, OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE]) {
      const stack = newTestStack(new App());
      new OcrServiceCluster(stack, 'Ocr', { image, cpuArchitecture: ecs.CpuArchitecture.ARM64, capacity });
      const t = Template.fromStack(stack);
      t.hasResourceProperties('AWS::ECS::TaskDefinition', { RuntimePlatform: { CpuArchitecture: 'ARM64', OperatingSystemFamily: 'LINUX' } });
      t.hasResourceProperties('AWS::ECS::Service', { CapacityProviderStrategy: Match.arrayWith([Match.objectLike({ CapacityProvider: 'FARGATE_SPOT' })]) });
    }
  });

  test('GIVEN the metric methods THEN they name the right namespaces, metrics and dimensions', () => {
    const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image, metricsNamespace: 'MyOcr' });
    expect(ocr.metricPendingDocuments()).toMatchObject({ namespace: 'MyOcr', metricName: 'PendingDocuments', statistic: 'Maximum' });
    expect(ocr.metricPendingDocuments().dimensions).toEqual({ Service: ocr.metricsServiceName });
    expect(ocr.metricDocumentsFailed()).toMatchObject({ namespace: 'MyOcr', metricName: 'DocumentsFailed', statistic: 'Sum' });
    expect(ocr.metricTargetResponseTime()).toMatchObject({ namespace: 'AWS/ApplicationELB', metricName: 'TargetResponseTime', statistic: 'p99' });
    expect(ocr.metricTarget5xxCount()).toMatchObject({ metricName: 'HTTPCode_Target_5XX_Count' });
    expect(ocr.metricLoadBalancer5xxCount()).toMatchObject({ metricName: 'HTTPCode_ELB_5XX_Count' });
    expect(ocr.metricRequestCount()).toMatchObject({ metricName: 'RequestCount' });
    expect(ocr.metricCpuUtilization()).toMatchObject({ namespace: 'AWS/ECS', metricName: 'CPUUtilization' });
    expect(ocr.metricMemoryUtilization()).toMatchObject({ namespace: 'AWS/ECS', metricName: 'MemoryUtilization' });
    expect(ocr.metricRunningTaskCount()).toMatchObject({ namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount' });
    expect(ocr.metricUnhealthyTaskCount()).toMatchObject({ metricName: 'UnHealthyHostCount', statistic: 'Maximum' });
    expect(ocr.metricStreamIteratorAge()).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'IteratorAge' });
  });

  test('GIVEN a producer and a consumer WHEN granted THEN the producer may upload and insert, the consumer read results', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image });
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    const consumer = new iam.Role(stack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
    ocr.grantSubmitDocuments(producer);
    ocr.grantReadResults(consumer);
    const template = templateOf(app, stack);
    const statementsOf = (prefix: string) => Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith(prefix)).flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement);
    const producerText = JSON.stringify(statementsOf('Producer'));
    expect(producerText).toContain('dynamodb:PutItem');
    expect(producerText).toContain('/uploads/*');
    expect(producerText).not.toContain('dynamodb:DeleteItem');
    const consumerText = JSON.stringify(statementsOf('Consumer'));
    expect(consumerText).toContain('dynamodb:GetItem');
    expect(consumerText).toContain('/results/*');
    expect(consumerText).not.toContain('PutItem');
  });

  test('GIVEN a customer-managed key WHEN a producer and a consumer are granted THEN they may also use the key', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image, encryptionKey: new kms.Key(stack, 'Key') });
    const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
    const consumer = new iam.Role(stack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal() });
    ocr.grantSubmitDocuments(producer);
    ocr.grantReadResults(consumer);
    const template = templateOf(app, stack);
    const statementsOf = (prefix: string) => JSON.stringify(Object.entries(template.findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith(prefix)).flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement));
    expect(statementsOf('Producer')).toContain('kms:Encrypt');
    expect(statementsOf('Consumer')).toContain('kms:Decrypt');
    expect(statementsOf('Consumer')).not.toContain('kms:Encrypt');
  });

  test('GIVEN two clusters in one stack WHEN synthesized THEN both synthesize (no fixed physical names)', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const network = new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 });
    new OcrServiceCluster(stack, 'A', { image, network });
    new OcrServiceCluster(stack, 'B', { image, network, internetFacing: true, certificate: acm.Certificate.fromCertificateArn(stack, 'C', certificateArn), allowUnauthenticatedAccess: true });
    const template = templateOf(app, stack);
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.resourceCountIs('AWS::DynamoDB::Table', 2);
  });

  test('GIVEN an internal HTTPS listener with a domain name THEN the trigger calls https://<domain>', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', {
      image,
      certificate: acm.Certificate.fromCertificateArn(stack, 'C', certificateArn),
      domainName: 'ocr.internal.example.com',
      allowedClients: [ec2.Peer.ipv4('10.20.0.0/16')],
    });
    const template = templateOf(app, stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ OCR_SERVICE_URL: 'https://ocr.internal.example.com' }) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: [Match.objectLike({ CidrIp: '10.20.0.0/16', FromPort: 443 })],
    });
  });

  test('GIVEN options for sizes and timings THEN they reach the task, target group and container', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', {
      image,
      vcpu: 2,
      memory: Size.gibibytes(8),
      workersPerTask: 2,
      ocrLanguages: ['eng', 'deu'],
      maxDocumentSize: Size.mebibytes(10),
      requestTimeout: Duration.seconds(20),
      deregistrationDelay: Duration.seconds(45),
      stopTimeout: Duration.seconds(90),
      shutdownGrace: Duration.seconds(60),
      removalPolicy: RemovalPolicy.DESTROY,
      containerPort: 8080,
      readonlyRootFilesystem: false,
    });
    const template = templateOf(app, stack);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 8080,
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '45' }]),
    });
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    const container = taskDef.Properties.ContainerDefinitions[0];
    expect(container.StopTimeout).toBe(90);
    // opted out (an image of the user's that writes outside /tmp): writable root, no scratch volume
    expect(container.ReadonlyRootFilesystem).toBe(false);
    expect(container.MountPoints).toBeUndefined();
    expect(taskDef.Properties.Volumes).toBeUndefined();
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      PORT: '8080',
      OCR_WORKERS: '2',
      OCR_LANGUAGES: 'eng+deu',
      OCR_MAX_DOCUMENT_BYTES: String(10 * 1024 * 1024),
      OCR_REQUEST_TIMEOUT_SECONDS: '20',
      OCR_SHUTDOWN_GRACE_SECONDS: '60',
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });
});

describe('OcrServiceCluster: bad props fail at synth', () => {
  const cert = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'C', certificateArn);
  const cases: Array<[string, (stack: Stack) => OcrServiceClusterProps, RegExp]> = [
    ['request timeout not below deregistration delay', () => ({ requestTimeout: Duration.seconds(60), deregistrationDelay: Duration.seconds(60) }), /OcrServiceCluster 'Ocr': 'requestTimeout' \(60 s\) must be less than 'deregistrationDelay' \(60 s\)/],
    ['deregistration delay of 120 s', () => ({ deregistrationDelay: Duration.seconds(120) }), /'deregistrationDelay' must be a whole number of seconds from 0 to 119, got 120/],
    ['stop timeout above the Spot notice', () => ({ stopTimeout: Duration.seconds(121) }), /'stopTimeout' must be a whole number of seconds from 2 to 120, got 121/],
    ['shutdown grace not below stop timeout', () => ({ stopTimeout: Duration.seconds(60), shutdownGrace: Duration.seconds(60) }), /'shutdownGrace' \(60 s\) must be less than 'stopTimeout' \(60 s\)/],
    ['request timeout above shutdown grace', () => ({ requestTimeout: Duration.seconds(50), shutdownGrace: Duration.seconds(40) }), /'requestTimeout' \(50 s\) must not exceed 'shutdownGrace' \(40 s\)/],
    ['idle timeout not above request timeout', () => ({ idleTimeout: Duration.seconds(30) }), /'idleTimeout' \(30 s\) must be greater than 'requestTimeout' \(30 s\)/],
    ['fractional request timeout', () => ({ requestTimeout: Duration.millis(1500) }), /'requestTimeout' must be a whole number of seconds from 1 to 118, got 1.5/],
    ['min above max', () => ({ minCapacity: 4, maxCapacity: 3 }), /'minCapacity' \(4\) must not exceed 'maxCapacity' \(3\)/],
    ['desired outside min..max', () => ({ desiredCount: 5 }), /'desiredCount' must be from 'minCapacity' \(1\) to 'maxCapacity' \(3\), got 5/],
    ['max capacity 0', () => ({ maxCapacity: 0 }), /'maxCapacity' must be an integer from 1 to 1000, got 0/],
    ['scale-in not below scale-out', () => ({ cpuScaleInPercent: 70 }), /'cpuScaleInPercent' \(70\) must be less than 'cpuScaleOutPercent' \(70\)/],
    ['scale-out above 100', () => ({ cpuScaleOutPercent: 101 }), /'cpuScaleOutPercent' must be an integer from 2 to 100, got 101/],
    ['requests per target 0', () => ({ requestsPerTargetPerMinute: 0 }), /'requestsPerTargetPerMinute' must be an integer from 1/],
    ['vcpu not a Fargate size', () => ({ vcpu: 0.125 }), /'vcpu' must be one of 0.25, 0.5, 1, 2, 4, 8, 16 vCPU \(Fargate task sizes\), got 0.125/],
    ['memory too small', () => ({ memory: Size.mebibytes(256) }), /'memory' must be 2048-8192 MiB in steps of 1024 with 1 vCPU on Fargate, got 256 MiB/],
    ['memory between Fargate\'s increments', () => ({ vcpu: 2, memory: Size.mebibytes(5632) }), /'memory' must be 4096-16384 MiB in steps of 1024 with 2 vCPU on Fargate, got 5632 MiB/],
    ['0.25 vCPU with 1.5 GiB', () => ({ vcpu: 0.25, memory: Size.mebibytes(1536) }), /'memory' must be 512, 1024 or 2048 MiB with 0.25 vCPU/],
    ['privileged port', () => ({ containerPort: 80 }), /'containerPort' must be an integer from 1024 to 65535, got 80/],
    ['zero workers', () => ({ workersPerTask: 0 }), /'workersPerTask' must be an integer from 1 to 64, got 0/],
    ['a language that is not a tesseract code', () => ({ ocrLanguages: ['eng', 'english, german'] }), /'ocrLanguages' must hold tesseract language codes such as 'eng' or 'chi_sim', got 'english, german'/],
    ['an empty language', () => ({ ocrLanguages: ['eng', ''] }), /'ocrLanguages' must hold tesseract language codes such as 'eng' or 'chi_sim', got ''/],
    ['no languages', () => ({ ocrLanguages: [] }), /'ocrLanguages' must list at least one tesseract language code/],
    ['prefix without slash', () => ({ uploadsPrefix: 'uploads' }), /'uploadsPrefix' must be a non-empty S3 key prefix ending with '\/'/],
    ['same prefixes', () => ({ uploadsPrefix: 'data/', resultsPrefix: 'data/' }), /'uploadsPrefix' must differ from 'resultsPrefix'/],
    ['batch size 0', () => ({ streamBatchSize: 0 }), /'streamBatchSize' must be an integer from 1 to 100, got 0/],
    ['negative retries', () => ({ streamRetryAttempts: -1 }), /'streamRetryAttempts' must be an integer from 0/],
    ['hand-off timeout above 60 s', () => ({ handoffTimeout: Duration.seconds(61) }), /'handoffTimeout' must be a whole number of seconds from 1 to 60, got 61/],
    ['internet-facing without certificate', () => ({ internetFacing: true, allowUnauthenticatedAccess: true }), /'certificate' is required when 'internetFacing' is true/],
    ['internet-facing without authentication', (s) => ({ internetFacing: true, certificate: cert(s) }), /'internetFacing' requires 'jwtAuthentication', 'oidcAuthentication' or 'cognitoAuthentication' on the load balancer; set 'allowUnauthenticatedAccess: true' to opt out explicitly/],
    ['opt-out on an internal load balancer', () => ({ allowUnauthenticatedAccess: true }), /'allowUnauthenticatedAccess' only applies when 'internetFacing' is true/],
    ['authentication without certificate', () => ({ jwtAuthentication: { issuer: 'https://i', jwksEndpoint: 'https://i/j' } }), /'certificate' is required for authentication on the load balancer/],
    ['two authentications', (s) => ({
      certificate: cert(s),
      domainName: 'ocr.example.com',
      jwtAuthentication: { issuer: 'https://i', jwksEndpoint: 'https://i/j' },
      oidcAuthentication: { issuer: 'https://i', authorizationEndpoint: 'https://i/a', tokenEndpoint: 'https://i/t', userInfoEndpoint: 'https://i/u', clientId: 'c', clientSecret: { unsafeUnwrap: () => 's' } as any },
    }), /'jwtAuthentication' and 'oidcAuthentication' are mutually exclusive/],
    ['JWT and Cognito', (s) => ({
      certificate: cert(s),
      domainName: 'ocr.example.com',
      jwtAuthentication: { issuer: 'https://i', jwksEndpoint: 'https://i/j' },
      cognitoAuthentication: { userPool: {} as any, userPoolClient: {} as any, userPoolDomain: {} as any },
    }), /'jwtAuthentication' and 'cognitoAuthentication' are mutually exclusive/],
    ['internal certificate without domain name', (s) => ({ certificate: cert(s) }), /'domainName' is required with 'certificate' on an internal load balancer/],
    ['network and vpc', (s) => ({ network: new CostOptimizedVpc(s, 'N'), vpc: new ec2.Vpc(s, 'V') }), /'vpc' and 'network' are mutually exclusive/],
    ['cluster in another network', (s) => ({ network: new CostOptimizedVpc(s, 'N'), cluster: new ecs.Cluster(s, 'Cl', { vpc: new ec2.Vpc(s, 'V') }) }), /'cluster' must be in 'network.vpc'/],
    ['table without stream', (s) => ({ table: dynamodb.Table.fromTableName(s, 'T', 'plain') }), /'table' must have a stream \(NEW_AND_OLD_IMAGES\)/],
    ['sweep on a table without status index', (s) => ({ sweep: true, table: dynamodb.Table.fromTableAttributes(s, 'T', { tableName: 't', tableStreamArn: 'arn:aws:dynamodb:us-east-1:111111111111:table/t/stream/x' }) }), /'sweep' needs 'statusIndexName'/],
    ['sweep every 30 s', () => ({ sweepInterval: Duration.seconds(30) }), /'sweepInterval' must be a whole number of seconds from 60 to 86400, got 30/],
    ['fractional health-check grace', () => ({ healthCheckGracePeriod: Duration.millis(500) }), /'healthCheckGracePeriod' must be a whole number of seconds from 0 to 2147483647, got 0.5/],
    ['cache replicas above 5', () => ({ cache: { replicas: 6 } }), /'cache.replicas' must be an integer from 0 to 5, got 6/],
    ['secret overriding the contract', (s) => ({ secrets: { OCR_TABLE_NAME: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretNameV2(s, 'X', 'x')) } }), /'secrets' must not set the contract variable 'OCR_TABLE_NAME'/],
    ['environment overriding the contract', () => ({ environment: { PORT: '9000' } }), /'environment' must not set the contract variable 'PORT'/],
    ['a notification topic in another region', (s) => ({ textractNotificationTopics: [sns.Topic.fromTopicArn(s, 'T', 'arn:aws:sns:eu-west-1:111111111111:done')] }),
      /OcrServiceCluster 'Ocr': 'textractNotificationTopics' must be topics in the stack's region \(us-east-1\): the service publishes from there, got a topic in eu-west-1/],
    ['a FIFO notification topic', (s) => ({ textractNotificationTopics: [sns.Topic.fromTopicArn(s, 'T', 'arn:aws:sns:us-east-1:111111111111:done.fifo')] }),
      /OcrServiceCluster 'Ocr': 'textractNotificationTopics' must be standard topics/],
    ['an output bucket in another region', (s) => ({ textractOutputBuckets: [s3.Bucket.fromBucketAttributes(s, 'B', { bucketName: 'partner-results', region: 'eu-west-1' })] }),
      /OcrServiceCluster 'Ocr': 'textractOutputBuckets' must be buckets in the stack's region \(us-east-1\): the service writes from there, got a bucket in eu-west-1/],
    ['an output bucket named twice', (s) => ({ textractOutputBuckets: [s3.Bucket.fromBucketName(s, 'B1', 'out'), s3.Bucket.fromBucketName(s, 'B2', 'out')] }),
      /OcrServiceCluster 'Ocr': 'textractOutputBuckets' names bucket 'out' twice/],
  ];
  test.each(cases)('GIVEN %s WHEN constructed THEN it throws a message naming the prop', (_name, props, message) => {
    const app = new App();
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    expect(() => new OcrServiceCluster(stack, 'Ocr', { image, ...props(stack) })).toThrow(message);
  });

  test('GIVEN a topic created in a stack of another region WHEN constructed THEN it fails naming the service stack\'s region', () => {
    const app = new App();
    const other = new Stack(app, 'Other', { env: { account: '111111111111', region: 'eu-west-1' } });
    const stack = new Stack(app, 'S', { env: { account: '111111111111', region: 'us-east-1' } });
    expect(() => new OcrServiceCluster(stack, 'Ocr', { image, textractNotificationTopics: [new sns.Topic(other, 'Done')] }))
      .toThrow(/'textractNotificationTopics' must be topics in the stack's region \(us-east-1\): the service publishes from there, got a topic in eu-west-1/);
  });

  test('GIVEN an environment-agnostic stack WHEN constructed THEN it asks for a region', () => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => new OcrServiceCluster(stack, 'Ocr', { image, vpc: new ec2.Vpc(stack, 'V') }))
      .toThrow(/OcrServiceCluster 'Ocr': 'scope' must be in a stack with an explicit region/);
  });

  test('GIVEN the contract names WHEN listed THEN every environment variable name is unique', () => {
    const names = Object.entries(OcrServiceEnvironment).filter(([k]) => k !== 'MODE_SERVICE').map(([, v]) => v);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('OcrServiceCluster: tracing', () => {
  test('GIVEN tracing turned off in a CostOptimizedVpc THEN no collector, no OTLP endpoint for the service, no xray endpoint, and the in-VPC handlers do not trace', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image, tracing: { enabled: false } });
    expect(ocr.tracingContainer).toBeUndefined();
    expect(ocr.containerEnvironment.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).toBeUndefined();
    const template = templateOf(app, stack);
    const [taskDef] = Object.values(template.findResources('AWS::ECS::TaskDefinition')) as any[];
    expect(taskDef.Properties.ContainerDefinitions.map((c: any) => c.Name)).toEqual(['Service']);
    const names = (Object.values(template.findResources('AWS::EC2::VPCEndpoint')) as any[]).map((e) => JSON.stringify(e.Properties.ServiceName));
    expect(names.some((n) => n.includes('.xray'))).toBe(false);
    const inVpc = (Object.values(template.findResources('AWS::Lambda::Function')) as any[]).filter((f) => f.Properties.VpcConfig);
    expect(inVpc.length).toBeGreaterThan(0);
    for (const fn of inVpc) expect(fn.Properties.TracingConfig).toBeUndefined();
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('xray:');
  });

  test('GIVEN the X-Ray daemon as the tracing image THEN synth fails naming tracing.image (the daemon does not receive OTLP)', () => {
    const stack = newTestStack(new App());
    const daemon = ecs.ContainerImage.fromEcrRepository(ecr.Repository.fromRepositoryName(stack, 'XRay', 'ecr-public/xray/aws-xray-daemon'), '3.x');
    expect(() => new OcrServiceCluster(stack, 'Ocr', { image, tracing: { image: daemon } }))
      .toThrow(/OcrServiceCluster 'Ocr': 'tracing.image' is the X-Ray daemon, which does not receive OpenTelemetry/);
  });

  test('GIVEN a collector from public.ecr.aws in a CostOptimizedVpc THEN synth fails naming tracing.image', () => {
    const stack = newTestStack(new App());
    expect(() => new OcrServiceCluster(stack, 'Ocr', { image, tracing: { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/aws-observability/aws-otel-collector:v0.49.0') } }))
      .toThrow(/OcrServiceCluster 'Ocr': 'tracing.image' is pulled from public\.ecr\.aws/);
  });
});

describe('OcrServiceCluster cost estimate (the worker kept warm)', () => {
  const taskHour = (vcpu: number, gib: number) => vcpu * FARGATE_VCPU_HOUR_USD + gib * FARGATE_GB_HOUR_USD;

  test('GIVEN the defaults WHEN costed THEN one on-demand task all month, the load balancer, every alarm and the dashboard, and its own network with the flow-log key', () => {
    const stack = newTestStack(new App());
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image });
    const estimate = ocr.estimateMonthlyCost();
    const items = Object.fromEntries(estimate.lineItems.map((i) => [i.item, i]));
    expect(items['Fargate tasks x 1 on demand (1 vCPU, 3 GiB, X86_64), running all month'].monthlyUsd).toBeCloseTo(730 * taskHour(1, 3), 2);
    expect(items['Application Load Balancers x 1 (LCUs per use, not included)'].monthlyUsd).toBe(16.43);
    const alarms = Object.keys(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')).length;
    expect(alarms).toBeGreaterThanOrEqual(ocr.alarms.length);
    expect(items[`CloudWatch alarms x ${alarms} (standard resolution)`].monthlyUsd).toBeCloseTo(alarms * 0.1, 2);
    expect(items['CloudWatch dashboards x 1'].monthlyUsd).toBe(3);
    expect(estimate.network!.lineItems.map((i) => i.item)).toContain('KMS customer-managed keys x 1');
    const sum = estimate.lineItems.reduce((s, i) => s + i.monthlyUsd, 0) + estimate.network!.fixedMonthlyUsd;
    expect(estimate.fixedMonthlyUsd).toBeCloseTo(sum, 2);
    // 1 task x 1 vCPU x 0.23 pages per vCPU-second x 730 h
    expect(estimate.scannedPagesPerMonthAtMinCapacity).toBe(Math.round(DEFAULT_PAGES_PER_VCPU_SECOND * 730 * 3600));
  });

  test('GIVEN Spot capacity, two minimum tasks and a cache WHEN costed THEN one on-demand base, one Spot task and the Valkey nodes', () => {
    const stack = newTestStack(new App());
    const ocr = new OcrServiceCluster(stack, 'Ocr', { image, capacity: OcrServiceCapacity.SPOT_WITH_ON_DEMAND_BASE, minCapacity: 2, cache: {} });
    const items = Object.fromEntries(ocr.estimateMonthlyCost().lineItems.map((i) => [i.item, i]));
    expect(items['Fargate tasks x 1 on demand (1 vCPU, 3 GiB, X86_64), running all month'].monthlyUsd).toBeCloseTo(730 * taskHour(1, 3), 2);
    expect(items['Fargate Spot tasks x 1 (1 vCPU, 3 GiB, X86_64, at a typical 70% discount), running all month'].monthlyUsd).toBeCloseTo(730 * taskHour(1, 3) * 0.3, 2);
    // the default cache: a primary and one replica of cache.t4g.micro
    expect(items['ElastiCache (Valkey) cache.t4g.micro nodes x 2'].quantity).toBe(1460);
  });
});

describe('OcrServiceCluster: Textract\'s NotificationChannel and OutputConfig', () => {
  const topicArn = 'arn:aws:sns:us-east-1:111111111111:textract-done';
  const topicKeyArn = 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555';
  const bucketKeyArn = 'arn:aws:kms:us-east-1:111111111111:key/66666666-7777-8888-9999-000000000000';
  const { template } = compliantTemplate((stack) => {
    new OcrServiceCluster(stack, 'Ocr', {
      image,
      textractNotificationTopics: [sns.Topic.fromTopicAttributes(stack, 'Done', { topicArn, keyArn: topicKeyArn })],
      textractOutputBuckets: [s3.Bucket.fromBucketAttributes(stack, 'Out', { bucketName: 'textract-out', encryptionKey: kms.Key.fromKeyArn(stack, 'OutKey', bucketKeyArn) })],
    });
  });
  const taskRoleStatements = (): any[] => Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('OcrTaskDefinitionTaskRoleDefaultPolicy')).flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement);
  const actionsOf = (statement: any): string[] => [statement.Action].flat();

  test('GIVEN textractNotificationTopics THEN the task role may publish to exactly those topics and use their key for it, and nothing else of SNS', () => {
    const statements = taskRoleStatements();
    const snsStatements = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('sns:')));
    expect(snsStatements).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sns:Publish', Resource: topicArn })]);
    const topicKey = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify(topicKeyArn));
    expect(topicKey.map(actionsOf).flat().sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  test('GIVEN textractOutputBuckets THEN the task role may put objects in exactly those buckets and generate data keys with their key', () => {
    const statements = taskRoleStatements();
    const puts = statements.filter((st) => JSON.stringify(st.Resource).includes('textract-out'));
    expect(puts).toHaveLength(1);
    expect(puts[0].Action).toBe('s3:PutObject');
    expect(JSON.stringify(puts[0].Resource)).toMatch(/:s3:::textract-out\/\*"/);
    const bucketKey = statements.filter((st) => JSON.stringify(st.Resource) === JSON.stringify(bucketKeyArn));
    expect(bucketKey.map(actionsOf).flat()).toEqual(['kms:GenerateDataKey']);
  });

  test('GIVEN both props THEN the service is told the allowed topics and buckets, and the created network gets the SNS endpoint', () => {
    const container = (Object.values(template.findResources('AWS::ECS::TaskDefinition'))[0] as any).Properties.ContainerDefinitions[0];
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(JSON.stringify(env[OcrServiceEnvironment.TEXTRACT_NOTIFICATION_TOPICS])).toContain(topicArn);
    expect(JSON.stringify(env[OcrServiceEnvironment.TEXTRACT_OUTPUT_BUCKETS])).toContain('textract-out');
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((e: any) => JSON.stringify(e.Properties.ServiceName));
    expect(endpoints.some((n) => n.includes('.sns'))).toBe(true);
  });

  test('GIVEN textractNotificationTopics THEN an alarm on the completion messages the service could not publish', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'TextractNotificationsFailed',
      Statistic: 'Sum',
      Threshold: 1,
      EvaluationPeriods: 1,
      AlarmDescription: Match.stringLikeRegexp('NotificationChannel'),
    });
    const app = newTestApp({ nag: false });
    const plain = newTestStack(app);
    new OcrServiceCluster(plain, 'Ocr', { image });
    templateOf(app, plain).resourcePropertiesCountIs('AWS::CloudWatch::Alarm', { MetricName: 'TextractNotificationsFailed' }, 0);
  });

  test('GIVEN textractNotificationTopics in the created network WHEN costed THEN the SNS endpoint is priced with the others', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const withTopic = new OcrServiceCluster(stack, 'Ocr', { image, textractNotificationTopics: [sns.Topic.fromTopicArn(stack, 'T', topicArn)] });
    const without = new OcrServiceCluster(stack, 'Plain', { image });
    const endpointsLine = (ocr: OcrServiceCluster) => ocr.estimateMonthlyCost().network!.lineItems.find((i) => i.item.startsWith('Interface endpoints'))!;
    expect(endpointsLine(withTopic).item).toMatch(/\bsns\b/);
    expect(endpointsLine(without).item).not.toMatch(/\bsns\b/);
    expect(endpointsLine(withTopic).monthlyUsd).toBeGreaterThan(endpointsLine(without).monthlyUsd);
  });

  test('GIVEN neither prop THEN the service gets neither variable, and the task role no SNS action', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    new OcrServiceCluster(stack, 'Ocr', { image });
    const plain = templateOf(app, stack);
    const text = JSON.stringify(plain.toJSON());
    expect(text).not.toContain(OcrServiceEnvironment.TEXTRACT_NOTIFICATION_TOPICS);
    expect(text).not.toContain(OcrServiceEnvironment.TEXTRACT_OUTPUT_BUCKETS);
    expect(text).not.toContain('sns:Publish');
  });
});
