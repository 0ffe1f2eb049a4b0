import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { OcrServiceCluster } from './ocr-service-cluster';
import { OcrServiceClusterProps } from './props';
import { Timings } from './validation';
import { acknowledgeNagFindings } from '../common/nag';

/** The alarms of the service; the first two also roll back a deployment. */
export interface ServiceAlarms {
  readonly target5xxAlarm: cloudwatch.Alarm;
  readonly unhealthyTasksAlarm: cloudwatch.Alarm;
  /** Every alarm, the two above included. */
  readonly all: cloudwatch.Alarm[];
}

/** The alarms on the service's metrics, each with every one of `alarmActions`. */
export function createAlarms(ocr: OcrServiceCluster, props: OcrServiceClusterProps, timings: Timings): ServiceAlarms {
  const all: cloudwatch.Alarm[] = [];
  const add = (
    id: string, metric: cloudwatch.IMetric, threshold: number, description: string,
    comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD, periods = 3,
  ) => {
    const alarm = new cloudwatch.Alarm(ocr, id, {
      metric,
      threshold,
      comparisonOperator: comparison,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `OCR service: ${description}`,
      actionsEnabled: true,
    });
    const actions = props.alarmActions ?? [];
    alarm.addAlarmAction(...actions);
    if (actions.length === 0) {
      const reason = 'The OCR service cannot choose who is paged: this alarm shows on the dashboard, and alarmActions (or alarm.addAlarmAction) routes it to the owner.';
      acknowledgeNagFindings(alarm, [{ ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason }, { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason }]);
    }
    all.push(alarm);
    return alarm;
  };
  const target5xxAlarm = add('Target5xxAlarm', ocr.metricTarget5xxCount({ period: Duration.minutes(5) }), 5, 'the tasks answered 5xx at least 5 times in each of 3 five-minute periods');
  add('LoadBalancer5xxAlarm', ocr.metricLoadBalancer5xxCount({ period: Duration.minutes(5) }), 5, 'the load balancer answered 5xx (no healthy task, timeouts) at least 5 times in each of 3 five-minute periods');
  add('LatencyAlarm', ocr.metricTargetResponseTime({ period: Duration.minutes(5) }), timings.requestTimeout.toSeconds() * 0.8,
    'p99 response time above 80% of the per-request bound for 15 minutes', cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
  const unhealthyTasksAlarm = add('UnhealthyTasksAlarm', ocr.metricUnhealthyTaskCount(), 1, 'a task has failed /health for 3 minutes');
  add('StreamTriggerErrorsAlarm', ocr.streamHandler.metricErrors({ period: Duration.minutes(5) }), 1, 'the stream trigger failed (retries, then the S3 on-failure destination)', undefined, 1);
  add('StreamLagAlarm', ocr.metricStreamIteratorAge({ period: Duration.minutes(5) }), Duration.minutes(15).toMilliseconds(), 'new documents wait more than 15 minutes for their hand-off', cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD, 1);
  if (ocr.sweepHandler) {
    const threshold = props.pendingDocumentsAlarmThreshold ?? 100;
    add('PendingBacklogAlarm', ocr.metricPendingDocuments(), threshold,
      `more than ${threshold} documents are PENDING for 15 minutes`, cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD);
  }
  if ((props.textractNotificationTopics ?? []).length > 0) {
    add('TextractNotificationsFailedAlarm', ocr.metricTextractNotificationsFailed(), 1,
      'a Textract completion message could not be published to its NotificationChannel topic (the job\'s result stands; its caller was not told)', undefined, 1);
  }
  return { target5xxAlarm, unhealthyTasksAlarm, all };
}

/** A dashboard of requests, latency, errors, tasks, documents, the stream trigger and the alarms. */
export function createDashboard(ocr: OcrServiceCluster): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(ocr, 'Dashboard', { defaultInterval: Duration.hours(3) });
  const graph = (title: string, left: cloudwatch.IMetric[], right?: cloudwatch.IMetric[]) =>
    new cloudwatch.GraphWidget({ title, left, right, width: 8, height: 6 });
  dashboard.addWidgets(
    graph('Requests', [ocr.metricRequestCount()]),
    graph('Latency (p50, p99)', [ocr.metricTargetResponseTime({ statistic: 'p50', label: 'p50' }), ocr.metricTargetResponseTime({ label: 'p99' })]),
    graph('5xx', [ocr.metricTarget5xxCount({ label: 'tasks' }), ocr.metricLoadBalancer5xxCount({ label: 'load balancer' })]),
  );
  dashboard.addWidgets(
    graph('CPU and memory (%)', [ocr.metricCpuUtilization({ label: 'CPU' }), ocr.metricMemoryUtilization({ label: 'memory' })]),
    graph('Tasks', [ocr.metricRunningTaskCount({ label: 'running' }), ocr.metricUnhealthyTaskCount({ label: 'unhealthy' })]),
    graph('Documents', [ocr.metricDocumentsSucceeded({ label: 'succeeded' }), ocr.metricDocumentsFailed({ label: 'failed' })], [ocr.metricPendingDocuments({ label: 'pending (queue)' })]),
  );
  dashboard.addWidgets(
    graph('Stream trigger', [ocr.streamHandler.metricInvocations({ label: 'invocations' }), ocr.streamHandler.metricErrors({ label: 'errors' })], [ocr.metricStreamIteratorAge({ label: 'iterator age (ms)' })]),
    new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: ocr.alarms, width: 16, height: 6 }),
  );
  return dashboard;
}
