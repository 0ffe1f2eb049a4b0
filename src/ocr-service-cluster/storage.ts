import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { OcrDocumentAttributes, OcrServiceEnvironment } from './contract';
import { OcrServiceCacheOptions, OcrServiceClusterProps } from './props';
import { PropChecker } from '../common/errors';
import { acknowledgeNagFindings } from '../common/nag';

/** Name of the status index on the table the construct creates. */
export const DEFAULT_STATUS_INDEX = 'status-index';
/** A non-default port for the cache (AwsSolutions-AEC5: 6379 is what scanners try first). */
const CACHE_PORT = 6380;

/** Bucket of ALB access logs and S3 server access logs. */
export function createAccessLogsBucket(scope: Construct, removalPolicy: RemovalPolicy): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogsBucket', {
    // ALB access log delivery supports SSE-S3 only.
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
    removalPolicy,
    autoDeleteObjects: false,
  });
  const reasonLogs = 'This bucket receives the ALB access logs and S3 server access logs of the OCR service; logging its own access would log into itself.';
  const reasonKms = 'Elastic Load Balancing access-log delivery supports only SSE-S3 on the target bucket, so this access-log bucket cannot use SSE-KMS.';
  const reasonReplication = 'Access logs of the OCR service are kept in one region for a year; cross-region replication would double their cost without a recovery need.';
  acknowledgeNagFindings(bucket, [
    { ruleId: 'AwsSolutions-S1', reason: reasonLogs },
    { ruleId: 'NIST.800.53.R5-S3BucketLoggingEnabled', reason: reasonLogs },
    { ruleId: 'HIPAA.Security-S3BucketLoggingEnabled', reason: reasonLogs },
    { ruleId: 'NIST.800.53.R5-S3DefaultEncryptionKMS', reason: reasonKms },
    { ruleId: 'HIPAA.Security-S3DefaultEncryptionKMS', reason: reasonKms },
    { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: reasonReplication },
    { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: reasonReplication },
  ]);
  return bucket;
}

/** The `documentsBucket` you passed, else a new encrypted, versioned one that logs its access into `accessLogsBucket`. */
export function documentsBucketOf(
  scope: Construct, props: OcrServiceClusterProps, accessLogsBucket: s3.Bucket, removalPolicy: RemovalPolicy,
): s3.IBucket {
  if (props.documentsBucket) return props.documentsBucket;
  const bucket = new s3.Bucket(scope, 'DocumentsBucket', {
    encryption: props.encryptionKey ? s3.BucketEncryption.KMS : s3.BucketEncryption.KMS_MANAGED,
    encryptionKey: props.encryptionKey,
    bucketKeyEnabled: props.encryptionKey ? true : undefined,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30), abortIncompleteMultipartUploadAfter: Duration.days(7) }],
    removalPolicy,
  });
  enableServerAccessLogs(bucket, accessLogsBucket, 'documents-bucket/');
  const reasonReplication = 'Documents and OCR results are versioned in one region; cross-region replication is a disaster-recovery choice for the owner of the data, not a default of the OCR service.';
  acknowledgeNagFindings(bucket, [
    { ruleId: 'NIST.800.53.R5-S3BucketReplicationEnabled', reason: reasonReplication },
    { ruleId: 'HIPAA.Security-S3BucketReplicationEnabled', reason: reasonReplication },
  ]);
  return bucket;
}

/**
 * S3 server access logs delivered by bucket policy (aws-cdk-lib's `serverAccessLogsBucket` uses
 * ACLs unless a feature flag is set in the user's app; ACLs are off on these buckets).
 */
function enableServerAccessLogs(bucket: s3.Bucket, accessLogsBucket: s3.Bucket, prefix: string): void {
  (bucket.node.defaultChild as s3.CfnBucket).loggingConfiguration = {
    destinationBucketName: accessLogsBucket.bucketName,
    logFilePrefix: prefix,
  };
  accessLogsBucket.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
    actions: ['s3:PutObject'],
    resources: [accessLogsBucket.arnForObjects(`${prefix}*`)],
    conditions: {
      ArnLike: { 'aws:SourceArn': bucket.bucketArn },
      StringEquals: { 'aws:SourceAccount': Stack.of(bucket).account },
    },
  }));
}

