import { Size, SizeRoundingBehavior, Token } from 'aws-cdk-lib';
import { MAX_ARRAY_CHILDREN } from './packing';
import { ApiAuthorization, BatchOcrProcessorProps } from './props';
import { LIMITS } from './request';
import { PropChecker } from '../common/errors';
import { fargateSizeProblem } from '../common/fargate-sizes';
import { checkTextractDestinations } from '../common/textract-destinations';

/** The construct's name in synth errors. */
export const CONSTRUCT = 'BatchOcrProcessor';

/** Largest `maxDocumentSize`: S3's largest object. */
const MAX_DOCUMENT_SIZE_CEILING = Size.tebibytes(5);

/** Checks the props that can be checked before any resource exists; a bad one fails the synth naming it. */
export function validateProps(id: string, props: BatchOcrProcessorProps, region: string): void {
  const check = new PropChecker(CONSTRUCT, id);
  check.check(!(props.network && props.vpc), 'vpc', "cannot be combined with 'network' (give one)");
  check.check(!(props.vpcSubnets && !props.vpc), 'vpcSubnets', "needs 'vpc'");
  const imageSources = [props.image && 'image', props.repository && 'repository', props.createRepository && 'createRepository'].filter(Boolean);
  check.check(imageSources.length <= 1, imageSources[1] as string ?? 'image', `cannot be combined with '${imageSources[0]}' (give one image source)`);
  check.check(!(props.imageTag && !props.repository && !props.createRepository), 'imageTag', "needs 'repository' or 'createRepository'");
  check.check(!(props.onDemandOverflow && props.spot === false), 'onDemandOverflow', "only applies with 'spot' (the first compute environment is already on-demand)");
  check.integerInRange('maxvCpus', props.maxvCpus, 1, 10_000);
  const vcpu = props.vcpu ?? 2;
  const memoryMiB = (props.memory ?? Size.gibibytes(4)).toMebibytes();
  if (!Token.isUnresolved(vcpu) && !Token.isUnresolved(memoryMiB)) {
    const size = fargateSizeProblem(vcpu, memoryMiB);
    if (size) check.fail(size.prop === 'cpu' ? 'vcpu' : 'memory', size.problem);
  }
  if (props.maxvCpus !== undefined && props.maxvCpus < vcpu) check.fail('maxvCpus', `must be at least 'vcpu' (${vcpu}), got ${props.maxvCpus}`);
  if (props.ephemeralStorage) check.integerInRange('ephemeralStorage', props.ephemeralStorage.toGibibytes(), 21, 200);
  check.integerInRange('retryAttempts', props.retryAttempts, 1, 10);
  check.integerInRange('workersPerTask', props.workersPerTask, 1, 64);
  for (const [name, value] of [['capacityWaitLimit', props.capacityWaitLimit], ['misconfigurationWaitLimit', props.misconfigurationWaitLimit]] as const) {
    if (value) check.integerInRange(name, value.toSeconds(), 600, 86_400);
  }
  if (props.jobTimeout) check.integerInRange('jobTimeout', props.jobTimeout.toSeconds(), 60, 14 * 86_400);
  if (props.documentTimeout) check.integerInRange('documentTimeout', props.documentTimeout.toSeconds(), 10, 3600);
  check.integerInRange('ocrDpi', props.ocrDpi, LIMITS.minDpi, LIMITS.maxDpi);
  check.integerInRange('maxPagesPerDocument', props.maxPagesPerDocument, 1, LIMITS.maxPagesCeiling);
  if (props.maxDocumentSize) {
    const bytes = props.maxDocumentSize.toBytes({ rounding: SizeRoundingBehavior.NONE });
    const ceiling = MAX_DOCUMENT_SIZE_CEILING.toBytes();
    if (!Token.isUnresolved(bytes)) {
      check.check(Number.isInteger(bytes) && bytes >= 1 && bytes <= ceiling, 'maxDocumentSize', `must be a whole number of bytes from 1 to ${ceiling} (5 TiB), got ${bytes}`);
    }
  }
  check.integerInRange('maxDocumentsPerJob', props.maxDocumentsPerJob, 1, LIMITS.maxDocumentsPerJobCeiling);
  if (props.targetBytesPerChild) {
    const bytes = props.targetBytesPerChild.toBytes({ rounding: SizeRoundingBehavior.NONE });
    const low = Size.mebibytes(1).toBytes();
    const high = Size.gibibytes(100).toBytes();
    if (!Token.isUnresolved(bytes)) {
      check.check(Number.isInteger(bytes) && bytes >= low && bytes <= high, 'targetBytesPerChild', `must be a whole number of bytes from ${low} (1 MiB) to ${high} (100 GiB), got ${bytes}`);
    }
  }
  check.integerInRange('maxDocumentsPerChild', props.maxDocumentsPerChild, 1, MAX_ARRAY_CHILDREN);
  if (props.ocrLanguages) {
    check.check(props.ocrLanguages.length >= 1 && props.ocrLanguages.length <= LIMITS.maxLanguages, 'ocrLanguages', `must list 1 to ${LIMITS.maxLanguages} languages`);
    for (const l of props.ocrLanguages) check.check(/^[a-z]{3,}(_[a-z]+)*$/.test(l), 'ocrLanguages', `has '${l}', not a tesseract language code such as 'eng'`);
  }
  const prefixPattern = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*\/$/;
  for (const [name, value] of [['outputPrefix', props.outputPrefix], ['uploadPrefix', props.uploadPrefix]] as const) {
    if (value !== undefined) check.check(prefixPattern.test(value), name, `must be a relative prefix ending with '/', got '${value}'`);
  }
  const uploadPrefix = props.uploadPrefix ?? 'uploads/';
  for (const prefix of props.allowedInputPrefixes ?? []) {
    check.check(prefix === '' || prefixPattern.test(prefix), 'allowedInputPrefixes', `must hold relative prefixes ending with '/' (or '' for the whole bucket), got '${prefix}'`);
    check.check(!prefix.startsWith(uploadPrefix), 'allowedInputPrefixes', `has '${prefix}', inside 'uploadPrefix' ('${uploadPrefix}'), whose folders belong to their uploaders`);
  }
  check.check(!(props.callerScopedInput && (props.allowedInputPrefixes ?? []).length === 0), 'callerScopedInput', "needs 'allowedInputPrefixes' (uploads are always per caller)");
  if (props.resultExpiration) {
    check.check(!props.outputBucket, 'resultExpiration', "only applies to the created output bucket (set lifecycle rules on your own 'outputBucket')");
    check.integerInRange('resultExpiration', props.resultExpiration.toDays(), 1, 3650);
  }
  const auth = props.authorization ?? ApiAuthorization.IAM;
  check.check(!(auth === ApiAuthorization.COGNITO && !props.userPool), 'userPool', 'is required with ApiAuthorization.COGNITO');
  check.check(!(props.userPool && auth !== ApiAuthorization.COGNITO), 'userPool', 'only applies with ApiAuthorization.COGNITO');
  check.integerInRange('throttlingRateLimit', props.throttlingRateLimit, 1, 10_000);
  check.integerInRange('throttlingBurstLimit', props.throttlingBurstLimit, 1, 5_000);
  if (props.presignedUrlExpiry) check.integerInRange('presignedUrlExpiry', props.presignedUrlExpiry.toSeconds(), 60, 43_200);
  check.check(!(props.corsAllowOrigins && props.corsAllowOrigins.length === 0), 'corsAllowOrigins', 'must list at least one origin');
  for (const origin of props.corsAllowOrigins ?? []) {
    // Browsers send Origin as scheme://host[:port], lower case, no path: the handlers compare it as is.
    check.check(origin === '*' || /^https?:\/\/[a-z0-9.-]+(:[0-9]{1,5})?$/.test(origin), 'corsAllowOrigins', `has '${origin}', not an origin such as 'https://app.example.com' (scheme and host in lower case, no path)`);
  }
  check.check(!(props.corsAllowOrigins?.includes('*') && props.corsAllowOrigins.length > 1), 'corsAllowOrigins', "with '*' (any origin) must list nothing else");
  // Textract's API (and with it NotificationChannel and OutputConfig) is only there with IAM authorization.
  for (const name of ['textractNotificationTopics', 'textractOutputBuckets'] as const) {
    const list = props[name];
    if (list === undefined) continue;
    check.check(auth === ApiAuthorization.IAM, name, "only applies with ApiAuthorization.IAM (Amazon Textract's API is not offered with Cognito)");
    check.check(list.length >= 1 && list.length <= 20, name, `must list 1 to 20 entries, got ${list.length}`);
  }
  // The job state handler publishes and writes with clients of its own region; Textract's message has no message group.
  checkTextractDestinations(check, props, region, 'the job state handler');
  check.check(!(props.privateApiEndpoints && props.privateApiEndpoints.length === 0), 'privateApiEndpoints', 'must list at least one execute-api endpoint');
  if (props.s3Trigger) {
    check.integerInRange('s3Trigger.batchSize', props.s3Trigger.batchSize, 1, Math.min(10_000, props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren));
    if (props.s3Trigger.maxBatchingWindow) check.integerInRange('s3Trigger.maxBatchingWindow', props.s3Trigger.maxBatchingWindow.toSeconds(), 0, 300);
    check.check(!((props.s3Trigger.batchSize ?? 100) > 10 && props.s3Trigger.maxBatchingWindow?.toSeconds() === 0), 's3Trigger.maxBatchingWindow', 'must be at least 1 second when batchSize is above 10 (an SQS event source rule)');
    const outputs = props.s3Trigger.outputs;
    if (outputs !== undefined) {
      check.check(outputs.length > 0, 's3Trigger.outputs', 'must list at least one output (omit it for the JSON result only)');
      check.check(new Set(outputs).size === outputs.length, 's3Trigger.outputs', `must not list an output twice, got [${outputs.join(', ')}]`);
    }
  }
  if (props.gathering) {
    const maxDocuments = Math.min(10_000, props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren);
    check.integerInRange('gathering.maxDocuments', props.gathering.maxDocuments, 1, maxDocuments);
    // Lambda's SQS event sources: a batching window of 0-300 s; batches above 10 need one of at least 1 s.
    if (props.gathering.window) check.integerInRange('gathering.window', props.gathering.window.toSeconds(), 1, 300);
    const gathers = props.gathering.enabled ?? true;
    check.check(gathers || (props.gathering.window === undefined && props.gathering.maxDocuments === undefined), 'gathering', "has 'window' or 'maxDocuments' with 'enabled: false'");
  }
  check.numberInRange('pagesPerVcpuSecond', props.pagesPerVcpuSecond, 0.001, 1000);
}
