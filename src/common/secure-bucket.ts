import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeNagFindings } from './nag';

export interface SecureBucketOptions {
  /** What the bucket holds, for acknowledgement reasons ("input documents"). */
  readonly purpose: string;
  /** KMS key for the data. @default - S3-managed keys (SSE-S3) */
  readonly encryptionKey?: kms.IKey;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Where server access logs go. @default - a logs bucket is created beside it */
  readonly accessLogsBucket?: s3.IBucket;
  readonly lifecycleRules?: s3.LifecycleRule[];
  readonly cors?: s3.CorsRule[];
  readonly eventBridgeEnabled?: boolean;
}

export interface SecureBucket {
  readonly bucket: s3.Bucket;
  /** The server access logs bucket, when one was created here. */
  readonly accessLogsBucket?: s3.Bucket;
}

/**
 * A bucket the way every construct of this library makes one: encrypted (KMS when a key is given),
 * TLS-only, public access blocked, ACLs disabled, versioned (noncurrent versions expire after 30 days),
 * server access logging to a dedicated bucket.
 */
export function createSecureBucket(parent: Construct, id: string, options: SecureBucketOptions): SecureBucket {
  // Server access logs are granted by a bucket policy, never by the legacy LogDeliveryWrite ACL
  // (which needs ACLs enabled), whatever the user's app sets for this feature flag.
  const scope = new Construct(parent, id);
  scope.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
  const removalPolicy = options.removalPolicy ?? RemovalPolicy.RETAIN;
  let accessLogsBucket: s3.Bucket | undefined;
  if (!options.accessLogsBucket) {
    accessLogsBucket = new s3.Bucket(scope, 'AccessLogs', {
      // The log delivery service writes with SSE-S3 only; a KMS default would drop the logs.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    });
    const logs = `Server access logs bucket of the ${options.purpose} bucket`;
    acknowledgeNagFindings(accessLogsBucket, [
      { ruleId: 'AwsSolutions-S1', reason: `${logs}; logging access to the access logs would only log the log delivery itself.` },
      { ruleId: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: `${logs}; logging access to the access logs would only log the log delivery itself.` },
      { ruleId: 'HIPAA.Security-S3BucketLoggingEnabled', reason: `${logs}; logging access to the access logs would only log the log delivery itself.` },
      { ruleId: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: `${logs}; S3 server access log delivery supports only SSE-S3 on the target bucket.` },
      { ruleId: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: `${logs}; S3 server access log delivery supports only SSE-S3 on the target bucket.` },
      { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: `${logs}; access logs are audit records kept for a year in this Region, not data to fail over.` },
      { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: `${logs}; access logs are audit records kept for a year in this Region, not data to fail over.` },
    ]);
  }
  const bucket = new s3.Bucket(scope, 'Bucket', {
    encryption: options.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.S3_MANAGED,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: options.encryptionKey ? true : undefined,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    serverAccessLogsBucket: options.accessLogsBucket ?? accessLogsBucket,
    serverAccessLogsPrefix: `${id}/`,
    removalPolicy,
    lifecycleRules: [
      { id: 'expire-noncurrent-versions', noncurrentVersionExpiration: Duration.days(30) },
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ...(options.lifecycleRules ?? []),
    ],
    cors: options.cors,
    eventBridgeEnabled: options.eventBridgeEnabled,
  });
  const replication = `The ${options.purpose} bucket holds working data of one Region's OCR pipeline; cross-Region replication is a disaster-recovery choice left to the user (bring your own bucket to have it).`;
  const acks = [
    { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: replication },
    { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: replication },
  ];
  if (!options.encryptionKey) {
    const sse = `The ${options.purpose} bucket uses SSE-S3 because no encryptionKey was given; pass a customer-managed key to get SSE-KMS.`;
    acks.push(
      { ruleId: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: sse },
      { ruleId: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: sse },
    );
  }
  acknowledgeNagFindings(bucket, acks);
  return { bucket, accessLogsBucket };
}
