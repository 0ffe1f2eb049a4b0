import { Duration, Size, Token } from 'aws-cdk-lib';
import { OcrServiceEnvironment } from './contract';
import { OcrServiceClusterProps } from './props';
import { PropChecker } from '../common/errors';
import { fargateSizeProblem } from '../common/fargate-sizes';
import { DEFAULT_DOCUMENT_TIMEOUT } from '../common/shared-props';
import { checkTextractDestinations } from '../common/textract-destinations';

/** The Fargate task size: `vcpu` and `memory` with their defaults (1 vCPU, 3 GiB). */
export function taskSizeOf(props: OcrServiceClusterProps): { readonly vcpu: number; readonly memoryMiB: number } {
  return { vcpu: props.vcpu ?? 1, memoryMiB: (props.memory ?? Size.gibibytes(3)).toMebibytes() };
}

/** The timings and capacities the construct uses, with their defaults applied. */
export interface Timings {
  readonly requestTimeout: Duration;
  readonly deregistrationDelay: Duration;
  readonly stopTimeout: Duration;
  readonly shutdownGrace: Duration;
  readonly idleTimeout: Duration;
  readonly documentTimeout: Duration;
  readonly handoffTimeout: Duration;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly desiredCount: number;
  readonly cpuScaleOut: number;
  readonly cpuScaleIn: number;
  readonly requestsPerTarget: number;
}

/**
 * The tasks publish and write with clients of their own region, without a message group, so a topic
 * must be a standard topic of the stack's region, a bucket one of that region, named once.
 */
function validateTextractDestinations(check: PropChecker, props: OcrServiceClusterProps, region: string): void {
  checkTextractDestinations(check, props, region, 'the service');
  const bucketNames = (props.textractOutputBuckets ?? []).map((b) => b.bucketName).filter((n) => !Token.isUnresolved(n));
  const twice = bucketNames.find((n, i) => bucketNames.indexOf(n) !== i);
  if (twice) check.fail('textractOutputBuckets', `names bucket '${twice}' twice`);
}

