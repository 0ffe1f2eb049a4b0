import { CfnOutput, Duration, Fn as cdkFn, Names, Stack, Token } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CleanupFunction } from './cleanup-function';
import { PropChecker } from '../common/errors';
import { createHandler, stackArn } from '../common/handler';
import { allowCloudWatchLogsToUseKey } from '../common/key-policy';
import { acknowledgeNagFindings } from '../common/nag';
import { nagResourceFinding } from '../common/nag-findings';
import { OperationalHandlerProps } from '../common/operations-props';

const METRICS_NAMESPACE = 'CdkOcrConstructs';

/**
 * How long a job may stay in each state before JobCleanup acts: jobs waiting in SUBMITTED,
 * PENDING or RUNNABLE are cancelled, jobs in STARTING or RUNNING are terminated.
 */
export interface JobAgeThresholds {
  /**
   * Time since submission after which a SUBMITTED job is cancelled.
   * @default Duration.hours(24)
   */
  readonly submitted?: Duration;
  /**
   * Time since submission after which a PENDING job (waiting for dependencies) is cancelled.
   * @default Duration.hours(24)
   */
  readonly pending?: Duration;
  /**
   * Time since submission after which a RUNNABLE job (waiting for capacity) is cancelled.
   * @default Duration.hours(24)
   */
  readonly runnable?: Duration;
  /**
   * Time since submission after which a job still STARTING is terminated.
   * @default Duration.hours(24)
   */
  readonly starting?: Duration;
  /**
   * Running time after which a RUNNING job is terminated.
   * @default Duration.hours(24)
   */
  readonly running?: Duration;
}

/** Props of `JobCleanup`. */
export interface JobCleanupProps extends OperationalHandlerProps {
  /**
   * Job queues whose stuck and overrunning jobs are cancelled or terminated.
   * @default - none
   */
  readonly jobQueues?: batch.IJobQueue[];
  /**
   * Job queues by name or ARN.
   * @default - none
   */
  readonly jobQueueNames?: string[];
  /**
   * Per-state age limits of jobs.
   * @default - 24 hours for every state
   */
  readonly jobAgeThresholds?: JobAgeThresholds;
  /**
   * Job definitions whose old revisions are deregistered (all but the newest `keepRevisions`,
   * never one that a queued or running job of any queue uses).
   * @default - none
   */
  readonly jobDefinitions?: batch.IJobDefinition[];
  /**
   * Job definition families by name.
   * @default - none
   */
  readonly jobDefinitionNames?: string[];
  /**
   * ACTIVE revisions kept per job definition family.
   * @default 5
   */
  readonly keepRevisions?: number;
  /**
   * ECS clusters whose standalone tasks (not started by a service) are stopped after `maxTaskAge`.
   * Never pass a cluster that belongs to an AWS Batch compute environment: Batch owns those tasks
   * (recognisable `AWSBatch-*` names are refused at synth, and the handler skips every cluster a
   * compute environment uses).
   * @default - none
   */
  readonly ecsClusters?: ecs.ICluster[];
  /**
   * Running time after which a standalone ECS task is stopped.
   * @default Duration.hours(24)
   */
  readonly maxTaskAge?: Duration;
  /**
   * Tag key that protects a job, job definition revision or task from cleanup.
   * @default 'cdk-ocr:protect'
   */
  readonly protectionTagKey?: string;
  /**
   * Tag value that protects (with `protectionTagKey`).
   * @default 'true'
   */
  readonly protectionTagValue?: string;
  /**
   * When the cleanup runs.
   * @default events.Schedule.rate(Duration.hours(6))
   */
  readonly schedule?: events.Schedule;
  /**
   * Only log and report what would be done; make no mutating call. A manual invocation can
   * override this per run with the payload `{"dryRun": true}` or `{"dryRun": false}`.
   * @default false
   */
  readonly dryRun?: boolean;
  /**
   * Handler timeout; the run stops starting calls before it and reports what it did not reach.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;
}

/**
 * Keeps AWS Batch (and standalone ECS tasks) tidy on a schedule: cancels jobs stuck in
 * SUBMITTED/PENDING/RUNNABLE, terminates jobs STARTING/RUNNING too long, deregisters old job
 * definition revisions that no job uses, stops standalone ECS tasks running too long. Never touches
 * anything younger than its threshold or carrying the protection tag; dry-run mode makes no
 * mutating call. Every action is a structured log line and a metric.
 */
export class JobCleanup extends Construct {
  /** The cleanup function. */
  public readonly function: lambda.Function;
  /** Its execution role. */
  public readonly role: iam.Role;
  /** Its log group: one line per action, one summary per run. */
  public readonly logGroup: logs.LogGroup;
  /** Failed asynchronous invocations (after Lambda's two retries). */
  public readonly deadLetterQueue: sqs.Queue;
  /** The schedule. */
  public readonly scheduleRule: events.Rule;
  /** Alarm: a run reported errors (failed actions or listings, refused clusters). */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** Alarm: the function itself failed. */
  public readonly functionErrorsAlarm: cloudwatch.Alarm;
  /** Alarm: invocations in the dead-letter queue. */
  public readonly deadLetterQueueAlarm: cloudwatch.Alarm;

