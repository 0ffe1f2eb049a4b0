import { Duration, Fn, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as batch from 'aws-cdk-lib/aws-batch';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { UpdaterFunction } from './updater-function';
import { createDeadLetterQueue } from '../common/dead-letter-queue';
import { PropChecker } from '../common/errors';
import { createHandler, stackArn } from '../common/handler';
import { allowCloudWatchLogsToUseKey, allowEventBridgeToUseKey } from '../common/key-policy';
import { acknowledgeNagFindings } from '../common/nag';
import { nagResourceFinding } from '../common/nag-findings';
import { OperationalHandlerProps } from '../common/operations-props';

/** The CloudWatch namespace of the library's handler metrics. */
export const OPERATIONS_METRICS_NAMESPACE = 'CdkOcrConstructs';

/**
 * Props of `EcrBatchAutoUpdater`.
 */
export interface EcrBatchAutoUpdaterProps extends OperationalHandlerProps {
  /** The repository whose pushes update the job definitions. */
  readonly repository: ecr.IRepository;

  /**
   * Job definitions created with the aws-batch L2 constructs. The roles of `EcsJobDefinition` and
   * `MultiNodeJobDefinition` containers are found automatically (for `iam:PassRole`); for other
   * job definitions pass their roles in `passRoles`.
   * @default - none; give at least one job definition here or in `jobDefinitionNames`
   */
  readonly jobDefinitions?: batch.IJobDefinition[];

  /**
   * Job definitions by name (or ARN), e.g. ones created with `CfnJobDefinition` or outside CDK.
   * Pass their job and execution roles in `passRoles`.
   * @default - none
   */
  readonly jobDefinitionNames?: string[];

  /**
   * Roles the job definitions reference (job role, execution role) that the construct cannot find
   * itself. The handler may pass exactly these roles (plus the ones found on the L2 constructs).
   * @default - only the roles found on `jobDefinitions`
   */
  readonly passRoles?: iam.IRole[];

  /**
   * Image tags whose pushes update the job definitions. `*` matches any run of characters
   * (e.g. `release-*`). Pushes without a matching tag are ignored.
   * @default ['latest']
   */
  readonly imageTags?: string[];

  /**
   * When the reconciliation runs: it compares each job definition's newest revision with the
   * newest image carrying a tracked tag and re-registers on drift (missed events, CloudFormation
   * re-registering the template's image).
   * @default events.Schedule.rate(Duration.hours(1))
   */
  readonly reconciliationSchedule?: events.Schedule;

  /**
   * Run the reconciliation at all (on its schedule and after deployments).
   * @default true
   */
  readonly reconciliation?: boolean;

  /**
   * Also reconcile as soon as a deployment of the stacks holding the job definitions (and this
   * construct's stack) completes, so the revision CloudFormation registers with the template's
   * image is replaced within minutes rather than at the next scheduled run.
   * @default true
   */
  readonly reconcileAfterDeploy?: boolean;
}

/**
 * Keeps AWS Batch job definitions on the newest image of an ECR repository.
 *
 * ECR push → EventBridge rule (this repository, tracked tags, successful pushes) → SQS FIFO queue
 * (one message group, so updates never overlap) → Lambda, which verifies the image by digest and
 * registers a new revision of each job definition: an exact copy with only the image changed,
 * pinned by digest. An hourly reconciliation goes through the same queue and repairs drift.
 */
export class EcrBatchAutoUpdater extends Construct {
  /** The updater Lambda function. */
  public readonly function: lambda.Function;
  /** The execution role of the updater. */
  public readonly role: iam.Role;
  /** The updater's log group. */
  public readonly logGroup: logs.LogGroup;
  /** FIFO queue between EventBridge and the updater; one message group serializes all updates. */
  public readonly queue: sqs.Queue;
  /** Messages that failed `maxReceiveCount` (3) times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The rule matching ECR pushes of the tracked tags. */
  public readonly pushRule: events.Rule;
  /** The reconciliation schedule, unless `reconciliation` is false. */
  public readonly reconciliationRule?: events.Rule;
  /** Reconciliation after deployments, unless `reconciliation` or `reconcileAfterDeploy` is false. */
  public readonly deploymentRule?: events.Rule;
  /** Alarm: at least one job definition update failed. */
  public readonly updateFailuresAlarm: cloudwatch.Alarm;
  /** Alarm: messages in the dead-letter queue. */
  public readonly deadLetterQueueAlarm: cloudwatch.Alarm;
  /** Names (or ARNs) of the job definitions kept up to date. */
  public readonly jobDefinitionNames: string[];

  private readonly serviceName: string;

  constructor(scope: Construct, id: string, props: EcrBatchAutoUpdaterProps) {
    super(scope, id);
    const check = new PropChecker('EcrBatchAutoUpdater', id);
    const imageTags = props.imageTags ?? ['latest'];
    check.check(imageTags.length > 0, 'imageTags', 'must name at least one tag or pattern');
    for (const tag of imageTags) {
      if (Token.isUnresolved(tag)) continue;
      // ECR tags: up to 128 characters of letters, digits, '_', '.', '-' (plus our '*' wildcard).
      check.check(/^[A-Za-z0-9_.*-]{1,128}$/.test(tag), 'imageTags', `must be ECR tags or patterns (letters, digits, '_', '.', '-', '*'), got '${tag}'`);
    }
    const definitions = props.jobDefinitions ?? [];
    const names = props.jobDefinitionNames ?? [];
    check.check(definitions.length + names.length > 0, 'jobDefinitions', 'or \'jobDefinitionNames\' must name at least one job definition');
    for (const name of names) {
      if (Token.isUnresolved(name)) continue;
      check.check(/^(arn:[^:]+:batch:[^:]*:[0-9]*:job-definition\/)?[A-Za-z0-9_-]{1,128}(:[0-9]+)?$/.test(name), 'jobDefinitionNames',
        `must be job definition names or ARNs, got '${name}'`);
    }
    check.check(!(props.lambdaVpcSubnets && !props.lambdaVpc), 'lambdaVpcSubnets', 'needs \'lambdaVpc\'');

    // The job definitions' ARNs carry a revision; the handler reads the family name from them.
    this.jobDefinitionNames = [...definitions.map((d) => d.jobDefinitionArn), ...names];
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;
    const timeout = Duration.minutes(2);
    this.serviceName = Names.uniqueResourceName(this, { maxLength: 64 });

    const queueEncryption = props.encryptionKey
      ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
      : { encryption: sqs.QueueEncryption.SQS_MANAGED };
    this.deadLetterQueue = createDeadLetterQueue(this, 'DeadLetterQueue', {
      deadLetterOf: 'the ECR-to-Batch update queue', encryptionKey: props.encryptionKey, removalPolicy, fifo: true,
    });
    this.queue = new sqs.Queue(this, 'UpdateQueue', {
      fifo: true,
      // EventBridge event ids make redeliveries identical, so content-based deduplication drops them.
      contentBasedDeduplication: true,
      ...queueEncryption,
      enforceSSL: true,
      // AWS recommends six times the function timeout for SQS event sources.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 3 },
      removalPolicy,
    });

    // The handler's log group is encrypted with the key: CloudWatch Logs must be allowed to use it.
    if (props.encryptionKey) allowCloudWatchLogsToUseKey(this, props.encryptionKey);
    const handler = createHandler(this, 'Updater', (s, i, p) => new UpdaterFunction(s, i, p), {
      purpose: 'ECR-to-Batch job definition updater',
      timeout,
      invocation: 'poll',
      architecture: props.architecture,
      encryptionKey: props.encryptionKey,
      logRetention: props.logRetention,
      removalPolicy,
      vpc: props.lambdaVpc,
      vpcSubnets: props.lambdaVpcSubnets,
      environment: {
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        METRICS_NAMESPACE: OPERATIONS_METRICS_NAMESPACE,
        REPOSITORY_NAME: props.repository.repositoryName,
        REPOSITORY_URI: props.repository.repositoryUri,
        JOB_DEFINITIONS: Fn.toJsonString(this.jobDefinitionNames),
        IMAGE_TAGS: JSON.stringify(imageTags),
      },
    });
    this.function = handler.function;
    this.role = handler.role;
    this.logGroup = handler.logGroup;
    // One message at a time: with a single message group the queue hands out the next message only
    // after this one is deleted, so two updates never run at once (no reserved concurrency needed).
    this.function.addEventSource(new SqsEventSource(this.queue, { batchSize: 1 }));

    this.grantUpdates(definitions, names, props.passRoles ?? []);
    props.repository.grant(this.role, 'ecr:DescribeImages');

    // EventBridge itself sends to the queue, which is encrypted with the key.
    if (props.encryptionKey) allowEventBridgeToUseKey(this, props.encryptionKey);
    const target = (message?: events.RuleTargetInput) => new targets.SqsQueue(this.queue, { messageGroupId: 'job-definition-updates', message });
    this.pushRule = new events.Rule(this, 'PushRule', {
      description: 'ECR pushes of the tracked tags, for the ECR-to-Batch updater',
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          'result': ['SUCCESS'],
          'repository-name': [props.repository.repositoryName],
          'image-tag': imageTags.flatMap((t) => (t.includes('*') ? events.Match.wildcard(t) : [t])),
        },
      },
      targets: [target()],
    });
    if (props.reconciliation ?? true) {
      this.reconciliationRule = new events.Rule(this, 'ReconciliationRule', {
        description: 'Scheduled reconciliation of the ECR-to-Batch updater',
        schedule: props.reconciliationSchedule ?? events.Schedule.rate(Duration.hours(1)),
        targets: [target(events.RuleTargetInput.fromObject({ action: 'reconcile', time: events.EventField.time }))],
      });
      if (props.reconcileAfterDeploy ?? true) {
        const stackIds = [...new Set([Stack.of(this), ...definitions.map((d) => Stack.of(d))].map((s) => s.stackId))];
        this.deploymentRule = new events.Rule(this, 'DeploymentRule', {
          description: 'Reconcile the ECR-to-Batch updater after a deployment of the job definitions\' stacks',
          eventPattern: {
            source: ['aws.cloudformation'],
            detailType: ['CloudFormation Stack Status Change'],
            detail: {
              'stack-id': stackIds,
              'status-details': { status: ['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE'] },
            },
          },
          targets: [target(events.RuleTargetInput.fromObject({ action: 'reconcile', reason: 'deployment', time: events.EventField.time }))],
        });
      }
    }

    this.updateFailuresAlarm = this.metricUpdatesFailed().createAlarm(this, 'UpdateFailuresAlarm', {
      alarmDescription: 'ECR-to-Batch updater: at least one job definition update failed (see the updater log group)',
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    this.deadLetterQueueAlarm = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' })
      .createAlarm(this, 'DeadLetterQueueAlarm', {
        alarmDescription: 'ECR-to-Batch updater: updates that failed three times are in the dead-letter queue',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    for (const alarm of [this.updateFailuresAlarm, this.deadLetterQueueAlarm]) {
      for (const action of props.alarmActions ?? []) alarm.addAlarmAction(action);
      if ((props.alarmActions ?? []).length === 0) {
        const reason = 'Where this alarm notifies is the user\'s choice (alarmActions prop); without one it still shows in the console and on the dashboard widgets.';
        acknowledgeNagFindings(alarm, [{ ruleId: 'NIST.800.53.R5-CloudWatchAlarmAction', reason }, { ruleId: 'HIPAA.Security-CloudWatchAlarmAction', reason }]);
      }
    }
    if (!props.encryptionKey) {
      const reason = 'The updater log group holds job definition names, image digests and revision numbers only, no document data; CloudWatch Logs encrypts it at rest, and the encryptionKey prop switches to a customer-managed KMS key.';
      acknowledgeNagFindings(this.logGroup, [{ ruleId: 'NIST.800.53.R5-CloudWatchLogGroupEncrypted', reason }, { ruleId: 'HIPAA.Security-CloudWatchLogGroupEncrypted', reason }]);
    }
  }

  /**
   * Allow `grantee` to trigger a reconciliation by sending `{"action":"reconcile","time":"<unique>"}`
   * to `queue` with message group `job-definition-updates` (e.g. a CI pipeline after a deployment).
   */
  public grantTriggerReconciliation(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  /** Job definitions updated (a new revision registered). */
  public metricUpdatesApplied(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('UpdatesApplied', props);
  }

  /** Job definitions already on the image, and ignored events (untracked tags, other repositories). */
  public metricUpdatesSkipped(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('UpdatesSkipped', props);
  }

  /** Job definition updates that failed (retried, then dead-lettered). */
  public metricUpdatesFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.handlerMetric('UpdatesFailed', props);
  }

  /** Widgets for a CloudWatch dashboard: updates, failures and dead-lettered messages. */
  public dashboardWidgets(): cloudwatch.IWidget[] {
    return [
      new cloudwatch.GraphWidget({
        title: 'Job definition updates',
        left: [this.metricUpdatesApplied(), this.metricUpdatesSkipped(), this.metricUpdatesFailed()],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Updater queue',
        left: [this.queue.metricApproximateNumberOfMessagesVisible(), this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: 'Dead-lettered' })],
        right: [this.function.metricErrors()],
        width: 12,
      }),
      new cloudwatch.AlarmStatusWidget({ title: 'Updater alarms', alarms: [this.updateFailuresAlarm, this.deadLetterQueueAlarm], width: 24 }),
    ];
  }

  private handlerMetric(metricName: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: OPERATIONS_METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private grantUpdates(definitions: batch.IJobDefinition[], names: string[], passRoles: iam.IRole[]): void {
    // Family names: literal for names, derived from the ARN token (`.../job-definition/NAME:REV`) otherwise.
    const families = [
      ...definitions.map((d) => Fn.select(0, Fn.split(':', Fn.select(1, Fn.split('/', d.jobDefinitionArn))))),
      ...names.map((n) => (Token.isUnresolved(n) ? n : n.slice(n.lastIndexOf('/') + 1).split(':')[0])),
    ];
    const jobDefinitionArns = families.flatMap((f) => [stackArn(this, 'batch', `job-definition/${f}`), stackArn(this, 'batch', `job-definition/${f}:*`)]);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'RegisterRevisionsOfTheNamedJobDefinitions',
      // Registering with tags needs batch:TagResource on the new revision.
      actions: ['batch:RegisterJobDefinition', 'batch:TagResource'],
      resources: jobDefinitionArns,
    }));
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadJobDefinitions',
      actions: ['batch:DescribeJobDefinitions'],
      resources: ['*'],
    }));

    const roles = [...passRoles];
    for (const definition of definitions) {
      const containers = definition instanceof batch.EcsJobDefinition ? [definition.container]
        : definition instanceof batch.MultiNodeJobDefinition ? definition.containers.map((c) => c.container) : [];
      for (const container of containers) {
        roles.push(container.executionRole);
        if (container.jobRole) roles.push(container.jobRole);
      }
    }
    const roleArns = [...new Set(roles.map((r) => r.roleArn))];
    if (roleArns.length > 0) {
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        sid: 'PassTheJobDefinitionsRoles',
        actions: ['iam:PassRole'],
        resources: roleArns,
      }));
    }

    acknowledgeNagFindings(this.role.node.findChild('DefaultPolicy'), [{
      ruleId: 'AwsSolutions-IAM5',
      reason: 'batch:DescribeJobDefinitions has no resource-level permissions; RegisterJobDefinition and TagResource are limited to every revision (:*) of the named job definitions only.',
      findings: ['Resource::*', ...jobDefinitionArns.filter((a) => a.endsWith(':*')).map((a) => nagResourceFinding(this, a))],
    }]);
  }
}
