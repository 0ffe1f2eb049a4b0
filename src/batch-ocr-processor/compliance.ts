import { Stack, Token } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { WorkerJob } from './compute';
import { ProcessorHandlers } from './handlers';
import { ApiAuthorization, BatchOcrProcessorProps } from './props';
import { callerInputPrefixes, jobInputPrefixes, ProcessorStorage } from './storage';
import { Handler } from '../common/handler';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';

/** Everything of the processor that cdk-nag rules look at. */
export interface ComplianceSubjects {
  readonly storage: ProcessorStorage;
  readonly worker: WorkerJob;
  readonly handlers: ProcessorHandlers;
  /** The S3 trigger's handler, with `s3Trigger`. */
  readonly ingest?: Handler;
  /** The gathering handler, unless gathering is off. */
  readonly gather?: Handler;
  readonly api: apigw.RestApi;
  readonly apiAccessLogGroup: logs.ILogGroup;
  readonly alarms: cloudwatch.Alarm[];
  /** Every handler, for their log groups. */
  readonly allHandlers: Handler[];
}

/**
 * Acknowledges the cdk-nag findings that are right for this design, each with the reason a reviewer
 * needs: the tables' backup plan, the wildcards bounded by a bucket or prefix, the API's caching,
 * WAF and logging choices, alarms without actions and log groups without a customer key.
 */
export function acknowledgeProcessorFindings(scope: Construct, props: BatchOcrProcessorProps, subjects: ComplianceSubjects): void {
  const { storage, worker, handlers } = subjects;
  const backup = 'Point-in-time recovery is enabled on this table; an AWS Backup plan is an organisation-level choice the user adds to the stack.';
  for (const table of [storage.jobTable, storage.idempotencyTable]) {
    acknowledgeNagFindings(table, [
      { ruleId: 'NIST.800.53.R5-DynamoDBInBackupPlan', reason: backup },
      { ruleId: 'HIPAA.Security-DynamoDBInBackupPlan', reason: backup },
    ]);
  }

  acknowledgeInlinePolicyOf(worker.executionRole, 'OCR worker task execution');
  acknowledgeInlinePolicyOf(worker.jobRole, 'OCR worker job');
  const executionPolicy = worker.executionRole.node.tryFindChild('DefaultPolicy');
  if (executionPolicy) {
    acknowledgeNagFindings(executionPolicy, [{ ruleId: 'AwsSolutions-IAM5', reason: 'ecr:GetAuthorizationToken, which the task execution role needs to pull the worker image from ECR, supports only Resource *.', findings: ['Resource::*'] }]);
  }

  const findings = wildcardFindings(scope, props, storage, worker);
  const acknowledgeWildcards = (role: iam.Role, purpose: string, reason?: string, extraFindings: string[] = []) => {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (!policy) return;
    acknowledgeNagFindings(policy, [{
      ruleId: 'AwsSolutions-IAM5',
      reason: reason ?? `The ${purpose} reads or writes objects by key in one bucket or under one prefix, submits to every revision of one job definition and uses the key of those objects; each wildcard is bounded by those resources. Resource * is only for X-Ray PutTraceSegments/PutTelemetryRecords and Batch ListJobs/DescribeJobs (read-only), which have no resource-level permissions.`,
      findings: [...findings, ...extraFindings, ...(role === worker.jobRole ? [] : ['Resource::*'])],
    }]);
  };
  acknowledgeWildcards(handlers.submit.role, 'OCR submit handler');
  acknowledgeWildcards(handlers.status.role, 'OCR status handler');
  acknowledgeWildcards(handlers.upload.role, 'OCR upload handler');
  if (handlers.textract) {
    const submits = props.gathering?.enabled === false
      ? ' Without gathering it also writes job manifests under the output prefix and submits to every revision of the one job definition (ListJobs on Resource *, which has no resource-level permissions).'
      : '';
    acknowledgeWildcards(handlers.textract.role, 'OCR Textract-compatible API handler',
      'The Textract-compatible API handler may read only the input keys callers may name (their upload folder and allowedInputPrefixes; it checks they exist) and the '
      + 'results of its jobs under the output prefix (their summaries and Textract responses), with the key of those objects; each wildcard '
      + `is bounded by that bucket and prefix. Resource * is only for X-Ray PutTraceSegments/PutTelemetryRecords, which have no resource-level permissions.${submits}`);
  }
  acknowledgeWildcards(worker.jobRole, 'OCR worker job role');
  if (handlers.textract) {
    // Textract's OutputConfig: the caller's S3Prefix and the job id name the pages' keys.
    const buckets = [storage.outputBucket, ...(props.textractOutputBuckets ?? [])];
    acknowledgeWildcards(handlers.jobState.role, 'OCR job state recorder',
      'The OCR job state recorder reads job summaries under the output prefix and writes (s3:PutObject only) the GetDocumentTextDetection pages of '
      + 'Textract requests with an OutputConfig, whose keys are the caller\'s S3Prefix and job id, into the output bucket (never under the results prefix, '
      + `which the API refuses)${buckets.length > 1 ? ' and the buckets given in textractOutputBuckets' : ''}; each wildcard is bounded by those buckets. Resource * is only for `
      + 'X-Ray PutTraceSegments/PutTelemetryRecords and Batch DescribeJobs (read-only), which have no resource-level permissions.',
      buckets.map((b) => bucketArnFinding(scope, b)).filter((f): f is string => f !== undefined).map((arn) => `Resource::${arn}/*`));
  } else {
    acknowledgeWildcards(handlers.jobState.role, 'OCR job state recorder');
  }
  if (subjects.ingest) acknowledgeWildcards(subjects.ingest.role, 'OCR S3 ingest handler');
  if (subjects.gather) acknowledgeWildcards(subjects.gather.role, 'OCR request gathering handler');

  acknowledgeApiFindings(subjects.api, props);

  if ((props.alarmActions ?? []).length === 0) {
    const reason = 'Where an OCR alarm notifies is the user\'s choice (alarmActions prop, or addAlarmAction on this public alarm); without it the alarm still shows on the dashboard.';
    for (const alarm of subjects.alarms) {
      acknowledgeNagFindings(alarm, [
        { ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason },
        { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason },
      ]);
    }
  }
  if (!props.encryptionKey) {
    const reason = 'CloudWatch Logs encrypts this log group at rest with service-managed keys; pass encryptionKey to use a customer-managed KMS key.';
    for (const group of [worker.workerLogGroup, subjects.apiAccessLogGroup, ...subjects.allHandlers.map((h) => h.logGroup)]) {
      acknowledgeNagFindings(group, [
        { ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason },
        { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason },
      ]);
    }
  }
}

