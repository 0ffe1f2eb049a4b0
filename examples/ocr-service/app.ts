/**
 * The OCR engine as an always-on HTTP service on ECS Fargate.
 *
 * OcrServiceCluster in a CostOptimizedVpc: an internal ALB (health checks on /health, least outstanding
 * requests), Fargate tasks with Container Insights and CPU / request-count autoscaling (1..3, 2 desired),
 * a documents bucket, a DynamoDB status table whose stream triggers processing of new PENDING records,
 * a Valkey cache (encrypted in transit and at rest, reachable only from the service), tracing to
 * X-Ray with OpenTelemetry through an AWS Distro for OpenTelemetry (ADOT) collector sidecar pulled
 * through the account's ECR pull-through cache (private subnets cannot reach public registries; the
 * cache rule for public.ecr.aws must exist), dashboard and alarms on an SNS topic, everything
 * encrypted with one customer-managed key.
 *
 * In your own app, import from 'cdk-ocr-constructs' instead of '../../src'.
 *   cd examples/ocr-service && npx cdk synth
 */
import { App, Stack } from 'aws-cdk-lib';
import { AlarmTopic, CostOptimizedVpc, OcrServiceCluster, PullThroughCacheImage } from '../../src';

export function buildApp(app: App): void {
  const stack = new Stack(app, 'OcrService', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111', region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
    description: 'cdk-ocr-constructs example: OCR as an HTTP service on ECS Fargate',
  });

  const network = new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 });

  // Who hears the alarms: an SNS topic, encrypted with a key that CloudWatch may use (subscribe your
  // on-call address to alarms.topic). The same key encrypts the constructs' logs, buckets, tables and queues.
  const alarms = new AlarmTopic(stack, 'Alarms');
  const key = alarms.encryptionKey;
  const alarmActions = alarms.alarmActions;

  // Tracing is on by default. Here the collector image comes through the account's ECR pull-through
  // cache rule for public.ecr.aws (prefix 'ecr-public') instead of being built at deploy: tasks in
  // private subnets without NAT reach ECR, not public registries. The execution role gets what a pull
  // through the cache needs; the rule, and one first pull of the image from a network with internet
  // access, are account prerequisites (docs/account-prerequisites.md).
  const collector = PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ecr-public', upstreamRepository: 'aws-observability/aws-otel-collector', tag: 'v0.49.0' });

  new OcrServiceCluster(stack, 'Ocr', {
    network,
    minCapacity: 1,
    maxCapacity: 3,
    desiredCount: 2,
    cache: {},
    tracing: { image: collector },
    encryptionKey: key,
    alarmActions,
  });
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
