import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { BatchOcrProcessor } from './batch-ocr-processor';
import { Handler } from '../common/handler';

/** The processor's alarms. */
export interface ProcessorAlarms {
  readonly jobsFailed: cloudwatch.Alarm;
  readonly handlerErrors: cloudwatch.Alarm;
  readonly api5xx: cloudwatch.Alarm;
  /** The sum of every handler's errors, which `handlerErrors` watches. */
  readonly handlerErrorsMetric: cloudwatch.IMetric;
}

/** What the alarms and the dashboard watch. */
export interface Watched {
  readonly processor: BatchOcrProcessor;
  readonly api: apigw.RestApi;
  readonly handlers: Handler[];
  readonly workerLogGroup: logs.ILogGroup;
}

/** Alarms on failed Batch jobs, handler errors and the API's 5xx answers, each with every one of `alarmActions`. */
export function createAlarms(scope: Construct, watched: Watched, alarmActions: cloudwatch.IAlarmAction[] = []): ProcessorAlarms {
  const handlerErrorsMetric = new cloudwatch.MathExpression({
    label: 'Handler errors',
    expression: watched.handlers.map((_, i) => `e${i}`).join(' + '),
    usingMetrics: Object.fromEntries(watched.handlers.map((h, i) => [`e${i}`, h.function.metricErrors({ period: Duration.minutes(5) })])),
    period: Duration.minutes(5),
  });
  const anyOccurrence = {
    threshold: 1,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  };
  const jobsFailed = watched.processor.metricJobsFailed({ period: Duration.minutes(5) }).createAlarm(scope, 'JobsFailedAlarm', {
    ...anyOccurrence, alarmDescription: 'OCR jobs failed at the Batch level (infrastructure, timeouts, exhausted retries)',
  });
  const handlerErrors = handlerErrorsMetric.createAlarm(scope, 'HandlerErrorsAlarm', {
    ...anyOccurrence, alarmDescription: 'Errors in the OCR API and event handlers',
  });
  const api5xx = watched.api.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }).createAlarm(scope, 'Api5xxAlarm', {
    ...anyOccurrence, alarmDescription: 'OCR API answered with 5xx',
  });
  for (const alarm of [jobsFailed, handlerErrors, api5xx]) {
    for (const action of alarmActions) alarm.addAlarmAction(action);
  }
  return { jobsFailed, handlerErrors, api5xx, handlerErrorsMetric };
}

/** The dashboard ('Dashboard'): jobs, documents, the API, the handlers and the worker's errors. */
export function createDashboard(scope: Construct, watched: Watched, handlerErrors: cloudwatch.IMetric): cloudwatch.Dashboard {
  const { processor, api, handlers } = watched;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(6) });
  const apiMetric = (name: string, statistic = 'Sum') => new cloudwatch.Metric({
    namespace: 'AWS/ApiGateway',
    metricName: name,
    statistic,
    period: Duration.minutes(5),
    dimensionsMap: { ApiName: api.restApiName, Stage: api.deploymentStage.stageName },
  });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Jobs', left: [processor.metricJobsSubmitted(), processor.metricJobsSucceeded(), processor.metricJobsFailed()], width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Documents', left: [processor.metricDocumentsSucceeded(), processor.metricDocumentsFailed()], right: [processor.metricPagesProcessed()], width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Document time (p90, ms)', left: [processor.metricDocumentDuration()], width: 8 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'API requests', left: [apiMetric('Count')], right: [apiMetric('Latency', 'p90')], width: 8 }),
    new cloudwatch.GraphWidget({ title: 'API errors', left: [apiMetric('4XXError'), apiMetric('5XXError')], right: [processor.metricRequestsRejected()], width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Handler errors', left: [handlerErrors], width: 8 }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Handler duration (p90)', left: handlers.map((h) => h.function.metricDuration({ statistic: 'p90' })), width: 12 }),
    new cloudwatch.GraphWidget({ title: 'Handler throttles', left: handlers.map((h) => h.function.metricThrottles()), width: 12 }),
  );
  dashboard.addWidgets(new cloudwatch.LogQueryWidget({
    title: 'Worker errors',
    logGroupNames: [watched.workerLogGroup.logGroupName],
    queryLines: ['fields @timestamp, @message', 'filter @message like /(?i)error/', 'sort @timestamp desc', 'limit 50'],
    width: 24,
  }));
  return dashboard;
}
