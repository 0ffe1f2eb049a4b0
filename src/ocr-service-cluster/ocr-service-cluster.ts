import { CfnOutput, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elasticache from 'aws-cdk-lib/aws-elasticache';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { acknowledgeServiceFindings } from './compliance';
import { OcrServiceApi, OcrServiceEnvironment, OcrServiceMetrics } from './contract';
import { estimateServiceCost, ServiceCostInputs } from './cost';
import { createLoadBalancer } from './load-balancer';
import { clusterOf, createServiceSecurityGroup, placeInNetwork, serviceDiscoveryOf } from './network';
import { createAlarms, createDashboard } from './observability';
import { OcrServiceCapacity, OcrServiceClusterProps, OcrServiceCostEstimate } from './props';
import { createService, createTask } from './service';
import { createAccessLogsBucket, createCache, DEFAULT_STATUS_INDEX, documentsBucketOf, statusTableOf } from './storage';
import { createStreamTrigger, FAILED_HANDOFFS_PREFIX, ServiceEndpoint, serviceUrlOf } from './stream-trigger-wiring';
import { createSweep } from './sweep-wiring';
import { taskSizeOf, validateProps } from './validation';
import { PropChecker } from '../common/errors';
import { CostOptimizedVpc } from '../cost-optimized-vpc';

const CONSTRUCT_TYPE = 'OcrServiceCluster';

/**
 * The OCR engine as an always-on HTTP service: an ECS Fargate service behind an Application Load
 * Balancer, with a DynamoDB status table whose stream hands new PENDING documents to the service,
 * an S3 documents bucket, an optional Valkey cache, an OpenTelemetry collector sidecar tracing to
 * X-Ray, autoscaling, alarms and a dashboard.
 */
export class OcrServiceCluster extends Construct implements ec2.IConnectable {
  /** Where Lambda writes stream batches it gave up on (inside the documents bucket). */
  public static readonly FAILED_HANDOFFS_PREFIX = FAILED_HANDOFFS_PREFIX;

  /** The VPC of the tasks, load balancer and in-VPC handlers: from `network`, `vpc` or `cluster`, else the created `network`'s. */
  public readonly vpc: ec2.IVpc;
  /** The CostOptimizedVpc the construct created (undefined with `vpc`, `network` or `cluster`). */
  public readonly network?: CostOptimizedVpc;
  /** The ECS cluster the service runs in: the `cluster` you passed, else a new one with Container Insights and Fargate (Spot) capacity providers. */
  public readonly cluster: ecs.ICluster;
  /** Fargate task definition of the service (Linux on `cpuArchitecture`; `vcpu` and `memory`). */
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  /** The OCR service container. */
  public readonly container: ecs.ContainerDefinition;
  /** The tracing collector (ADOT), unless `tracing.enabled` is false. */
  public readonly tracingContainer?: ecs.ContainerDefinition;
  /** The ECS Fargate service running the OCR tasks in the workload subnets, with circuit-breaker rollback. */
  public readonly service: ecs.FargateService;
  /** Security group of the tasks: inbound only from the load balancer (and the handlers when internet-facing). */
  public readonly serviceSecurityGroup: ec2.SecurityGroup;
  /** Log group of the service containers (encrypted with `encryptionKey` if given; destroyed with the stack). */
  public readonly serviceLogGroup: logs.LogGroup;
  /** The internal (default) or internet-facing Application Load Balancer in front of the service. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** Security group of the load balancer: inbound from `allowedClients` on the listener port, no default outbound. */
  public readonly loadBalancerSecurityGroup: ec2.SecurityGroup;
  /** Clients of the service: `ocr.connections.allowDefaultPortFrom(client)` opens the listener port to them. */
  public readonly connections: ec2.Connections;
  /** The listener clients call: HTTPS on 443 with `certificate`, else HTTP on 80; authenticates first if configured. */
  public readonly listener: elbv2.ApplicationListener;
  /** HTTP-to-HTTPS redirect listener (internet-facing only). */
  public readonly redirectListener?: elbv2.ApplicationListener;
  /** Target group of the tasks (IP targets, least outstanding requests, health check on `/health`). */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** Bucket of ALB access logs and S3 server access logs (SSE-S3: ELB log delivery cannot use KMS). */
  public readonly accessLogsBucket: s3.Bucket;
  /** Bucket of the documents and OCR results: the `documentsBucket` you passed, else a new encrypted, versioned one. */
  public readonly documentsBucket: s3.IBucket;
  /** Status table of the documents (one item per document, with a stream): the `table` you passed, else a new one. */
  public readonly table: dynamodb.ITable;
  /** Task-count autoscaling of the service (CPU step scaling between the minimum and maximum capacity). */
  public readonly scalableTarget: ecs.ScalableTaskCount;
  /** The stream handler. */
  public readonly streamHandler: lambda.Function;
  /** Execution role of the stream handler. */
  public readonly streamHandlerRole: iam.Role;
  /** Log group of the stream handler. */
  public readonly streamHandlerLogGroup: logs.LogGroup;
  /** Table stream trigger of the stream handler: PENDING inserts and claims returned to PENDING; failed batches go to the documents bucket. */
  public readonly streamEventSource: DynamoEventSource;
  /** The Valkey replication group, with `cache`. */
  public readonly cacheReplicationGroup?: elasticache.CfnReplicationGroup;
  /** Subnet group of the cache (the workload subnets), with `cache`. */
  public readonly cacheSubnetGroup?: elasticache.CfnSubnetGroup;
  /** Security group of the cache: inbound only from the service tasks on the cache port, with `cache`. */
  public readonly cacheSecurityGroup?: ec2.SecurityGroup;
  /** AUTH token of the cache. */
  public readonly cacheAuthSecret?: secretsmanager.Secret;
  /** Association of the `webAclArn` WAF web ACL with the load balancer, with `webAclArn`. */
  public readonly webAclAssociation?: wafv2.CfnWebACLAssociation;
  /**
   * Private DNS namespace through which the stream trigger reaches the tasks when the load balancer
   * is internet-facing (a private subnet has no route to it, and its listener demands authentication).
   */
  public readonly serviceDiscoveryNamespace?: servicediscovery.PrivateDnsNamespace;
  /** The sweep handler (with `sweep`). */
  public readonly sweepHandler?: lambda.Function;
  /** Execution role of the sweep handler (with `sweep`). */
  public readonly sweepHandlerRole?: iam.Role;
  /** Log group of the sweep handler (with `sweep`). */
  public readonly sweepHandlerLogGroup?: logs.LogGroup;
  /** Dead-letter queue of the sweep's scheduled invocations. */
  public readonly sweepDeadLetterQueue?: sqs.Queue;
  /** EventBridge rule that invokes the sweep every `sweepInterval` (with `sweep`). */
  public readonly sweepSchedule?: events.Rule;
  /** Name of the status index (partition key `status`), when there is one. */
  public readonly statusIndexName?: string;
  /** Value of the `Service` dimension of the service's and the sweep's EMF metrics. */
  public readonly metricsServiceName: string;
  /** Namespace of the service's and the sweep's EMF metrics. */
  public readonly metricsNamespace: string;
  /** CloudWatch dashboard of the service (unless `dashboard: false`). */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** Tasks answering 5xx (also a deployment rollback alarm). */
  public readonly target5xxAlarm?: cloudwatch.Alarm;
  /** Tasks failing /health (also a deployment rollback alarm). */
  public readonly unhealthyTasksAlarm?: cloudwatch.Alarm;
  /** Every alarm created (with `alarmActions` as their actions). */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** Base URL of the service as the stream handler calls it. */
  public readonly serviceUrl: string;
  /** Environment of the service container (the contract; secrets excluded). */
  public readonly containerEnvironment: { [key: string]: string };

  /** What the cost estimate needs from the props. */
  private readonly costInputs: ServiceCostInputs;

  constructor(scope: Construct, id: string, props: OcrServiceClusterProps = {}) {
    super(scope, id);
    const check = new PropChecker(CONSTRUCT_TYPE, id);
    const timings = validateProps(check, props, Stack.of(this).region);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const port = props.containerPort ?? OcrServiceApi.DEFAULT_PORT;
    const internetFacing = props.internetFacing ?? false;
    const uploadsPrefix = props.uploadsPrefix ?? 'uploads/';
    const resultsPrefix = props.resultsPrefix ?? 'results/';

    // Network and cluster (network.ts)
    const placement = placeInNetwork(this, props);
    const { vpc, workloadSubnets } = placement;
    this.vpc = vpc;
    this.network = placement.createdNetwork;
    this.cluster = clusterOf(this, props, vpc);
    this.costInputs = {
      vcpu: taskSizeOf(props).vcpu,
      memoryGib: taskSizeOf(props).memoryMiB / 1024,
      minCapacity: timings.minCapacity,
      capacity: props.capacity ?? OcrServiceCapacity.ON_DEMAND,
      cpuArchitecture: props.cpuArchitecture,
      ocrEngine: props.ocrEngine,
      ownNetwork: placement.createdNetwork,
    };

    // Documents, status and access logs (storage.ts)
    this.accessLogsBucket = createAccessLogsBucket(this, removalPolicy);
    this.documentsBucket = documentsBucketOf(this, props, this.accessLogsBucket, removalPolicy);
    this.table = statusTableOf(this, check, props, removalPolicy);

    // Load balancer, listeners, authentication, WAF (load-balancer.ts)
    const front = createLoadBalancer(this, check, props, { vpc, workloadSubnets, accessLogsBucket: this.accessLogsBucket, port, timings });
    this.loadBalancerSecurityGroup = front.securityGroup;
    this.loadBalancer = front.loadBalancer;
    this.connections = front.connections;
    this.targetGroup = front.targetGroup;
    this.listener = front.listener;
    this.redirectListener = front.redirectListener;
    this.webAclAssociation = front.webAclAssociation;

    // Security group of the tasks (network.ts); the result cache (storage.ts) admits only it
    this.serviceSecurityGroup = createServiceSecurityGroup(this, vpc);
    const cache = props.cache
      ? createCache(this, props.cache, { vpc, subnets: workloadSubnets, serviceSecurityGroup: this.serviceSecurityGroup }, props.encryptionKey)
      : undefined;
    this.cacheAuthSecret = cache?.authSecret;
    this.cacheSecurityGroup = cache?.securityGroup;
    this.cacheSubnetGroup = cache?.subnetGroup;
    this.cacheReplicationGroup = cache?.replicationGroup;

    this.metricsNamespace = props.metricsNamespace ?? 'CdkOcrConstructs';
    this.metricsServiceName = Names.uniqueResourceName(this, { maxLength: 64 });
    this.statusIndexName = props.table ? props.statusIndexName : DEFAULT_STATUS_INDEX;

    // Task definition and containers (service.ts)
    const task = createTask(this, check, props, {
      vpc,
      workloadSubnets,
      documentsBucket: this.documentsBucket,
      table: this.table,
      timings,
      port,
      uploadsPrefix,
      resultsPrefix,
      metricsNamespace: this.metricsNamespace,
      metricsServiceName: this.metricsServiceName,
      cache,
    });
    this.serviceLogGroup = task.logGroup;
    this.taskDefinition = task.taskDefinition;
    this.container = task.container;
    this.tracingContainer = task.tracingContainer;
    this.containerEnvironment = task.containerEnvironment;

    // Fargate service and autoscaling (service.ts); internet-facing, the handlers reach it through Cloud Map (network.ts)
    const discovery = internetFacing ? serviceDiscoveryOf(this, vpc) : undefined;
    this.serviceDiscoveryNamespace = discovery?.namespace;
    const service = createService(this, props, {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      securityGroup: this.serviceSecurityGroup,
      workloadSubnets,
      targetGroup: this.targetGroup,
      port,
      timings,
      cloudMapOptions: discovery?.cloudMapOptions,
    });
    this.service = service.service;
    this.scalableTarget = service.scalableTarget;

    // Stream trigger (stream-trigger-wiring.ts)
    this.serviceUrl = serviceUrlOf(props, this.loadBalancer.loadBalancerDnsName, discovery?.namespace.namespaceName, port);
    const endpoint: ServiceEndpoint = {
      vpc,
      workloadSubnets,
      serviceUrl: this.serviceUrl,
      tracing: placement.inVpcHandlersCanTrace,
      throughCloudMap: internetFacing,
      target: internetFacing ? this.serviceSecurityGroup : this.loadBalancer,
      port: internetFacing ? port : front.listenerPort,
    };
    const trigger = createStreamTrigger(this, props, timings, endpoint, { table: this.table, documentsBucket: this.documentsBucket });
    this.streamHandler = trigger.function;
    this.streamHandlerRole = trigger.role;
    this.streamHandlerLogGroup = trigger.logGroup;
    this.streamEventSource = trigger.eventSource;

    // Sweep (sweep-wiring.ts)
    if ((props.sweep ?? true) && this.statusIndexName !== undefined) {
      const sweep = createSweep(this, props, timings, endpoint, {
        table: this.table,
        statusIndexName: this.statusIndexName,
        metricsNamespace: this.metricsNamespace,
        metricsServiceName: this.metricsServiceName,
      });
      this.sweepHandler = sweep.function;
      this.sweepHandlerRole = sweep.role;
      this.sweepHandlerLogGroup = sweep.logGroup;
      this.sweepDeadLetterQueue = sweep.deadLetterQueue;
      this.sweepSchedule = sweep.schedule;
    }

    // Alarms and dashboard (observability.ts)
    if (props.alarms ?? true) {
      const alarms = createAlarms(this, props, timings);
      this.alarms.push(...alarms.all);
      this.target5xxAlarm = alarms.target5xxAlarm;
      this.unhealthyTasksAlarm = alarms.unhealthyTasksAlarm;
      // A deployment that makes the tasks answer 5xx or fail /health is rolled back even when the
      // new tasks pass their health checks long enough for the circuit breaker.
      this.service.enableDeploymentAlarms(
        [alarms.target5xxAlarm.alarmName, alarms.unhealthyTasksAlarm.alarmName],
        { behavior: ecs.AlarmBehavior.ROLLBACK_ON_ALARM },
      );
    }
    this.dashboard = (props.dashboard ?? true) ? createDashboard(this) : undefined;

    // What a producer and an operator need after `cdk deploy --outputs-file`.
    new CfnOutput(this, 'ServiceUrl', { value: this.serviceUrl, description: 'OCR service base URL (the load balancer)' });
    new CfnOutput(this, 'DocumentsBucketName', { value: this.documentsBucket.bucketName, description: 'Bucket of the documents and their results' });
    new CfnOutput(this, 'StatusTableName', { value: this.table.tableName, description: 'Status table: a PENDING item names a document to OCR' });

    // cdk-nag acknowledgements that depend on every grant above (compliance.ts)
    acknowledgeServiceFindings(this, !!props.encryptionKey, props.textractOutputBuckets ?? []);
  }

  /**
   * Fixed monthly cost of this configuration: its minimum tasks running all month, the load balancer,
   * cache nodes, every KMS key, alarm, dashboard and secret it created, and the CostOptimizedVpc it
   * created. This is the worker kept warm: documents add only their requests while the tasks keep up.
   */
  public estimateMonthlyCost(): OcrServiceCostEstimate {
    return estimateServiceCost(this, this.costInputs);
  }

  /** Let a producer submit documents: upload under the uploads prefix and insert a PENDING item. */
  public grantSubmitDocuments(grantee: iam.IGrantable): iam.Grant {
    this.documentsBucket.grantPut(grantee, `${this.containerEnvironment[OcrServiceEnvironment.UPLOADS_PREFIX]}*`);
    // Items of a table with a customer-managed key are encrypted with the caller's permissions too.
    this.table.encryptionKey?.grantEncryptDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:GetItem');
  }

  /** Let a consumer read statuses and results. */
  public grantReadResults(grantee: iam.IGrantable): iam.Grant {
    this.documentsBucket.grantRead(grantee, `${this.containerEnvironment[OcrServiceEnvironment.RESULTS_PREFIX]}*`);
    this.table.encryptionKey?.grantDecrypt(grantee);
    return this.table.grant(grantee, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
  }

  /** Requests reaching the tasks (Sum). */
  public metricRequestCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.requestCount({ period: Duration.minutes(1), ...props });
  }

  /** Time from the load balancer to the task's response (p99 by default). */
  public metricTargetResponseTime(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1), ...props });
  }

  /** 5xx answers of the tasks (Sum). */
  public metricTarget5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: Duration.minutes(1), ...props });
  }

  /** 5xx answers of the load balancer itself, e.g. 502/503 with no healthy task (Sum). */
  public metricLoadBalancer5xxCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: Duration.minutes(1), ...props });
  }

  /** Tasks failing the `/health` check (Maximum). */
  public metricUnhealthyTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.targetGroup.metrics.unhealthyHostCount({ statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  /** Average CPU of the service's tasks, percent. */
  public metricCpuUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricCpuUtilization({ period: Duration.minutes(1), ...props });
  }

  /** Average memory of the service's tasks, percent. */
  public metricMemoryUtilization(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.service.metricMemoryUtilization({ period: Duration.minutes(1), ...props });
  }

  /** Running tasks (Container Insights). */
  public metricRunningTaskCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: this.cluster.clusterName, ServiceName: this.service.serviceName },
      statistic: 'Average',
      period: Duration.minutes(1),
      ...props,
    });
  }

  /** The queue: items with status PENDING, as counted by the sweep (Maximum). */
  public metricPendingDocuments(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric(OcrServiceMetrics.PENDING_DOCUMENTS, { statistic: 'Maximum', period: Duration.minutes(5), ...props });
  }

  /** Documents the service finished with status SUCCEEDED (the engine's EMF metric, Sum). */
  public metricDocumentsSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric('DocumentsSucceeded', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /** Documents the service finished with status FAILED (the engine's EMF metric, Sum). */
  public metricDocumentsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric('DocumentsFailed', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /**
   * Amazon Textract completion messages the service could not publish to a `NotificationChannel` topic
   * (the engine's EMF metric, Sum): the job's result stands, but its caller is not told.
   */
  public metricTextractNotificationsFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.serviceMetric('TextractNotificationsFailed', { statistic: 'Sum', period: Duration.minutes(5), ...props });
  }

  /** Age of the oldest stream record the trigger has not handled yet (Maximum, ms). */
  public metricStreamIteratorAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.streamHandler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1), ...props });
  }

  private serviceMetric(metricName: string, props: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.metricsNamespace,
      metricName,
      dimensionsMap: { Service: this.metricsServiceName },
      ...props,
    });
  }
}
