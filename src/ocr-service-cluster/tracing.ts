import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import * as ecr_assets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { OcrServiceClusterProps } from './props';
import { workerImagePlatform } from '../common/worker-image';

/** The collector image's build context: a Dockerfile FROM the ADOT collector on public.ecr.aws. */
export const COLLECTOR_DIRECTORY = path.join(__dirname, '..', '..', 'assets', 'otel-collector');

/**
 * Where the service sends its spans: the collector's OTLP/HTTP receiver, on the loopback interface
 * that the containers of a Fargate task share (awsvpc network mode), so nothing outside the task
 * reaches it.
 */
export const OTLP_TRACES_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';

/** Memory of the collector unless `tracing.memoryLimitMiB` says otherwise. */
export const COLLECTOR_MEMORY_MIB = 256;

/** Span attributes the collector turns into X-Ray annotations (searchable, e.g. `annotation.ocr_document_id = "..."`). */
export const INDEXED_SPAN_ATTRIBUTES = ['ocr.document_id', 'ocr.status', 'ocr.error_code'];

/** Whether the tasks trace: on unless `tracing.enabled` is false. */
export function tracingEnabled(props: OcrServiceClusterProps): boolean {
  return props.tracing?.enabled ?? true;
}

/** Memory the collector takes from the task (0 without tracing). */
export function collectorMemoryMiB(props: OcrServiceClusterProps): number {
  return tracingEnabled(props) ? props.tracing?.memoryLimitMiB ?? COLLECTOR_MEMORY_MIB : 0;
}

/**
 * The collector's configuration: OTLP/HTTP in on 127.0.0.1:4318, batched, out to X-Ray with the
 * `awsxray` exporter (PutTraceSegments), which converts OpenTelemetry spans into segments. JSON, which
 * the collector reads as YAML.
 *
 * Exporter: https://aws-otel.github.io/docs/getting-started/x-ray (X-Ray exporter of the ADOT collector);
 * `indexed_attributes` turns the listed span attributes into X-Ray annotations.
 */
export function collectorConfig(region: string): string {
  return JSON.stringify({
    receivers: { otlp: { protocols: { http: { endpoint: '127.0.0.1:4318' } } } },
    processors: { batch: {} },
    exporters: { awsxray: { region, indexed_attributes: INDEXED_SPAN_ATTRIBUTES } },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['awsxray'] } } },
  });
}

/**
 * Why an image cannot be the collector, or undefined. The X-Ray daemon, the sidecar of earlier
 * versions, receives X-Ray segments over UDP only, not OTLP: with it the service's spans would be lost.
 */
export function collectorImageProblem(imageName: string): string | undefined {
  return /aws-xray-daemon(:|@|$)/.test(imageName)
    ? 'is the X-Ray daemon, which does not receive OpenTelemetry (OTLP): use the ADOT collector image (the default), e.g. aws-observability/aws-otel-collector through your pull-through cache'
    : undefined;
}

/**
 * The ADOT collector beside the service container, and the task role's right to send segments.
 * Non-essential: a collector that stops costs traces, never the service.
 */
export function addTracingCollector(
  scope: Construct, taskDefinition: ecs.FargateTaskDefinition, props: OcrServiceClusterProps, logGroup: logs.ILogGroup,
): ecs.ContainerDefinition {
  const tracing = props.tracing ?? {};
  const memoryLimitMiB = collectorMemoryMiB(props);
  const image = tracing.image ?? ecs.ContainerImage.fromDockerImageAsset(new ecr_assets.DockerImageAsset(scope, 'TracingCollectorImage', {
    directory: COLLECTOR_DIRECTORY,
    platform: workerImagePlatform(props.cpuArchitecture),
  }));
  const container = taskDefinition.addContainer('Tracing', {
    image,
    essential: false,
    cpu: tracing.cpu ?? 32,
    memoryLimitMiB,
    // ADOT reads its whole configuration from this variable (https://aws-otel.github.io/docs/setup/ecs).
    environment: {
      AOT_CONFIG_CONTENT: collectorConfig(Stack.of(scope).region),
      // Go's soft memory limit, below the container's hard one: the collector collects garbage
      // before ECS would stop it.
      GOMEMLIMIT: `${Math.floor(memoryLimitMiB * 0.8)}MiB`,
    },
    // The collector listens on the loopback interface and calls X-Ray: it needs neither root nor a
    // writable root filesystem (AWS Control Tower's CT.ECS.PR.3 and PR.6).
    user: '1000:1000',
    readonlyRootFilesystem: true,
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'tracing', logGroup, mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
  });
  // The awsxray exporter calls PutTraceSegments only; X-Ray actions support no resource-level
  // permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html).
  taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['xray:PutTraceSegments'],
    resources: ['*'],
  }));
  return container;
}
