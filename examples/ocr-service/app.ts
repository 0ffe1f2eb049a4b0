/**
 * The OCR engine as an always-on HTTP service on ECS Fargate.
 *
 * OcrServiceCluster in a CostOptimizedVpc: an internal ALB (health checks on /health, least outstanding
 * requests), Fargate tasks with Container Insights and CPU / request-count autoscaling (1..3, 2 desired),
 * a documents bucket, a DynamoDB status table whose stream triggers processing of new PENDING records,
 * a Valkey cache (encrypted in transit and at rest, reachable only from the service), an X-Ray daemon
 * sidecar pulled through the account's ECR pull-through cache (private subnets cannot reach public
 * registries; the cache rule for public.ecr.aws must exist), dashboard and alarms on an SNS topic,
 * everything encrypted with one customer-managed key.
 *
 * In your own app, import from 'cdk-ocr-constructs' instead of '../../src'.
 *   cd examples/ocr-service && npx cdk synth
 */
import { App, Stack } from 'aws-cdk-lib';
import * as cloudwatch_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { CostOptimizedVpc, OcrServiceCluster, PullThroughCacheImage } from '../../src';

export function buildApp(app: App): void {
  const stack = new Stack(app, 'OcrService', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111', region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
    description: 'cdk-ocr-constructs example: OCR as an HTTP service on ECS Fargate',
  });

  const network = new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 });

  // Who hears the alarms: an SNS topic, encrypted with a key of the stack's own. CloudWatch alarms
  // can publish to an encrypted topic only with a customer-managed key whose policy lets CloudWatch
  // use it (SNS's AWS managed key does not). The same key encrypts the constructs' logs, buckets,
  // tables and queues (`encryptionKey`). Subscribe your on-call address or pager to the topic.
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true, description: 'Encrypts the OCR stack and its alarm topic' });
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
    conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
  }));
  // Only AWS services may create grants on the key (AWS Control Tower's CT.KMS.PR.3).
  key.addToResourcePolicy(new iam.PolicyStatement({
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
  const alarmTopic = new sns.Topic(stack, 'Alarms', { masterKey: key, enforceSSL: true });
  const alarmActions = [new cloudwatch_actions.SnsAction(alarmTopic)];

  // The X-Ray daemon image through the account's ECR pull-through cache rule for public.ecr.aws
  // (prefix 'ecr-public'): tasks in private subnets without NAT reach ECR, not public registries.
  // The execution role gets what a pull through the cache needs; the rule, and one first pull of the
  // image from a network with internet access, are account prerequisites (docs/account-prerequisites.md).
  const xrayDaemon = PullThroughCacheImage.fromCache({ ecrRepositoryPrefix: 'ecr-public', upstreamRepository: 'xray/aws-xray-daemon', tag: '3.x' });

  new OcrServiceCluster(stack, 'Ocr', {
    network,
    minCapacity: 1,
    maxCapacity: 3,
    desiredCount: 2,
    cache: {},
    tracing: { image: xrayDaemon },
    encryptionKey: key,
    alarmActions,
  });
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
