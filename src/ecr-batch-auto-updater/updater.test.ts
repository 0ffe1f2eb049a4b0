/* eslint-disable import/no-extraneous-dependencies -- test code: the SDK clients and mocks are devDependencies bundled into the handlers */
import { BatchClient, DescribeJobDefinitionsCommand, JobDefinition, RegisterJobDefinitionCommand } from '@aws-sdk/client-batch';
import { DescribeImagesCommand, ECRClient } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { copyWithNewImage, DIGEST_TAG, FIELD_HANDLING, repositoryOf, UPDATED_AT_TAG, UPDATED_FROM_TAG } from './job-definition-copy';
import { handleMessage, handlePush, jobDefinitionNameOf, reconcile, resolveDesiredImage, tagMatcher, UpdaterConfig, UpdaterLog } from './updater';
import { handler } from './updater.lambda';

const REPO_URI = '123456789012.dkr.ecr.us-east-1.amazonaws.com/ocr-worker';
const OLD_DIGEST = 'sha256:' + 'a'.repeat(64);
const NEW_DIGEST = 'sha256:' + 'b'.repeat(64);
const NOW = new Date('2026-11-23T01:00:00.000Z');

const batchMock = mockClient(BatchClient);
const ecrMock = mockClient(ECRClient);
const clients = { batch: new BatchClient({}), ecr: new ECRClient({}) };

const config: UpdaterConfig = {
  repositoryName: 'ocr-worker',
  repositoryUri: REPO_URI,
  jobDefinitions: ['ocr-job'],
  imageTags: ['latest'],
};

interface LogLine { level: string; message: string; extra?: Record<string, unknown> }
function recorder(): UpdaterLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (message, extra) => lines.push({ level: 'info', message, extra }),
    warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
    error: (message, extra) => lines.push({ level: 'error', message, extra }),
  };
}

/** A realistic single-container Fargate definition as DescribeJobDefinitions returns it. */
function containerDefinition(revision: number, image: string, name = 'ocr-job'): JobDefinition {
  return {
    jobDefinitionName: name,
    jobDefinitionArn: `arn:aws:batch:us-east-1:123456789012:job-definition/${name}:${revision}`,
    revision,
    status: 'ACTIVE',
    type: 'container',
    containerOrchestrationType: 'ECS',
    parameters: { inputKey: 'none' },
    retryStrategy: { attempts: 3, evaluateOnExit: [{ onExitCode: '75', action: 'RETRY' }, { onReason: '*', action: 'EXIT' }] },
    timeout: { attemptDurationSeconds: 3600 },
    propagateTags: true,
    platformCapabilities: ['FARGATE'],
    tags: { 'team': 'ocr', 'aws:cloudformation:stack-name': 'OcrStack' },
    containerProperties: {
      image,
      command: ['node', 'dist/main.js'],
      jobRoleArn: 'arn:aws:iam::123456789012:role/ocr-job-role',
      executionRoleArn: 'arn:aws:iam::123456789012:role/ocr-exec-role',
      resourceRequirements: [{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }],
      environment: [{ name: 'OCR_LANGUAGES', value: 'eng' }],
      logConfiguration: { logDriver: 'awslogs', options: { 'awslogs-group': '/ocr' } },
      networkConfiguration: { assignPublicIp: 'DISABLED' },
      fargatePlatformConfiguration: { platformVersion: 'LATEST' },
      readonlyRootFilesystem: true,
      runtimePlatform: { cpuArchitecture: 'X86_64', operatingSystemFamily: 'LINUX' },
      ephemeralStorage: { sizeInGiB: 30 },
    },
  };
}

function mockRevisions(name: string, defs: JobDefinition[]) {
  batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: name }).resolves({ jobDefinitions: defs });
}

