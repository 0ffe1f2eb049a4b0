import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULTS } from './defaults';
import { BatchOcrProcessorProps } from './props';
import { createSecureBucket } from '../common/secure-bucket';

/** The prefixes of the input bucket callers may name documents under: their uploads and `allowedInputPrefixes`. */
export function callerInputPrefixes(props: BatchOcrProcessorProps): string[] {
  return [props.uploadPrefix ?? DEFAULTS.uploadPrefix, ...(props.allowedInputPrefixes ?? [])];
}

/**
 * The prefixes of the input bucket a job's documents can be under: what callers may name, and the S3
 * trigger's prefix. '' (the whole bucket) stands alone.
 */
export function jobInputPrefixes(props: BatchOcrProcessorProps): string[] {
  const prefixes = callerInputPrefixes(props);
  if (props.s3Trigger) prefixes.push(props.s3Trigger.prefix ?? '');
  return prefixes.includes('') ? [''] : [...new Set(prefixes)];
}

/** The buckets the documents and results live in, and the job and idempotency tables. */
export interface ProcessorStorage {
  readonly inputBucket: s3.IBucket;
  readonly outputBucket: s3.IBucket;
  /** Server access logs of the created buckets (none when both are the user's). */
  readonly accessLogsBucket?: s3.Bucket;
  readonly outputPrefix: string;
  /** How long results and job records are kept (created output bucket only). */
  readonly resultExpiration: Duration;
  readonly jobTable: dynamodb.Table;
  readonly idempotencyTable: dynamodb.Table;
}

/** The user's buckets or secure ones ('Input', 'Output'), and the tables ('JobTable', 'IdempotencyTable'). */
export function createStorage(scope: Construct, props: BatchOcrProcessorProps): ProcessorStorage {
  const key = props.encryptionKey;
  const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
  const outputPrefix = props.outputPrefix ?? DEFAULTS.outputPrefix;
  const resultExpiration = props.resultExpiration ?? Duration.days(90);
  let accessLogsBucket: s3.Bucket | undefined;
  const created = (bucketId: string, purpose: string, rules?: s3.LifecycleRule[]) => {
    const made = createSecureBucket(scope, bucketId, { purpose, encryptionKey: key, removalPolicy, lifecycleRules: rules, accessLogsBucket });
    // The first created bucket creates the access logs bucket; the second logs to it too.
    accessLogsBucket = accessLogsBucket ?? made.accessLogsBucket;
    return made.bucket;
  };

  let inputBucket = props.inputBucket;
  if (!inputBucket) {
    const bucket = created('Input', 'OCR input documents');
    if (props.s3Trigger) {
      // Set on the resource itself: the L2 eventBridgeEnabled flag goes through a notifications
      // custom resource (an extra Lambda with an AWS managed policy) for the same setting.
      (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
    }
    inputBucket = bucket;
  }
  const outputBucket = props.outputBucket
    ?? created('Output', 'OCR results', [{ id: 'expire-results', prefix: outputPrefix, expiration: resultExpiration }]);

  const tableProps = {
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: key ? dynamodb.TableEncryption.CUSTOMER_MANAGED : dynamodb.TableEncryption.AWS_MANAGED,
    encryptionKey: key,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    removalPolicy,
  };
  const jobTable = new dynamodb.Table(scope, 'JobTable', { ...tableProps, partitionKey: { name: 'jobId', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiresAt' });
  const idempotencyTable = new dynamodb.Table(scope, 'IdempotencyTable', { ...tableProps, partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'expiration' });
  return { inputBucket, outputBucket, accessLogsBucket, outputPrefix, resultExpiration, jobTable, idempotencyTable };
}
