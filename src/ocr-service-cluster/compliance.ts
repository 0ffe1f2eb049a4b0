import { Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { OcrServiceEnvironment } from './contract';
import type { OcrServiceCluster } from './ocr-service-cluster';
import { FAILED_HANDOFFS_PREFIX } from './stream-trigger-wiring';
import { acknowledgeInlinePolicyOf, acknowledgeNagFindings } from '../common/nag';
import { nagResourceFinding } from '../common/nag-findings';

/** Whether ECS pulls an image of this task from ECR (then the execution role may call GetAuthorizationToken). */
function pullsFromEcr(taskDefinition: ecs.TaskDefinition): boolean {
  const policy = taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
  return !!policy && JSON.stringify(Stack.of(taskDefinition).resolve(policy.document.toJSON())).includes('ecr:GetAuthorizationToken');
}

/**
 * By-design findings on the task, its roles, the stream trigger's role and the log groups, each with
 * its reason. Called last: the findings depend on every grant the construct made.
 */
export function acknowledgeServiceFindings(ocr: OcrServiceCluster, customerKey: boolean, textractOutputBuckets: s3.IBucket[]): void {
  const taskDefinition = ocr.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition;
  acknowledgeNagFindings(taskDefinition, [{
    ruleId: 'AwsSolutions-ECS2',
    reason: 'The OCR service container gets its non-secret configuration (table, bucket, timings) as environment variables by contract; secrets are injected from Secrets Manager.',
  }]);

  acknowledgeInlinePolicyOf(ocr.taskDefinition.taskRole, 'OCR service task');
  if (ocr.taskDefinition.executionRole) acknowledgeInlinePolicyOf(ocr.taskDefinition.executionRole, 'OCR service task execution');
  const taskPolicy = ocr.taskDefinition.taskRole.node.tryFindChild('DefaultPolicy');
  if (taskPolicy) {
    const bucket = ocr.documentsBucket;
    const findings = [
      'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:Abort*',
      nagResourceFinding(ocr, bucket.arnForObjects('*')),
      nagResourceFinding(ocr, bucket.arnForObjects(`${ocr.containerEnvironment[OcrServiceEnvironment.UPLOADS_PREFIX]}*`)),
      nagResourceFinding(ocr, bucket.arnForObjects(`${ocr.containerEnvironment[OcrServiceEnvironment.RESULTS_PREFIX]}*`)),
      // grantReadWriteData covers the table's indexes (the status index).
      nagResourceFinding(ocr, `${ocr.table.tableArn}/index/*`),
      // Textract's OutputConfig: pages under any prefix the caller names, each key holding its own job's id
      ...textractOutputBuckets.map((b) => nagResourceFinding(ocr, b.arnForObjects('*'))),
    ];
    if (bucket.encryptionKey || ocr.table.encryptionKey) findings.push('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*');
    if (ocr.tracingContainer) findings.push('Resource::*');
    acknowledgeNagFindings(taskPolicy, [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'The OCR service reads documents at any key its producers name (their records carry their own key) and writes only under its uploads and results prefixes'
        + (textractOutputBuckets.length > 0 ? ', and in the Textract output buckets it was given under the prefix a caller names, each key holding the caller\'s own job id' : '')
        + '; it queries the indexes of its own status table; wildcard actions are the S3 read and multipart-upload families; X-Ray actions support no resource.',
      findings,
    }]);
  }

  const executionPolicy = ocr.taskDefinition.executionRole?.node.tryFindChild('DefaultPolicy');
  if (executionPolicy && pullsFromEcr(ocr.taskDefinition)) {
    acknowledgeNagFindings(executionPolicy, [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'ecr:GetAuthorizationToken, which ECS needs to pull the OCR service image from ECR, supports no resource-level permissions; image pulls themselves are limited to the image repository.',
      findings: ['Resource::*'],
    }]);
  }
  const handlerPolicy = ocr.streamHandlerRole.node.tryFindChild('DefaultPolicy');
  if (handlerPolicy) {
    const findings = ['Action::s3:Abort*', nagResourceFinding(ocr, ocr.documentsBucket.arnForObjects(`${FAILED_HANDOFFS_PREFIX}*`))];
    if (ocr.documentsBucket.encryptionKey) findings.push('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*');
    acknowledgeNagFindings(handlerPolicy, [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'Lambda writes stream batches it gave up on under aws/lambda/ in the documents bucket with the trigger\'s role (S3 on-failure destination); object names are chosen by Lambda.',
      findings,
    }]);
  }
  if (!customerKey) {
    const reason = 'Log groups of the OCR service are encrypted by CloudWatch Logs with service-managed keys; pass encryptionKey to use a customer-managed KMS key.';
    for (const logGroup of [ocr.serviceLogGroup, ocr.streamHandlerLogGroup, ...(ocr.sweepHandlerLogGroup ? [ocr.sweepHandlerLogGroup] : [])]) {
      acknowledgeNagFindings(logGroup, [
        { ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason }, { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason },
      ]);
    }
  }
}