/** The `table` you passed (it must have a stream), else a new on-demand table with a stream and the status index. */
export function statusTableOf(scope: Construct, check: PropChecker, props: OcrServiceClusterProps, removalPolicy: RemovalPolicy): dynamodb.ITable {
  if (props.table) {
    if (!props.table.tableStreamArn) {
      check.fail('table', 'must have a stream (NEW_AND_OLD_IMAGES); import it with tableStreamArn');
    }
    return props.table;
  }
  const table = new dynamodb.Table(scope, 'StatusTable', {
    partitionKey: { name: OcrDocumentAttributes.DOCUMENT_ID, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: props.encryptionKey ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
    encryptionKey: props.encryptionKey,
    stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
    timeToLiveAttribute: OcrDocumentAttributes.EXPIRES_AT,
    removalPolicy,
  });
  // The sweep's view of unfinished work. Partition key `status` concentrates writes on four
  // values; one index partition absorbs 1000 writes/s, far above an OCR fleet's status changes.
  table.addGlobalSecondaryIndex({
    indexName: DEFAULT_STATUS_INDEX,
    partitionKey: { name: OcrDocumentAttributes.STATUS, type: dynamodb.AttributeType.STRING },
    projectionType: dynamodb.ProjectionType.INCLUDE,
    nonKeyAttributes: [
      OcrDocumentAttributes.BUCKET, OcrDocumentAttributes.KEY, OcrDocumentAttributes.FILE_TYPE,
      OcrDocumentAttributes.UPDATED_AT, OcrDocumentAttributes.LEASE_EXPIRES_AT, OcrDocumentAttributes.OWNER,
    ],
  });
  const reasonBackup = 'The OCR status table has point-in-time recovery (35 days of continuous backups); an AWS Backup plan is the account owner\'s choice and is not created by a construct.';
  acknowledgeNagFindings(table, [
    { ruleId: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: reasonBackup },
    { ruleId: 'HIPAA.Security-DynamoDBInBackupPlan', reason: reasonBackup },
  ]);
  return table;
}

/** The Valkey result cache and what the service container needs to use it. */
export interface ResultCache {
  readonly authSecret: secretsmanager.Secret;
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnetGroup: elasticache.CfnSubnetGroup;
  readonly replicationGroup: elasticache.CfnReplicationGroup;
  /** Environment of the service container: where the cache is and how long entries live. */
  readonly environment: { [key: string]: string };
  /** The AUTH token, as the service container's secret. */
  readonly secrets: { [key: string]: ecs.Secret };
}

/** A Valkey replication group reachable only from the service tasks, with TLS, AUTH and encryption at rest. */
export function createCache(
  scope: Construct, options: OcrServiceCacheOptions,
  network: { readonly vpc: ec2.IVpc; readonly subnets: ec2.SubnetSelection; readonly serviceSecurityGroup: ec2.SecurityGroup },
  encryptionKey: kms.IKey | undefined,
): ResultCache {
  const replicas = options.replicas ?? 1;
  const snapshotRetentionDays = options.snapshotRetentionDays ?? 1;
  const authSecret = new secretsmanager.Secret(scope, 'CacheAuthToken', {
    description: 'AUTH token of the OCR service result cache (Valkey)',
    encryptionKey,
    // ElastiCache AUTH tokens: 16-128 printable characters without @, " and /.
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  const securityGroup = new ec2.SecurityGroup(scope, 'CacheSecurityGroup', {
    vpc: network.vpc,
    description: 'OCR service result cache: inbound only from the service tasks',
    allowAllOutbound: false,
  });
  securityGroup.addIngressRule(network.serviceSecurityGroup, ec2.Port.tcp(CACHE_PORT), 'OCR service tasks');
  const subnetGroup = new elasticache.CfnSubnetGroup(scope, 'CacheSubnetGroup', {
    description: 'OCR service result cache',
    subnetIds: network.vpc.selectSubnets(network.subnets).subnetIds,
  });
  const replicationGroup = new elasticache.CfnReplicationGroup(scope, 'Cache', {
    replicationGroupDescription: 'OCR service result cache',
    engine: 'valkey',
    engineVersion: options.engineVersion ?? '8.0',
    cacheNodeType: options.nodeType ?? 'cache.t4g.micro',
    numCacheClusters: replicas + 1,
    automaticFailoverEnabled: replicas > 0,
    multiAzEnabled: replicas > 0,
    port: CACHE_PORT,
    cacheSubnetGroupName: subnetGroup.ref,
    securityGroupIds: [securityGroup.securityGroupId],
    transitEncryptionEnabled: true,
    transitEncryptionMode: 'required',
    atRestEncryptionEnabled: true,
    kmsKeyId: encryptionKey?.keyArn,
    authToken: authSecret.secretValue.unsafeUnwrap(),
    snapshotRetentionLimit: snapshotRetentionDays,
    autoMinorVersionUpgrade: true,
  });
  // A cache holds nothing that cannot be recomputed: it goes with the stack.
  replicationGroup.applyRemovalPolicy(RemovalPolicy.DESTROY);

  const acks = [];
  if (snapshotRetentionDays < 15) {
    const reason = `The OCR result cache only holds results that are also in S3 and DynamoDB, so ${snapshotRetentionDays} day(s) of snapshots suffice; a lost cache is rebuilt by recomputation.`;
    acks.push({ ruleId: 'NIST.800.53.R5-ElastiCacheRedisClusterAutomaticBackup', reason }, { ruleId: 'HIPAA.Security-ElastiCacheRedisClusterAutomaticBackup', reason });
  }
  if (replicas === 0) {
    acks.push({ ruleId: 'AwsSolutions-AEC4', reason: 'The OCR result cache was configured with cache.replicas = 0: a single node is an explicit cost choice, and the service works without its cache.' });
  }
  if (acks.length > 0) acknowledgeNagFindings(replicationGroup, acks);
  const rotation = 'Rotating an ElastiCache AUTH token needs a coordinated ROTATE/SET update of the replication group and a restart of the OCR tasks; the token never leaves Secrets Manager and the cache accepts only the service security group.';
  const secretAcks = [
    { ruleId: 'AwsSolutions-SMG4', reason: rotation },
    { ruleId: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: rotation },
    { ruleId: 'HIPAA.Security-SecretsManagerRotationEnabled', reason: rotation },
  ];
  if (!encryptionKey) {
    const reason = 'The OCR cache AUTH token is encrypted with the Secrets Manager AWS managed key; pass encryptionKey to use a customer-managed key.';
    secretAcks.push({ ruleId: 'NIST.800.53.R5-SecretsManagerUsingKMSKey', reason }, { ruleId: 'HIPAA.Security-SecretsManagerUsingKMSKey', reason });
  }
  acknowledgeNagFindings(authSecret, secretAcks);

  const host = replicationGroup.attrPrimaryEndPointAddress;
  const port = replicationGroup.attrPrimaryEndPointPort;
  return {
    authSecret,
    securityGroup,
    subnetGroup,
    replicationGroup,
    environment: {
      [OcrServiceEnvironment.REDIS_URL]: `rediss://${host}:${port}`,
      [OcrServiceEnvironment.REDIS_HOST]: host,
      [OcrServiceEnvironment.REDIS_PORT]: port,
      [OcrServiceEnvironment.REDIS_TLS]: 'true',
      [OcrServiceEnvironment.CACHE_TTL_SECONDS]: String((options.ttl ?? Duration.days(7)).toSeconds()),
    },
    secrets: { [OcrServiceEnvironment.REDIS_AUTH_TOKEN]: ecs.Secret.fromSecretsManager(authSecret) },
  };
}