function mockImage(digest: string, tags: string[], pushedAt = NOW) {
  const detail = { repositoryName: 'ocr-worker', imageDigest: digest, imageTags: tags, imagePushedAt: pushedAt };
  ecrMock.on(DescribeImagesCommand, { imageIds: [{ imageDigest: digest }] }).resolves({ imageDetails: [detail] });
  for (const tag of tags) ecrMock.on(DescribeImagesCommand, { imageIds: [{ imageTag: tag }] }).resolves({ imageDetails: [detail] });
}

function pushEvent(digest: string, tag = 'latest', repository = 'ocr-worker') {
  return {
    'version': '0',
    'id': 'a4f9f3d4-1d7a-4f0b-9d51-2d3c7e8f9a10',
    'source': 'aws.ecr',
    'detail-type': 'ECR Image Action',
    'account': '123456789012',
    'region': 'us-east-1',
    'time': NOW.toISOString(),
    'resources': [],
    'detail': { 'result': 'SUCCESS', 'repository-name': repository, 'image-digest': digest, 'action-type': 'PUSH', 'image-tag': tag },
  };
}

beforeEach(() => {
  batchMock.reset();
  ecrMock.reset();
  batchMock.on(RegisterJobDefinitionCommand).callsFake((input) => ({ jobDefinitionName: input.jobDefinitionName, revision: 99, jobDefinitionArn: `arn:x:${input.jobDefinitionName}:99` }));
});

describe('job definition copy', () => {
  test('GIVEN a definition that sets every field of the SDK type WHEN copied THEN the input equals it except output-only fields, the image and tags', () => {
    // Not a definition Batch would accept (it sets container, ECS, EKS and node properties at once),
    // but it exercises every field the SDK knows.
    const container = containerDefinition(7, `${REPO_URI}:latest`);
    const full: Required<JobDefinition> = {
      ...(container as Required<JobDefinition>),
      schedulingPriority: 10,
      consumableResourceProperties: { consumableResourceList: [{ consumableResource: 'arn:aws:batch:us-east-1:123456789012:consumable-resource/licences', quantity: 1 }] },
      ecsProperties: {
        taskProperties: [{
          containers: [
            { name: 'ocr', image: `${REPO_URI}:latest`, essential: true, resourceRequirements: [{ type: 'VCPU', value: '1' }] },
            { name: 'xray', image: 'public.ecr.aws/xray/aws-xray-daemon:3.3.14', essential: false },
          ],
          taskRoleArn: 'arn:aws:iam::123456789012:role/task',
          executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
          platformVersion: 'LATEST',
        }],
      },
      eksProperties: {
        podProperties: {
          serviceAccountName: 'ocr',
          containers: [{ name: 'ocr', image: `${REPO_URI}@${OLD_DIGEST}` }],
          initContainers: [{ name: 'init', image: 'busybox:1.36' }],
        },
      },
      nodeProperties: {
        numNodes: 2,
        mainNode: 0,
        nodeRangeProperties: [{ targetNodes: '0:1', container: { image: `${REPO_URI}:latest`, command: ['run'] } }],
      },
    };
    // The fixture really sets every field the SDK knows, so a new SDK field fails this test too.
    expect(Object.keys(full).sort()).toEqual(Object.keys(FIELD_HANDLING).sort());
    const newImage = `${REPO_URI}@${NEW_DIGEST}`;

    const input = copyWithNewImage(full, { repositoryUri: REPO_URI, newImage, digest: NEW_DIGEST, now: NOW });

    const expected = structuredClone(full) as Record<string, any>;
    delete expected.jobDefinitionArn;
    delete expected.revision;
    delete expected.status;
    delete expected.containerOrchestrationType;
    expected.containerProperties.image = newImage;
    expected.ecsProperties.taskProperties[0].containers[0].image = newImage;
    expected.eksProperties.podProperties.containers[0].image = newImage;
    expected.nodeProperties.nodeRangeProperties[0].container.image = newImage;
    expected.tags = { team: 'ocr', [DIGEST_TAG]: NEW_DIGEST, [UPDATED_AT_TAG]: NOW.toISOString(), [UPDATED_FROM_TAG]: '7' };
    expect(input).toEqual(expected);
    // Images of other repositories (sidecars, init containers) are untouched, and the source is not mutated.
    expect(input.ecsProperties?.taskProperties?.[0].containers?.[1].image).toBe('public.ecr.aws/xray/aws-xray-daemon:3.3.14');
    expect(input.eksProperties?.podProperties?.initContainers?.[0].image).toBe('busybox:1.36');
    expect(full.containerProperties.image).toBe(`${REPO_URI}:latest`);
  });

  test('GIVEN image references WHEN the repository part is taken THEN tags and digests are stripped but registry ports kept', () => {
    expect(repositoryOf(`${REPO_URI}:latest`)).toBe(REPO_URI);
    expect(repositoryOf(`${REPO_URI}@${OLD_DIGEST}`)).toBe(REPO_URI);
    expect(repositoryOf(REPO_URI)).toBe(REPO_URI);
    expect(repositoryOf('localhost:5000/ocr:v1')).toBe('localhost:5000/ocr');
  });

  test('GIVEN names, versioned names and ARNs WHEN the job definition name is taken THEN the family name results', () => {
    expect(jobDefinitionNameOf('ocr-job')).toBe('ocr-job');
    expect(jobDefinitionNameOf('ocr-job:3')).toBe('ocr-job');
    expect(jobDefinitionNameOf('arn:aws:batch:us-east-1:123456789012:job-definition/ocr-job:3')).toBe('ocr-job');
  });

  test('GIVEN tag patterns WHEN matched THEN * matches any run and everything else is literal', () => {
    const matches = tagMatcher(['latest', 'release-*', 'v1.?']);
    expect(matches('latest')).toBe(true);
    expect(matches('latest2')).toBe(false);
    expect(matches('release-2026.11')).toBe(true);
    expect(matches('v1.?')).toBe(true);
    expect(matches('v1.2')).toBe(false);
  });
});