  private readonly serviceName: string;

  constructor(scope: Construct, id: string, props: JobCleanupProps) {
    super(scope, id);
    const check = new PropChecker('JobCleanup', id);
    const queues = [...(props.jobQueues ?? []).map((q) => q.jobQueueArn), ...(props.jobQueueNames ?? [])];
    const families = [
      ...(props.jobDefinitions ?? []).map((d) => familyOf(d.jobDefinitionArn)),
      ...(props.jobDefinitionNames ?? []),
    ];
    const clusters = props.ecsClusters ?? [];
    check.check(queues.length + families.length + clusters.length > 0, 'jobQueues',
      'or one of \'jobQueueNames\', \'jobDefinitions\', \'jobDefinitionNames\', \'ecsClusters\' must give the cleanup something to clean');
    for (const name of props.jobQueueNames ?? []) {
      if (Token.isUnresolved(name)) continue;
      check.check(/^(arn:[^:]+:batch:[^:]*:[0-9]*:job-queue\/)?[A-Za-z0-9_-]{1,128}$/.test(name), 'jobQueueNames', `must be job queue names or ARNs, got '${name}'`);
    }
    for (const name of props.jobDefinitionNames ?? []) {
      if (Token.isUnresolved(name)) continue;
      check.check(/^[A-Za-z0-9_-]{1,128}$/.test(name), 'jobDefinitionNames', `must be job definition family names (no revision, no ARN), got '${name}'`);
    }
    const keepRevisions = props.keepRevisions ?? 5;
    check.integerInRange('keepRevisions', keepRevisions, 1, 1000);
    const thresholds = props.jobAgeThresholds ?? {};
    const minutes = (prop: string, d: Duration | undefined, fallback: Duration, min: number) => {
      const value = d ?? fallback;
      if (!value.isUnresolved()) check.numberInRange(prop, value.toMinutes({ integral: false }), min, 60 * 24 * 366);
      return value;
    };
    // Ten minutes at the least: younger jobs and tasks are normal, never stuck.
    const jobThresholds = {
      SUBMITTED: minutes('jobAgeThresholds.submitted', thresholds.submitted, Duration.hours(24), 10),
      PENDING: minutes('jobAgeThresholds.pending', thresholds.pending, Duration.hours(24), 10),
      RUNNABLE: minutes('jobAgeThresholds.runnable', thresholds.runnable, Duration.hours(24), 10),
      STARTING: minutes('jobAgeThresholds.starting', thresholds.starting, Duration.hours(24), 10),
      RUNNING: minutes('jobAgeThresholds.running', thresholds.running, Duration.hours(24), 10),
    };
    const maxTaskAge = minutes('maxTaskAge', props.maxTaskAge, Duration.hours(24), 10);
    const timeout = props.timeout ?? Duration.minutes(5);
    if (!timeout.isUnresolved()) check.numberInRange('timeout', timeout.toSeconds(), 60, 900);
    for (const cluster of clusters) {
      const name = cluster.clusterName;
      if (!Token.isUnresolved(name)) {
        check.check(!/^AWSBatch-/.test(name), 'ecsClusters', `must not contain '${name}': it belongs to an AWS Batch compute environment, whose tasks Batch owns`);
      }
    }
    check.check(!(props.lambdaVpcSubnets && !props.lambdaVpc), 'lambdaVpcSubnets', 'needs \'lambdaVpc\'');

    this.serviceName = Names.uniqueResourceName(this, { maxLength: 64 });
    const stack = Stack.of(this);
    const config = {
      jobQueues: queues,
      jobThresholdsMs: Object.fromEntries(Object.entries(jobThresholds).map(([state, d]) => [state, d.toMilliseconds()])),
      jobDefinitionFamilies: families,
      keepRevisions,
      ecsClusters: clusters.map((c) => c.clusterArn),
      ecsTaskMaxAgeMs: maxTaskAge.toMilliseconds(),
      protectionTagKey: props.protectionTagKey ?? 'cdk-ocr:protect',
      protectionTagValue: props.protectionTagValue ?? 'true',
      dryRun: props.dryRun ?? false,
    };

    // The handler's log group is encrypted with the key: CloudWatch Logs must be allowed to use it.
    if (props.encryptionKey) allowCloudWatchLogsToUseKey(this, props.encryptionKey);
    const handler = createHandler(this, 'Cleanup', (s, i, p) => new CleanupFunction(s, i, p), {
      purpose: 'Batch and ECS cleanup',
      timeout,
      invocation: 'async',
      architecture: props.architecture,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      vpc: props.lambdaVpc,
      vpcSubnets: props.lambdaVpcSubnets,
      environment: {
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        METRICS_NAMESPACE,
        CLEANUP_CONFIG: stack.toJsonString(config),
      },
    });
    this.function = handler.function;
    this.role = handler.role;
    this.logGroup = handler.logGroup;
    this.deadLetterQueue = handler.deadLetterQueue!;

    this.grantCleanup(queues.length > 0, families, clusters);

    this.scheduleRule = new events.Rule(this, 'Schedule', {
      description: 'Scheduled run of the Batch and ECS cleanup',
      schedule: props.schedule ?? events.Schedule.rate(Duration.hours(6)),
      targets: [new targets.LambdaFunction(this.function)],
    });

    const alarmProps = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.errorsAlarm = this.metricErrors({ period: Duration.hours(1) }).createAlarm(this, 'ErrorsAlarm', {
      ...alarmProps,
      alarmDescription: 'Batch and ECS cleanup: a run reported errors (see the cleanup log group)',
    });
    this.functionErrorsAlarm = this.function.metricErrors({ period: Duration.hours(1) }).createAlarm(this, 'FunctionErrorsAlarm', {
      ...alarmProps,
      alarmDescription: 'Batch and ECS cleanup: the function failed',
    });
    this.deadLetterQueueAlarm = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'DeadLetterQueueAlarm', { ...alarmProps, alarmDescription: 'Batch and ECS cleanup: failed invocations in the dead-letter queue' });
    for (const alarm of [this.errorsAlarm, this.functionErrorsAlarm, this.deadLetterQueueAlarm]) {
      for (const action of props.alarmActions ?? []) alarm.addAlarmAction(action);
      if ((props.alarmActions ?? []).length === 0) {
        const reason = 'Where this cleanup alarm notifies is the user\'s choice (alarmActions prop); without one it still shows in the console and on the dashboard widgets.';
        acknowledgeNagFindings(alarm, [{ ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason }, { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason }]);
      }
    }
    if (!props.encryptionKey) {
      const reason = 'The cleanup log group holds job ids, job definition ARNs and task ARNs only, no document data; CloudWatch Logs encrypts it at rest, and the encryptionKey prop switches to a customer-managed KMS key.';
      acknowledgeNagFindings(this.logGroup, [{ ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason }, { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason }]);
    }

