/**
 * The constructs on resources you already have: an existing VPC (with some endpoints already in it),
 * existing S3 buckets, an existing ECR repository and an existing KMS key.
 *
 * The imports stand in for what your organisation already runs (in your app, e.g. `ec2.Vpc.fromLookup`,
 * `s3.Bucket.fromBucketName`, `ecr.Repository.fromRepositoryName`). The constructs add only what is missing: CostOptimizedVpc adds just the endpoints the workload needs and the
 * VPC lacks, BatchOcrProcessor reads and writes your buckets and runs your image, and
 * EcrBatchAutoUpdater keeps the job definition on your repository's newest `release-*` image. Nothing is
 * acknowledged for cdk-nag on your resources: they stay yours.
 *
 * In your own app, import from 'cdk-ocr-constructs' instead of '../../src'.
 *   cd examples/bring-your-own && npx cdk synth
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { BatchOcrProcessor, CostOptimizedVpc, EcrBatchAutoUpdater } from '../../src';

export function buildApp(app: App): void {
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT ?? '111111111111', region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' };

  const stack = new Stack(app, 'OcrOnExistingPlatform', { env, description: 'cdk-ocr-constructs example: bring your own VPC, buckets, repository, key' });

  // --- What already exists: imported by id/name/ARN, never modified ---
  const platform = new Construct(stack, 'Existing');
  const vpc = ec2.Vpc.fromVpcAttributes(platform, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock: '10.20.0.0/16',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    isolatedSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    isolatedSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'],
  });
  const key = kms.Key.fromKeyArn(platform, 'Key', `arn:aws:kms:${env.region}:${env.account}:key/11111111-2222-3333-4444-555555555555`);
  const inputBucket = s3.Bucket.fromBucketAttributes(platform, 'Inbox', { bucketName: 'acme-document-inbox', encryptionKey: key });
  const outputBucket = s3.Bucket.fromBucketAttributes(platform, 'Results', { bucketName: 'acme-ocr-results', encryptionKey: key });
  const repository = ecr.Repository.fromRepositoryName(platform, 'WorkerRepository', 'acme/ocr-worker');

  // --- What the OCR constructs add ---
  const network = new CostOptimizedVpc(stack, 'Endpoints', {
    vpc,
    // Already in the VPC: a duplicate private-DNS endpoint would fail the deployment.
    existingEndpoints: ['ecr.api', 'ecr.dkr', 's3'],
  });
  const processor = new BatchOcrProcessor(stack, 'Ocr', {
    network,
    inputBucket,
    outputBucket,
    repository,
    imageTag: 'release-latest',
    encryptionKey: key,
    // The inbox is shared with the rest of the organisation: API callers may only submit what they
    // uploaded and what lies in their own folder under ocr/ (ocr/<caller-id>/...), nothing else.
    allowedInputPrefixes: ['ocr/'],
    callerScopedInput: true,
  });
  new EcrBatchAutoUpdater(stack, 'ImageUpdater', {
    repository,
    jobDefinitions: [processor.jobDefinition],
    imageTags: ['release-latest'],
  });
}

if (require.main === module) {
  const app = new App();
  buildApp(app);
  app.synth();
}