describe('ECR push', () => {
  test('GIVEN a push of the tracked tag WHEN handled THEN a revision pinned to the digest is registered with everything else copied', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(3, `${REPO_URI}:latest`), containerDefinition(4, `${REPO_URI}@${OLD_DIGEST}`)]);
    const log = recorder();

    const summary = await handleMessage(pushEvent(NEW_DIGEST), config, clients, log, NOW);

    expect(summary.outcomes).toEqual([expect.objectContaining({ jobDefinition: 'ocr-job', status: 'applied', fromRevision: 4, newRevision: 99, image: `${REPO_URI}@${NEW_DIGEST}` })]);
    const registered = batchMock.commandCalls(RegisterJobDefinitionCommand);
    expect(registered).toHaveLength(1);
    const input = registered[0].args[0].input;
    const expected = copyWithNewImage(containerDefinition(4, `${REPO_URI}@${OLD_DIGEST}`), { repositoryUri: REPO_URI, newImage: `${REPO_URI}@${NEW_DIGEST}`, digest: NEW_DIGEST, now: NOW });
    expect(input).toEqual(expected);
    expect(input.containerProperties?.image).toBe(`${REPO_URI}@${NEW_DIGEST}`);
    expect(input.containerProperties?.resourceRequirements).toEqual([{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }]);
    expect(input.tags).not.toHaveProperty('aws:cloudformation:stack-name');
    // The image was verified by digest before anything was registered.
    expect(ecrMock.commandCalls(DescribeImagesCommand, { imageIds: [{ imageDigest: NEW_DIGEST }] })).toHaveLength(1);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'job definition applied' }));
  });

  test('GIVEN an ECS-properties definition with a sidecar WHEN a push is handled THEN only the container from the repository changes', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    const ecsDefinition: JobDefinition = {
      jobDefinitionName: 'ocr-job',
      jobDefinitionArn: 'arn:aws:batch:us-east-1:123456789012:job-definition/ocr-job:2',
      revision: 2,
      status: 'ACTIVE',
      type: 'container',
      containerOrchestrationType: 'ECS',
      platformCapabilities: ['FARGATE'],
      ecsProperties: {
        taskProperties: [{
          executionRoleArn: 'arn:aws:iam::123456789012:role/exec',
          taskRoleArn: 'arn:aws:iam::123456789012:role/task',
          containers: [
            { name: 'ocr', image: `${REPO_URI}:latest`, essential: true, resourceRequirements: [{ type: 'VCPU', value: '2' }, { type: 'MEMORY', value: '4096' }] },
            { name: 'log-router', image: 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable', essential: false, firelensConfiguration: { type: 'fluentbit' } },
          ],
        }],
      },
    };
    mockRevisions('ocr-job', [ecsDefinition]);

    const summary = await handleMessage(pushEvent(NEW_DIGEST), config, clients, recorder(), NOW);

    expect(summary.outcomes[0].status).toBe('applied');
    const containers = batchMock.commandCalls(RegisterJobDefinitionCommand)[0].args[0].input.ecsProperties?.taskProperties?.[0].containers;
    expect(containers?.map((c) => c.image)).toEqual([`${REPO_URI}@${NEW_DIGEST}`, 'public.ecr.aws/aws-observability/aws-for-fluent-bit:stable']);
    expect(containers?.[1].firelensConfiguration).toEqual({ type: 'fluentbit' });
  });

  test('GIVEN the same event replayed WHEN the newest revision already runs the digest THEN nothing is registered', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(4, `${REPO_URI}@${OLD_DIGEST}`), containerDefinition(5, `${REPO_URI}@${NEW_DIGEST}`)]);

    const summary = await handleMessage(pushEvent(NEW_DIGEST), config, clients, recorder(), NOW);

    expect(summary.outcomes).toEqual([expect.objectContaining({ status: 'skipped', fromRevision: 5 })]);
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(0);
  });

  test('GIVEN a push with a tag that is not tracked WHEN handled THEN it is ignored without any AWS call', async () => {
    const summary = await handleMessage(pushEvent(NEW_DIGEST, 'feature-x'), config, clients, recorder(), NOW);

    expect(summary.ignored).toBe('tag not tracked');
    expect(batchMock.calls()).toHaveLength(0);
    expect(ecrMock.calls()).toHaveLength(0);
  });

  test('GIVEN a push to another repository or a failed push WHEN handled THEN it is ignored', async () => {
    expect((await handleMessage(pushEvent(NEW_DIGEST, 'latest', 'other'), config, clients, recorder(), NOW)).ignored).toBe('other repository');
    const failed = pushEvent(NEW_DIGEST);
    failed.detail.result = 'FAILURE';
    expect((await handleMessage(failed, config, clients, recorder(), NOW)).ignored).toBe('not a successful push');
    expect(batchMock.calls()).toHaveLength(0);
  });

  test('GIVEN the pushed digest no longer exists WHEN handled THEN nothing is registered', async () => {
    const notFound = Object.assign(new Error('image not found'), { name: 'ImageNotFoundException' });
    ecrMock.on(DescribeImagesCommand).rejects(notFound);

    const summary = await handlePush(pushEvent(NEW_DIGEST).detail, config, clients, recorder(), NOW);

    expect(summary.ignored).toBe('image no longer exists');
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(0);
  });

  test('GIVEN an event delivered after a newer push WHEN handled THEN the job definition converges on the newer digest', async () => {
    mockImage(OLD_DIGEST, [], new Date('2026-11-23T00:00:00Z'));
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(4, `${REPO_URI}@${NEW_DIGEST}`)]);
    const log = recorder();

    const summary = await handleMessage(pushEvent(OLD_DIGEST), config, clients, log, NOW);

    expect(summary.outcomes).toEqual([expect.objectContaining({ status: 'skipped' })]);
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(0);
    expect(log.lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'a newer tracked image exists; using it' }));
  });

  test('GIVEN two job definitions of which one fails WHEN a push is handled THEN the other is still updated and the failure reported', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(4, `${REPO_URI}@${OLD_DIGEST}`)]);
    batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: 'broken-job' }).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    mockRevisions('foreign-job', [containerDefinition(1, 'public.ecr.aws/other/image:1', 'foreign-job')]);
    const multi = { ...config, jobDefinitions: ['broken-job', 'arn:aws:batch:us-east-1:123456789012:job-definition/ocr-job:4', 'foreign-job'] };
    const log = recorder();

    const summary = await handleMessage(pushEvent(NEW_DIGEST), multi, clients, log, NOW);

    expect(summary.outcomes.map((o) => [o.jobDefinition, o.status])).toEqual([['broken-job', 'failed'], ['ocr-job', 'applied'], ['foreign-job', 'failed']]);
    expect(summary.outcomes[0].reason).toMatch(/TooManyRequestsException: Rate exceeded/);
    expect(summary.outcomes[2].reason).toMatch(/no container of revision 1 uses/);
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(1);
    expect(log.lines.filter((l) => l.level === 'error')).toHaveLength(2);
  });

  test('GIVEN revisions spread over several pages WHEN the newest ACTIVE revision is read THEN all pages are read', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: 'ocr-job', nextToken: undefined })
      .resolves({ jobDefinitions: [containerDefinition(1, `${REPO_URI}@${OLD_DIGEST}`)], nextToken: 'page2' });
    batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: 'ocr-job', nextToken: 'page2' })
      .resolves({ jobDefinitions: [containerDefinition(12, `${REPO_URI}@${OLD_DIGEST}`), containerDefinition(2, `${REPO_URI}@${OLD_DIGEST}`)] });

    const summary = await handleMessage(pushEvent(NEW_DIGEST), config, clients, recorder(), NOW);

    expect(summary.outcomes[0]).toEqual(expect.objectContaining({ status: 'applied', fromRevision: 12 }));
    expect(batchMock.commandCalls(DescribeJobDefinitionsCommand)).toHaveLength(2);
    expect(batchMock.commandCalls(DescribeJobDefinitionsCommand)[0].args[0].input).toEqual(expect.objectContaining({ status: 'ACTIVE' }));
  });

  test('GIVEN a job definition with no ACTIVE revision WHEN a push is handled THEN it is reported as failed', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', []);

    const summary = await handleMessage(pushEvent(NEW_DIGEST), config, clients, recorder(), NOW);

    expect(summary.outcomes).toEqual([expect.objectContaining({ status: 'failed', reason: 'no ACTIVE revision found' })]);
  });
});

