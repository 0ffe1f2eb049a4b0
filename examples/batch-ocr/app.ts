/**
 * OCR on AWS Batch (Fargate Spot) behind an API, in a VPC with no NAT gateway,
 * kept on the newest worker image and kept tidy.
 *
 * CostOptimizedVpc (Fargate endpoints only, priced per AZ) + BatchOcrProcessor (API Gateway, submit and
 * status handlers, Batch array jobs, S3 in/out, dashboard and alarms) with its own ECR repository +
 * EcrBatchAutoUpdater (a push of `latest` registers a new job definition revision pinned by digest) +
 * JobCleanup (cancels stuck jobs, prunes old revisions) — their widgets on the processor's dashboard,
 * their alarms on one SNS topic, everything encrypted with one customer-managed key.
 *
 * In your own app, import from 'cdk-ocr-constructs' instead of '../../src'.
 *   cd examples/batch-ocr && npx cdk synth
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { AlarmTopic, BatchOcrProcessor, CostOptimizedVpc, EcrBatchAutoUpdater, JobCleanup } from '../../src';

export function buildApp(app: App): void {
  const stack = new Stack(app, 'BatchOcr', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111', region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
    description: 'cdk-ocr-constructs example: OCR on AWS Batch Fargate Spot behind an API',
  });

  const network = new CostOptimizedVpc(stack, 'Network', { maxAzs: 2 });

  // Who hears the alarms: an SNS topic, encrypted with a key that CloudWatch may use (subscribe your
  // on-call address to alarms.topic). The same key encrypts the constructs' logs, buckets, tables and queues.
  const alarms = new AlarmTopic(stack, 'Alarms');
  const key = alarms.encryptionKey;
  const alarmActions = alarms.alarmActions;

  const processor = new BatchOcrProcessor(stack, 'Ocr', {
    network,
    // The worker image lives in an ECR repository the processor creates (scan on push, lifecycle),
    // so that CI can push new images and the updater rolls them out.
    createRepository: true,
    imageTag: 'latest',
    maxvCpus: 32,
    resultExpiration: Duration.days(30),
    encryptionKey: key,
    alarmActions,
  });

  const updater = new EcrBatchAutoUpdater(stack, 'ImageUpdater', {
    repository: processor.repository!,
    jobDefinitions: [processor.jobDefinition],
    imageTags: ['latest'],
    encryptionKey: key,
    alarmActions,
  });


  // Automatic cleanup, limited to what is worth cleaning: jobs stuck RUNNABLE (e.g. no Spot
  // capacity) past the queue's own time limits, jobs running past their expected runtime, and old
  // job definition revisions beyond the newest five (the updater registers one per image).
  const cleanup = new JobCleanup(stack, 'Cleanup', {
    jobQueues: [processor.jobQueue],
    jobDefinitions: [processor.jobDefinition],
    jobAgeThresholds: { runnable: Duration.hours(6), running: Duration.hours(4) },
    keepRevisions: 5,
    encryptionKey: key,
    alarmActions,
  });

  processor.dashboard?.addWidgets(...updater.dashboardWidgets(), ...cleanup.dashboardWidgets());
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
