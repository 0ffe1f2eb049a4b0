import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as events_targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { OcrStreamHandlerEnvironment } from './contract';
import { OcrServiceClusterProps } from './props';
import { StaleSweepFunction } from './stale-sweep-function';
import { allowHandlerToService, ServiceEndpoint, serviceCallerOptions } from './stream-trigger-wiring';
import { Timings } from './validation';
import { createHandler, Handler } from '../common/handler';
import { acknowledgeNagFindings } from '../common/nag';

/** The sweep handler and its schedule. */
export interface Sweep extends Handler {
  readonly schedule: events.Rule;
}

/** Where the sweep reads the unfinished work and how it reports the queue. */
export interface SweepTarget {
  readonly table: dynamodb.ITable;
  readonly statusIndexName: string;
  readonly metricsNamespace: string;
  readonly metricsServiceName: string;
}

/**
 * The scheduled sweep behind the stream trigger: hands stale PENDING documents to the service again,
 * releases expired PROCESSING claims and counts the queue.
 */
export function createSweep(
  scope: Construct, props: OcrServiceClusterProps, timings: Timings, endpoint: ServiceEndpoint, target: SweepTarget,
): Sweep {
  const caller = serviceCallerOptions(props, timings, endpoint);
  const handler = createHandler(scope, 'Sweep', (s, i, p) => new StaleSweepFunction(s, i, p), {
    ...caller,
    purpose: 'OCR service stale-work sweep',
    timeout: Duration.minutes(2),
    invocation: 'async',
    environment: {
      ...caller.environment,
      [OcrStreamHandlerEnvironment.TABLE_NAME]: target.table.tableName,
      [OcrStreamHandlerEnvironment.STATUS_INDEX_NAME]: target.statusIndexName,
      [OcrStreamHandlerEnvironment.STALE_PENDING_SECONDS]: String((props.stalePendingAfter ?? Duration.minutes(10)).toSeconds()),
      [OcrStreamHandlerEnvironment.SWEEP_MAX_ITEMS]: '100',
      [OcrStreamHandlerEnvironment.METRICS_NAMESPACE]: target.metricsNamespace,
      [OcrStreamHandlerEnvironment.METRICS_SERVICE]: target.metricsServiceName,
    },
  });
  // Exactly the two calls it makes: query the status index, conditionally release a claim.
  handler.role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['dynamodb:Query'],
    resources: [`${target.table.tableArn}/index/${target.statusIndexName}`],
  }));
  handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:UpdateItem'], resources: [target.table.tableArn] }));
  target.table.encryptionKey?.grantEncryptDecrypt(handler.role);
  allowHandlerToService(handler.function, endpoint, 'OCR sweep');
  const schedule = new events.Rule(scope, 'SweepSchedule', {
    description: 'OCR service: re-drive stale PENDING documents and release expired claims',
    schedule: events.Schedule.rate(props.sweepInterval ?? Duration.minutes(5)),
    targets: [new events_targets.LambdaFunction(handler.function, { retryAttempts: 0 })],
  });
  if (target.table.encryptionKey) {
    acknowledgeNagFindings(handler.role.node.findChild('DefaultPolicy'), [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'The sweep decrypts and re-encrypts status items with the table key; KMS data-key actions are wildcards by name only, on this one key.',
      findings: ['Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'],
    }]);
  }
  return { ...handler, schedule };
}