describe('reconciliation', () => {
  test('GIVEN CloudFormation re-registered the template image (silent rollback) WHEN reconciling THEN a revision with the tag digest is registered', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    // Revision 6 was registered by a `cdk deploy` with the template's image reference.
    mockRevisions('ocr-job', [containerDefinition(5, `${REPO_URI}@${NEW_DIGEST}`), containerDefinition(6, `${REPO_URI}:latest`)]);

    const summary = await handleMessage({ action: 'reconcile' }, config, clients, recorder(), NOW);

    expect(summary).toEqual({ trigger: 'reconcile', outcomes: [expect.objectContaining({ status: 'applied', fromRevision: 6 })] });
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)[0].args[0].input.containerProperties?.image).toBe(`${REPO_URI}@${NEW_DIGEST}`);
  });

  test('GIVEN a rollback to an older digest WHEN reconciling THEN the tag digest is restored', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(8, `${REPO_URI}@${OLD_DIGEST}`)]);

    const summary = await reconcile(config, clients, recorder(), NOW);

    expect(summary.outcomes[0]).toEqual(expect.objectContaining({ status: 'applied', newRevision: 99 }));
  });

  test('GIVEN no drift WHEN reconciling THEN nothing is registered', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(8, `${REPO_URI}@${NEW_DIGEST}`)]);

    const summary = await reconcile(config, clients, recorder(), NOW);

    expect(summary.outcomes[0].status).toBe('skipped');
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(0);
  });

  test('GIVEN the tracked tag does not exist WHEN reconciling THEN nothing is touched', async () => {
    ecrMock.on(DescribeImagesCommand).rejects(Object.assign(new Error('not found'), { name: 'ImageNotFoundException' }));

    const summary = await reconcile(config, clients, recorder(), NOW);

    expect(summary.ignored).toBe('no image with a tracked tag');
    expect(batchMock.calls()).toHaveLength(0);
  });

  test('GIVEN tag patterns WHEN the desired image is resolved THEN every page is read and the newest matching push wins', async () => {
    ecrMock.on(DescribeImagesCommand, { nextToken: undefined }).resolves({
      imageDetails: [
        { imageDigest: OLD_DIGEST, imageTags: ['release-1'], imagePushedAt: new Date('2026-11-01T00:00:00Z') },
        { imageDigest: 'sha256:' + 'c'.repeat(64), imageTags: ['dev-9'], imagePushedAt: new Date('2026-11-22T00:00:00Z') },
      ],
      nextToken: 'p2',
    });
    ecrMock.on(DescribeImagesCommand, { nextToken: 'p2' }).resolves({
      imageDetails: [{ imageDigest: NEW_DIGEST, imageTags: ['release-2'], imagePushedAt: new Date('2026-11-10T00:00:00Z') }],
    });

    const desired = await resolveDesiredImage({ ...config, imageTags: ['release-*'] }, clients.ecr);

    expect(desired?.imageDigest).toBe(NEW_DIGEST);
    expect(ecrMock.commandCalls(DescribeImagesCommand)[0].args[0].input).toEqual(expect.objectContaining({ filter: { tagStatus: 'TAGGED' } }));
  });

  test('GIVEN an unrecognised message WHEN handled THEN it is ignored', async () => {
    const summary = await handleMessage({ hello: 'world' }, config, clients, recorder(), NOW);
    expect(summary.ignored).toBe('unrecognised message');
    expect(batchMock.calls()).toHaveLength(0);
  });
});

