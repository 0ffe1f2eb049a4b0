import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { createSecureBucket } from './secure-bucket';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';

describe('createSecureBucket', () => {
  test('GIVEN a KMS key THEN SSE-KMS with a bucket key, TLS-only, versioned, logged, public access blocked, nag clean', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    createSecureBucket(stack, 'Documents', { purpose: 'test documents', encryptionKey: key });
    synthCompliant(app);
    const t = Template.fromJSON(app.synth().getStackArtifact(stack.artifactId).template);
    t.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { LogFilePrefix: 'Documents/' },
    });
    t.resourceCountIs('AWS::S3::Bucket', 2);
  });

  test('GIVEN no key THEN SSE-S3, and cdk-nag is still clean (acknowledged with the reason)', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    createSecureBucket(stack, 'Documents', { purpose: 'test documents' });
    synthCompliant(app);
  });
});