/** The granular IAM5 findings that grants on the processor's buckets, key and job definition produce. */
/** A bucket's ARN as cdk-nag names it in a finding; undefined when it cannot be known at synth. */
function bucketArnFinding(scope: Construct, bucket: s3.IBucket): string | undefined {
  if (bucket instanceof s3.Bucket) return `<${Stack.of(scope).getLogicalId(bucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
  return Token.isUnresolved(bucket.bucketName) ? undefined : `arn:<AWS::Partition>:s3:::${bucket.bucketName}`;
}

function wildcardFindings(scope: Construct, props: BatchOcrProcessorProps, storage: ProcessorStorage, worker: WorkerJob): string[] {
  const stack = Stack.of(scope);
  const arnOf = (bucket: s3.IBucket): string | undefined => bucketArnFinding(scope, bucket);
  const findings = [
    'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*', 'Action::s3:DeleteObject*',
    'Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*',
    `Resource::arn:<AWS::Partition>:batch:${stack.region}:${stack.account}:job-definition/${worker.jobDefinitionName}:*`,
  ];
  const input = arnOf(storage.inputBucket);
  const output = arnOf(storage.outputBucket);
  if (input) {
    // the handlers read what callers may name; the job role may collapse to the whole bucket ('')
    const prefixes = new Set([...callerInputPrefixes(props), ...jobInputPrefixes(props)]);
    for (const prefix of prefixes) findings.push(`Resource::${input}/${prefix}*`);
  }
  if (output) findings.push(`Resource::${output}/${storage.outputPrefix}*`);
  return findings;
}

function acknowledgeApiFindings(api: apigw.RestApi, props: BatchOcrProcessorProps): void {
  const noCache = 'The OCR API submits jobs and reports changing job states: caching responses would return stale or wrong answers.';
  const noBackendCertificate = 'The OCR API integrates only with Lambda functions (proxy integration), where a backend client certificate does not apply.';
  const acks = [
    { ruleId: 'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', reason: noCache },
    { ruleId: 'HIPAA.Security-APIGWCacheEnabledAndEncrypted', reason: noCache },
    { ruleId: 'NIST.800.53.R5-APIGWSSLEnabled', reason: noBackendCertificate },
    { ruleId: 'HIPAA.Security-APIGWSSLEnabled', reason: noBackendCertificate },
  ];
  if (!(props.executionLogging ?? true)) {
    const reason = 'Execution logging is turned off with the executionLogging prop; access logs are always written to a log group.';
    acks.push(
      { ruleId: 'AwsSolutions-APIG6', reason },
      { ruleId: 'NIST.800.53.R5-APIGWExecutionLoggingEnabled', reason },
      { ruleId: 'HIPAA.Security-APIGWExecutionLoggingEnabled', reason },
    );
  }
  if (!props.webAclArn) {
    const reason = 'The OCR API is authenticated and throttled per stage; a WAF web ACL is an account-level choice passed in with the webAclArn prop.';
    acks.push(
      { ruleId: 'AwsSolutions-APIG3', reason },
      { ruleId: 'NIST.800.53.R5-APIGWAssociatedWithWAF', reason },
      { ruleId: 'HIPAA.Security-APIGWAssociatedWithWAF', reason },
    );
  }
  acknowledgeNagFindings(api.deploymentStage, acks);
  for (const method of api.methods) {
    if (method.httpMethod === 'OPTIONS') {
      const reason = 'CORS preflight (OPTIONS) requests carry no credentials by the CORS specification; the method returns headers only.';
      acknowledgeNagFindings(method, [{ ruleId: 'AwsSolutions-APIG4', reason }, { ruleId: 'AwsSolutions-COG4', reason }]);
    } else if ((props.authorization ?? ApiAuthorization.IAM) === ApiAuthorization.IAM) {
      acknowledgeNagFindings(method, [{ ruleId: 'AwsSolutions-COG4', reason: 'This OCR API method uses IAM (SigV4) authorization, chosen with the authorization prop; Cognito is one of the options.' }]);
    }
  }
}