describe('Lambda entry point', () => {
  const env = { ...process.env };
  beforeEach(() => {
    process.env.REPOSITORY_NAME = 'ocr-worker';
    process.env.REPOSITORY_URI = REPO_URI;
    process.env.JOB_DEFINITIONS = JSON.stringify(['ocr-job', 'missing-job']);
    process.env.IMAGE_TAGS = JSON.stringify(['latest']);
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });
  afterAll(() => { process.env = env; });

  function sqsEvent(body: unknown) {
    return { Records: [{ messageId: 'm1', body: JSON.stringify(body) }] } as any;
  }

  test('GIVEN one job definition fails WHEN the message is handled THEN the invocation fails so the message is retried, and the other is updated', async () => {
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(4, `${REPO_URI}@${OLD_DIGEST}`)]);
    mockRevisions('missing-job', []);

    await expect(handler(sqsEvent(pushEvent(NEW_DIGEST)))).rejects.toThrow(/missing-job: no ACTIVE revision found/);
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(1);
  });

  test('GIVEN every job definition is up to date WHEN a replayed message is handled THEN the invocation succeeds', async () => {
    process.env.JOB_DEFINITIONS = JSON.stringify(['ocr-job']);
    mockImage(NEW_DIGEST, ['latest']);
    mockRevisions('ocr-job', [containerDefinition(4, `${REPO_URI}@${NEW_DIGEST}`)]);

    await expect(handler(sqsEvent(pushEvent(NEW_DIGEST)))).resolves.toBeUndefined();
    expect(batchMock.commandCalls(RegisterJobDefinitionCommand)).toHaveLength(0);
  });
});