/** Every prop rule that does not need the constructed resources; returns the checked timings. */
export function validateProps(check: PropChecker, props: OcrServiceClusterProps, region: string): Timings {
  if (props.network && props.vpc) check.fail('vpc', 'and \'network\' are mutually exclusive');
  const vpcIdsKnown = props.cluster && props.vpc && !Token.isUnresolved(props.vpc.vpcId) && !Token.isUnresolved(props.cluster.vpc.vpcId);
  if (vpcIdsKnown && props.cluster!.vpc.vpcId !== props.vpc!.vpcId) {
    check.fail('cluster', 'must be in \'vpc\'');
  }
  if (props.cluster && props.network && props.cluster.vpc !== props.network.vpc) check.fail('cluster', 'must be in \'network.vpc\'');

  const seconds = (name: string, value: Duration | undefined, fallback: number, min: number, max: number): Duration => {
    const d = value ?? Duration.seconds(fallback);
    if (!Token.isUnresolved(d.toSeconds({ integral: false }))) {
      const s = d.toSeconds({ integral: false });
      if (!Number.isInteger(s) || s < min || s > max) check.fail(name, `must be a whole number of seconds from ${min} to ${max}, got ${s}`);
    }
    return d;
  };
  const stopTimeout = seconds('stopTimeout', props.stopTimeout, 120, 2, 120);
  const requestTimeout = seconds('requestTimeout', props.requestTimeout, 30, 1, 118);
  const deregistrationDelay = seconds('deregistrationDelay', props.deregistrationDelay, 60, 0, 119);
  const shutdownGrace = seconds('shutdownGrace', props.shutdownGrace, Math.max(stopTimeout.toSeconds() - 20, 1), 1, 119);
  const idleTimeout = seconds('idleTimeout', props.idleTimeout, 60, 1, 4000);
  const documentTimeout = seconds('documentTimeout', props.documentTimeout, DEFAULT_DOCUMENT_TIMEOUT.toSeconds(), 1, 3600);
  const handoffTimeout = seconds('handoffTimeout', props.handoffTimeout, 10, 1, 60);
  seconds('healthCheckGracePeriod', props.healthCheckGracePeriod, 120, 0, 2147483647);
  seconds('sweepInterval', props.sweepInterval, 300, 60, 86400);
  seconds('stalePendingAfter', props.stalePendingAfter, 600, 60, 86400);
  if (requestTimeout.toSeconds() >= deregistrationDelay.toSeconds()) {
    check.fail('requestTimeout', `(${requestTimeout.toSeconds()} s) must be less than 'deregistrationDelay' (${deregistrationDelay.toSeconds()} s), so that in-flight requests finish before a task leaves the target group`);
  }
  if (shutdownGrace.toSeconds() >= stopTimeout.toSeconds()) {
    check.fail('shutdownGrace', `(${shutdownGrace.toSeconds()} s) must be less than 'stopTimeout' (${stopTimeout.toSeconds()} s), so that work is handed back before SIGKILL`);
  }
  if (requestTimeout.toSeconds() > shutdownGrace.toSeconds()) {
    check.fail('requestTimeout', `(${requestTimeout.toSeconds()} s) must not exceed 'shutdownGrace' (${shutdownGrace.toSeconds()} s): a request accepted just before SIGTERM must be able to finish`);
  }
  if (requestTimeout.toSeconds() >= idleTimeout.toSeconds()) {
    check.fail('idleTimeout', `(${idleTimeout.toSeconds()} s) must be greater than 'requestTimeout' (${requestTimeout.toSeconds()} s)`);
  }

  const taskSize = taskSizeOf(props);
  if (!Token.isUnresolved(taskSize.vcpu) && !Token.isUnresolved(taskSize.memoryMiB)) {
    const problem = fargateSizeProblem(taskSize.vcpu, taskSize.memoryMiB);
    if (problem) check.fail(problem.prop === 'cpu' ? 'vcpu' : 'memory', problem.problem);
  }
  check.integerInRange('containerPort', props.containerPort, 1024, 65535);
  check.integerInRange('workersPerTask', props.workersPerTask, 1, 64);
  check.integerInRange('minCapacity', props.minCapacity, 0, 1000);
  check.integerInRange('maxCapacity', props.maxCapacity, 1, 1000);
  check.integerInRange('desiredCount', props.desiredCount, 0, 1000);
  check.integerInRange('cpuScaleOutPercent', props.cpuScaleOutPercent, 2, 100);
  check.integerInRange('cpuScaleInPercent', props.cpuScaleInPercent, 1, 99);
  check.integerInRange('requestsPerTargetPerMinute', props.requestsPerTargetPerMinute, 1, 1_000_000);
  check.integerInRange('streamRetryAttempts', props.streamRetryAttempts, 0, 10_000);
  check.integerInRange('streamBatchSize', props.streamBatchSize, 1, 100);
  const minCapacity = props.minCapacity ?? 1;
  const maxCapacity = props.maxCapacity ?? 3;
  const desiredCount = props.desiredCount ?? Math.min(Math.max(2, minCapacity), maxCapacity);
  if (minCapacity > maxCapacity) check.fail('minCapacity', `(${minCapacity}) must not exceed 'maxCapacity' (${maxCapacity})`);
  if (desiredCount < minCapacity || desiredCount > maxCapacity) {
    check.fail('desiredCount', `must be from 'minCapacity' (${minCapacity}) to 'maxCapacity' (${maxCapacity}), got ${desiredCount}`);
  }
  const cpuScaleOut = props.cpuScaleOutPercent ?? 70;
  const cpuScaleIn = props.cpuScaleInPercent ?? 30;
  if (cpuScaleIn >= cpuScaleOut) check.fail('cpuScaleInPercent', `(${cpuScaleIn}) must be less than 'cpuScaleOutPercent' (${cpuScaleOut})`);
  if (props.ocrLanguages !== undefined) {
    if (props.ocrLanguages.length === 0) check.fail('ocrLanguages', "must list at least one tesseract language code, e.g. ['eng']");
    for (const language of props.ocrLanguages) {
      if (Token.isUnresolved(language)) continue;
      if (!/^[a-z]{3,}(_[a-z]+)*$/.test(language)) check.fail('ocrLanguages', `must hold tesseract language codes such as 'eng' or 'chi_sim', got '${language}'`);
    }
  }
  if (props.sweep === true && props.table && props.statusIndexName === undefined) {
    check.fail('sweep', 'needs \'statusIndexName\' (an index of your table with partition key \'status\')');
  }
  for (const prefix of ['uploadsPrefix', 'resultsPrefix'] as const) {
    const value = props[prefix];
    if (value !== undefined && !/^[A-Za-z0-9!_.*'()\-/]+\/$/.test(value)) check.fail(prefix, `must be a non-empty S3 key prefix ending with '/', got '${value}'`);
  }
  if (props.uploadsPrefix !== undefined && props.uploadsPrefix === (props.resultsPrefix ?? 'results/')) {
    check.fail('uploadsPrefix', 'must differ from \'resultsPrefix\'');
  }

  // Exposure and authentication.
  const authentications = [
    props.jwtAuthentication && 'jwtAuthentication', props.oidcAuthentication && 'oidcAuthentication', props.cognitoAuthentication && 'cognitoAuthentication',
  ].filter((x): x is string => !!x);
  if (authentications.length > 1) check.fail(authentications[0], `and '${authentications.slice(1).join('\', \'')}' are mutually exclusive`);
  const authenticated = authentications.length > 0;
  if (authenticated && !props.certificate) check.fail('certificate', 'is required for authentication on the load balancer (authentication runs on HTTPS listeners only)');
  if (props.internetFacing) {
    if (!props.certificate) check.fail('certificate', 'is required when \'internetFacing\' is true: the service is not put on the internet over plain HTTP');
    if (!authenticated && !props.allowUnauthenticatedAccess) {
      check.fail('internetFacing', 'requires \'jwtAuthentication\', \'oidcAuthentication\' or \'cognitoAuthentication\' on the load balancer; set \'allowUnauthenticatedAccess: true\' to opt out explicitly');
    }
  } else if (props.allowUnauthenticatedAccess) {
    check.fail('allowUnauthenticatedAccess', 'only applies when \'internetFacing\' is true');
  }
  if (props.certificate && !props.internetFacing && !props.domainName) {
    check.fail('domainName', 'is required with \'certificate\' on an internal load balancer: the stream handler calls the service by the name the certificate covers');
  }
  if (props.cache) {
    check.integerInRange('cache.replicas', props.cache.replicas, 0, 5);
    check.integerInRange('cache.snapshotRetentionDays', props.cache.snapshotRetentionDays, 0, 35);
  }
  validateTextractDestinations(check, props, region);
  const contractVariables = new Set(Object.entries(OcrServiceEnvironment).filter(([k]) => k !== 'MODE_SERVICE').map(([, v]) => String(v)));
  for (const prop of ['secrets', 'environment'] as const) {
    for (const name of Object.keys(props[prop] ?? {})) {
      if (contractVariables.has(name)) check.fail(prop, `must not set the contract variable '${name}': the construct sets it (use the matching prop)`);
    }
  }
  return {
    requestTimeout,
    deregistrationDelay,
    stopTimeout,
    shutdownGrace,
    idleTimeout,
    documentTimeout,
    handoffTimeout,
    minCapacity,
    maxCapacity,
    desiredCount,
    cpuScaleOut,
    cpuScaleIn,
    requestsPerTarget: props.requestsPerTargetPerMinute ?? 300,
  };
}