    new CfnOutput(this, 'FunctionName', { description: 'Name of the Batch and ECS cleanup function', value: this.function.functionName });
    new CfnOutput(this, 'ManualRunCommand', {
      description: 'Run the cleanup now; set "dryRun" to false to act, or leave the payload out to use the configured mode',
      value: `aws lambda invoke --function-name ${this.function.functionName} --cli-binary-format raw-in-base64-out --payload '{"dryRun":true}' cleanup-report.json`,
    });
  }

  /** Allow `grantee` (an operator role, a pipeline) to run the cleanup by hand (`lambda:InvokeFunction`). */
  public grantRun(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvoke(grantee);
  }

  /** Jobs cancelled (SUBMITTED, PENDING, RUNNABLE over their threshold). */
  public metricJobsCancelled(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('JobsCancelled', props);
  }

  /** Jobs terminated (STARTING, RUNNING over their threshold). */
  public metricJobsTerminated(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('JobsTerminated', props);
  }

  /** Job definition revisions deregistered. */
  public metricRevisionsDeregistered(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('RevisionsDeregistered', props);
  }

  /** Standalone ECS tasks stopped. */
  public metricTasksStopped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('TasksStopped', props);
  }

  /** Failed actions and listings, and refused clusters. */
  public metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('Errors', props);
  }

  /** Queue states, families and clusters a run did not reach before its deadline. */
  public metricNotReached(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('NotReached', props);
  }

  /** Actions a dry run would have taken. */
  public metricDryRunActions(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('DryRunActions', props);
  }

  /** Widgets for a CloudWatch dashboard: actions, errors, alarms. */
  public dashboardWidgets(): cloudwatch.IWidget[] {
    return [
      new cloudwatch.GraphWidget({
        title: 'Cleanup actions',
        left: [
          this.metricJobsCancelled(), this.metricJobsTerminated(), this.metricRevisionsDeregistered(),
          this.metricTasksStopped(), this.metricDryRunActions(),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Cleanup problems',
        left: [this.metricErrors(), this.metricNotReached()],
        right: [this.function.metricErrors(), this.function.metricDuration({ statistic: 'Maximum' })],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Cleanup alarms', alarms: [this.errorsAlarm, this.functionErrorsAlarm, this.deadLetterQueueAlarm], width: 24 }),
    ];
  }

  private handlerMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period: Duration.hours(6),
      ...props,
    });
  }

  private grantCleanup(hasQueues: boolean, families: string[], clusters: ecs.ICluster[]): void {
    const wildcardFindings: string[] = [];
    const add = (sid: string, actions: string[], resources: string[], conditions?: { [key: string]: unknown }) => {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({ sid, actions, resources, conditions }));
      wildcardFindings.push(...resources.filter((r) => r.includes('*')).map((r) => (r === '*' ? 'Resource::*' : nagResourceFinding(this, r))));
    };
    // These read-only Batch actions have no resource-level permissions.
    const reads = new Set<string>();
    if (hasQueues || families.length > 0) reads.add('batch:ListJobs').add('batch:DescribeJobs');
    if (families.length > 0) reads.add('batch:DescribeJobQueues').add('batch:DescribeJobDefinitions');
    if (clusters.length > 0) reads.add('batch:DescribeComputeEnvironments');
    add('ReadBatchState', [...reads], ['*']);
    if (hasQueues) {
      // Job ids are not known in advance; CancelJob and TerminateJob accept only job ARNs.
      add('CancelAndTerminateJobs', ['batch:CancelJob', 'batch:TerminateJob'], [stackArn(this, 'batch', 'job/*')]);
    }
    if (families.length > 0) {
      add('DeregisterOldRevisions', ['batch:DeregisterJobDefinition'], families.map((f) => stackArn(this, 'batch', `job-definition/${f}:*`)));
    }
    if (clusters.length > 0) {
      const clusterCondition = { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } };
      add('ListTasksOfTheClusters', ['ecs:ListTasks'], ['*'], clusterCondition);
      add('StopStandaloneTasks', ['ecs:DescribeTasks', 'ecs:StopTask'], clusters.map((c) => stackArn(this, 'ecs', `task/${c.clusterName}/*`)), clusterCondition);
    }
    acknowledgeNagFindings(this.role.node.findChild('DefaultPolicy'), [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'Batch List/Describe and ecs:ListTasks have no resource-level permissions (ListTasks is limited by the ecs:cluster condition); job ids, revisions and task ids are not known before the run, so Cancel/Terminate, Deregister and StopTask name every job, every revision of the given families and every task of the given clusters only.',
      findings: [...new Set(wildcardFindings)],
    }]);
  }
}

/** `arn:...:job-definition/NAME:REV` (possibly a token) → NAME. */
function familyOf(jobDefinitionArn: string): string {
  if (!Token.isUnresolved(jobDefinitionArn)) return jobDefinitionArn.slice(jobDefinitionArn.lastIndexOf('/') + 1).split(':')[0];
  return cdkFn.select(0, cdkFn.split(':', cdkFn.select(1, cdkFn.split('/', jobDefinitionArn))));
}
