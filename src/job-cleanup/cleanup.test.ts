/* eslint-disable import/no-extraneous-dependencies -- test code: the SDK clients and mocks are devDependencies bundled into the handlers */
import {
  BatchClient, CancelJobCommand, DeregisterJobDefinitionCommand, DescribeComputeEnvironmentsCommand, DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand, DescribeJobsCommand, JobSummary, ListJobsCommand, TerminateJobCommand,
} from '@aws-sdk/client-batch';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand, Task } from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { call, CleanupConfig, CleanupLog, clusterName, countReport, isServiceTask, OutOfTime, runCleanup, RunContext } from './cleanup';
import { configFromEnvironment, handler } from './cleanup.lambda';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const QUEUE = 'arn:aws:batch:us-east-1:123456789012:job-queue/ocr';
const OTHER_QUEUE = 'arn:aws:batch:us-east-1:123456789012:job-queue/other';
const CLUSTER = 'arn:aws:ecs:us-east-1:123456789012:cluster/tools';

const batchMock = mockClient(BatchClient);
const ecsMock = mockClient(ECSClient);
const clients = { batch: new BatchClient({}), ecs: new ECSClient({}) };

const MUTATING = [CancelJobCommand, TerminateJobCommand, DeregisterJobDefinitionCommand] as const;

function config(overrides: Partial<CleanupConfig> = {}): CleanupConfig {
  return {
    jobQueues: [QUEUE],
    jobThresholdsMs: { SUBMITTED: 24 * HOUR, PENDING: 24 * HOUR, RUNNABLE: 24 * HOUR, STARTING: 24 * HOUR, RUNNING: 24 * HOUR },
    jobDefinitionFamilies: [],
    keepRevisions: 3,
    ecsClusters: [],
    ecsTaskMaxAgeMs: 24 * HOUR,
    protectionTagKey: 'cdk-ocr:protect',
    protectionTagValue: 'true',
    dryRun: false,
    ...overrides,
  };
}

interface TestContext extends RunContext {
  lines: { level: string; message: string; extra?: Record<string, unknown> }[];
  sleeps: number[];
}

function context(options: { deadline?: number; clock?: () => number } = {}): TestContext {
  const lines: TestContext['lines'] = [];
  const sleeps: number[] = [];
  const log: CleanupLog = {
    info: (message, extra) => lines.push({ level: 'info', message, extra }),
    warn: (message, extra) => lines.push({ level: 'warn', message, extra }),
    error: (message, extra) => lines.push({ level: 'error', message, extra }),
  };
  return {
    now: options.clock ?? (() => NOW),
    deadline: options.deadline ?? NOW + 10 * 60_000,
    sleep: async (ms) => { sleeps.push(ms); },
    log,
    lines,
    sleeps,
  };
}

function job(id: string, status: string, ageHours: number, extra: Partial<JobSummary> = {}): JobSummary {
  return {
    jobId: id,
    jobName: `ocr-${id}`,
    jobArn: `arn:aws:batch:us-east-1:123456789012:job/${id}`,
    status: status as JobSummary['status'],
    createdAt: NOW - ageHours * HOUR,
    jobDefinition: 'arn:aws:batch:us-east-1:123456789012:job-definition/ocr-job:8',
    ...(status === 'RUNNING' ? { startedAt: NOW - ageHours * HOUR } : {}),
    ...extra,
  };
}

function listJobs(query: { jobQueue?: string; arrayJobId?: string }, jobStatus: string, pages: JobSummary[][]) {
  pages.forEach((jobSummaryList, i) => {
    batchMock.on(ListJobsCommand, { ...query, jobStatus: jobStatus as any, nextToken: i === 0 ? undefined : `page${i}` })
      .resolves({ jobSummaryList, nextToken: i < pages.length - 1 ? `page${i + 1}` : undefined });
  });
}

/** DescribeJobs: every job's tags, and for array parents their children per state (statusSummary). */
function tagJobs(tags: Record<string, Record<string, string>>, childStates: Record<string, Record<string, number>> = {}) {
  batchMock.on(DescribeJobsCommand).callsFake((input: { jobs: string[] }) => ({
    jobs: input.jobs.map((jobId) => ({
      jobId,
      jobName: jobId,
      jobQueue: QUEUE,
      status: 'RUNNABLE',
      jobDefinition: 'x',
      startedAt: 0,
      tags: tags[jobId] ?? {},
      ...(childStates[jobId] ? { arrayProperties: { size: 1000, statusSummary: childStates[jobId] } } : {}),
    })),
  }));
}

function mutatingCalls(): number {
  return MUTATING.reduce((n, c) => n + batchMock.commandCalls(c as any).length, 0) + ecsMock.commandCalls(StopTaskCommand).length;
}

beforeEach(() => {
  batchMock.reset();
  ecsMock.reset();
  batchMock.on(ListJobsCommand).resolves({ jobSummaryList: [] });
  tagJobs({});
  batchMock.on(CancelJobCommand).resolves({});
  batchMock.on(TerminateJobCommand).resolves({});
  batchMock.on(DeregisterJobDefinitionCommand).resolves({});
  batchMock.on(DescribeComputeEnvironmentsCommand).resolves({ computeEnvironments: [] });
  ecsMock.on(StopTaskCommand).resolves({});
});

describe('jobs', () => {
  /** 150 RUNNABLE jobs over two pages (every third one old), plus jobs in other states. */
  function mixedQueue() {
    const runnable = Array.from({ length: 150 }, (_, i) => job(`r${i}`, 'RUNNABLE', i % 3 === 0 ? 30 : 2));
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [runnable.slice(0, 100), runnable.slice(100)]);
    listJobs({ jobQueue: QUEUE }, 'SUBMITTED', [[job('s-old', 'SUBMITTED', 25), job('s-young', 'SUBMITTED', 23)]]);
    listJobs({ jobQueue: QUEUE }, 'RUNNING', [[
      job('run-old', 'RUNNING', 48),
      job('run-young', 'RUNNING', 1),
      // Waited 40 hours, started an hour ago: its running time is what counts.
      job('run-late-start', 'RUNNING', 40, { startedAt: NOW - HOUR }),
      job('run-cancelling', 'RUNNING', 48, { isTerminated: true }),
    ]]);
    listJobs({ jobQueue: QUEUE }, 'STARTING', [[job('st-old', 'STARTING', 26)]]);
  }

  test('GIVEN pages of jobs in mixed states and ages WHEN cleaned THEN exactly the jobs over their threshold are cancelled or terminated, with a reason', async () => {
    mixedQueue();
    const ctx = context();

    const report = await runCleanup(config(), clients, ctx);

    const cancelled = batchMock.commandCalls(CancelJobCommand).map((c) => c.args[0].input.jobId);
    expect(cancelled).toHaveLength(51); // 50 old RUNNABLE + 1 old SUBMITTED
    expect(cancelled).toContain('s-old');
    expect(cancelled).toContain('r147');
    expect(cancelled).not.toContain('r1');
    expect(cancelled).not.toContain('s-young');
    expect(batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input.jobId).sort()).toEqual(['run-old', 'st-old']);
    expect(batchMock.commandCalls(CancelJobCommand, { jobId: 'r0' })[0].args[0].input.reason).toMatch(/^cdk-ocr JobCleanup: RUNNABLE for 30h, over the 24h limit$/);
    // Every state was listed, with pagination.
    expect(batchMock.commandCalls(ListJobsCommand, { jobQueue: QUEUE, jobStatus: 'RUNNABLE' })).toHaveLength(2);
    for (const status of ['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING']) {
      expect(batchMock.commandCalls(ListJobsCommand, { jobQueue: QUEUE, jobStatus: status as any }).length).toBeGreaterThan(0);
    }
    expect(countReport(report)).toEqual(expect.objectContaining({ jobsCancelled: 51, jobsTerminated: 2, errors: 0, notReached: 0 }));
    // Every action is a structured log line.
    expect(ctx.lines.filter((l) => l.message === 'cleanup cancel-job done')).toHaveLength(51);
    expect(ctx.lines.find((l) => l.message === 'cleanup terminate-job done')?.extra).toEqual({ kind: 'terminate-job', target: 'st-old', reason: 'cdk-ocr JobCleanup: STARTING for 26h, over the 24h limit', result: 'done', dryRun: false });
  });

  test('GIVEN the same queue WHEN run in dry-run mode THEN no mutating call is made and the would-be actions are reported', async () => {
    mixedQueue();
    const ctx = context();

    const report = await runCleanup(config({ dryRun: true }), clients, ctx);

    expect(mutatingCalls()).toBe(0);
    expect(report.actions).toHaveLength(53);
    expect(report.actions.every((a) => a.result === 'would-do')).toBe(true);
    expect(countReport(report)).toEqual(expect.objectContaining({ jobsCancelled: 0, jobsTerminated: 0, wouldAct: 53 }));
  });

  test('GIVEN old jobs carrying the protection tag WHEN cleaned THEN they are left alone', async () => {
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [[job('keep', 'RUNNABLE', 50), job('drop', 'RUNNABLE', 50), job('other-value', 'RUNNABLE', 50)]]);
    tagJobs({ 'keep': { 'cdk-ocr:protect': 'true' }, 'other-value': { 'cdk-ocr:protect': 'false' } });

    const report = await runCleanup(config(), clients, context());

    expect(batchMock.commandCalls(CancelJobCommand).map((c) => c.args[0].input.jobId)).toEqual(['drop', 'other-value']);
    expect(report.protected).toEqual(['job keep']);
  });

  describe('array jobs, judged by their children', () => {
    const parent = (id: string, status: string, ageHours: number) => job(id, status, ageHours, { arrayProperties: { size: 1000 } });
    /** Jobs cancelled, then jobs terminated. */
    const acted = () => [CancelJobCommand, TerminateJobCommand]
      .flatMap((command) => batchMock.commandCalls(command as any).map((c) => c.args[0].input.jobId));

    test('GIVEN an old array whose children run within their limit while the rest wait their turn WHEN cleaned THEN nothing is cancelled or terminated, and the waiting children are not even listed', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('busy', 'PENDING', 30)]]);
      tagJobs({}, { busy: { SUBMITTED: 0, PENDING: 0, RUNNABLE: 500, STARTING: 0, RUNNING: 2, SUCCEEDED: 497, FAILED: 1 } });
      listJobs({ arrayJobId: 'busy' }, 'RUNNING', [[job('busy:498', 'RUNNING', 2), job('busy:499', 'RUNNING', 1)]]);

      const report = await runCleanup(config(), clients, context());

      expect(acted()).toEqual([]);
      expect(batchMock.commandCalls(DescribeJobsCommand)[0].args[0].input.jobs).toEqual(['busy']);
      expect(batchMock.commandCalls(ListJobsCommand, { arrayJobId: 'busy' }).map((c) => c.args[0].input.jobStatus)).toEqual(['RUNNING']);
      expect(countReport(report)).toEqual(expect.objectContaining({ jobsCancelled: 0, jobsTerminated: 0, errors: 0 }));
    });

    test('GIVEN an array with one child overrunning RUNNING WHEN cleaned THEN that child alone is terminated', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('hung', 'PENDING', 30)]]);
      tagJobs({}, { hung: { RUNNING: 2, RUNNABLE: 3 } });
      listJobs({ arrayJobId: 'hung' }, 'RUNNING', [[job('hung:0', 'RUNNING', 30)], [job('hung:1', 'RUNNING', 1)]]);

      await runCleanup(config(), clients, context());

      expect(batchMock.commandCalls(CancelJobCommand)).toHaveLength(0);
      expect(batchMock.commandCalls(TerminateJobCommand).map((c) => c.args[0].input)).toEqual([
        { jobId: 'hung:0', reason: 'cdk-ocr JobCleanup: RUNNING for 30h, over the 24h limit' },
      ]);
    });

    test('GIVEN an array whose children are stuck RUNNABLE with none starting or running WHEN cleaned THEN each stuck child is cancelled, never the parent', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('stuck', 'PENDING', 30)]]);
      tagJobs({}, { stuck: { RUNNABLE: 3, SUCCEEDED: 2 } });
      listJobs({ arrayJobId: 'stuck' }, 'RUNNABLE', [[job('stuck:2', 'RUNNABLE', 30), job('stuck:3', 'RUNNABLE', 30)], [job('stuck:4', 'RUNNABLE', 30, { isCancelled: true })]]);

      const report = await runCleanup(config(), clients, context());

      expect(acted()).toEqual(['stuck:2', 'stuck:3']);
      expect(batchMock.commandCalls(ListJobsCommand, { arrayJobId: 'stuck' }).map((c) => c.args[0].input.jobStatus)).toEqual(['RUNNABLE', 'RUNNABLE']);
      expect(report.actions.map((a) => a.reason)).toEqual(['cdk-ocr JobCleanup: RUNNABLE for 30h, over the 24h limit', 'cdk-ocr JobCleanup: RUNNABLE for 30h, over the 24h limit']);
    });

    test('GIVEN an array younger than the thresholds WHEN cleaned THEN its children are not listed', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('young', 'PENDING', 1)]]);
      tagJobs({}, { young: { RUNNABLE: 10 } });

      await runCleanup(config(), clients, context());

      expect(batchMock.commandCalls(ListJobsCommand, { arrayJobId: 'young' })).toHaveLength(0);
      expect(acted()).toEqual([]);
    });

    test('GIVEN a protected parent and a protected child WHEN cleaned THEN the parent\'s children are not listed and the child is left alone', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('kept', 'PENDING', 30), parent('mixed', 'PENDING', 30)]]);
      tagJobs({ 'kept': { 'cdk-ocr:protect': 'true' }, 'mixed:1': { 'cdk-ocr:protect': 'true' } }, { kept: { RUNNABLE: 4 }, mixed: { RUNNABLE: 2 } });
      listJobs({ arrayJobId: 'mixed' }, 'RUNNABLE', [[job('mixed:0', 'RUNNABLE', 30), job('mixed:1', 'RUNNABLE', 30)]]);

      const report = await runCleanup(config(), clients, context());

      expect(batchMock.commandCalls(ListJobsCommand, { arrayJobId: 'kept' })).toHaveLength(0);
      expect(acted()).toEqual(['mixed:0']);
      expect(report.protected).toEqual(['job kept', 'job mixed:1']);
    });

    test('GIVEN a parent stuck SUBMITTED before it has children WHEN cleaned THEN the parent itself is cancelled', async () => {
      listJobs({ jobQueue: QUEUE }, 'SUBMITTED', [[parent('unborn', 'SUBMITTED', 30)]]);
      tagJobs({}, { unborn: {} });

      await runCleanup(config(), clients, context());

      expect(acted()).toEqual(['unborn']);
    });

    test('GIVEN only a RUNNABLE threshold WHEN cleaned THEN PENDING is listed to find array parents, their stuck RUNNABLE children are cancelled, and a plain PENDING job is not', async () => {
      listJobs({ jobQueue: QUEUE }, 'PENDING', [[parent('arr', 'PENDING', 30), job('plain-pending', 'PENDING', 30)]]);
      tagJobs({}, { arr: { RUNNABLE: 1 } });
      listJobs({ arrayJobId: 'arr' }, 'RUNNABLE', [[job('arr:0', 'RUNNABLE', 30)]]);

      await runCleanup(config({ jobThresholdsMs: { RUNNABLE: HOUR } }), clients, context());

      expect(acted()).toEqual(['arr:0']);
      expect(batchMock.commandCalls(ListJobsCommand, { jobStatus: 'RUNNING' })).toHaveLength(0);
    });
  });

  test('GIVEN throttling on ListJobs WHEN cleaned THEN the run backs off and completes', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException', $metadata: { httpStatusCode: 429 } });
    batchMock.on(ListJobsCommand, { jobQueue: QUEUE, jobStatus: 'RUNNABLE' })
      .rejectsOnce(throttled)
      .rejectsOnce(Object.assign(new Error('Too Many Requests.'), { name: 'ClientException' }))
      .resolves({ jobSummaryList: [job('old', 'RUNNABLE', 30)] });
    const ctx = context();

    const report = await runCleanup(config(), clients, ctx);

    expect(ctx.sleeps).toHaveLength(2);
    expect(ctx.sleeps.every((ms) => ms > 0 && ms <= 10_050)).toBe(true);
    expect(batchMock.commandCalls(CancelJobCommand)).toHaveLength(1);
    expect(report.errors).toEqual([]);
  });

  test('GIVEN throttling that never ends WHEN cleaned THEN the state is reported as an error after bounded retries and the others continue', async () => {
    batchMock.on(ListJobsCommand, { jobQueue: QUEUE, jobStatus: 'SUBMITTED' }).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [[job('old', 'RUNNABLE', 30)]]);
    const ctx = context();

    const report = await runCleanup(config(), clients, ctx);

    expect(ctx.sleeps).toHaveLength(5);
    expect(report.errors).toEqual([`jobs SUBMITTED in ${QUEUE}: ThrottlingException: slow down`]);
    expect(batchMock.commandCalls(CancelJobCommand)).toHaveLength(1);
  });

  test('GIVEN a job another run already cancelled and one failing call WHEN cleaned THEN the first counts as done, the second as an error, and the rest continue', async () => {
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [[job('gone', 'RUNNABLE', 30), job('denied', 'RUNNABLE', 30), job('fine', 'RUNNABLE', 30)]]);
    batchMock.on(CancelJobCommand, { jobId: 'gone' }).rejects(Object.assign(new Error('Job gone is in a terminal state FAILED'), { name: 'ClientException' }));
    batchMock.on(CancelJobCommand, { jobId: 'denied' }).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const report = await runCleanup(config(), clients, context());

    expect(report.actions.map((a) => [a.target, a.result])).toEqual([['gone', 'already-done'], ['denied', 'failed'], ['fine', 'done']]);
    expect(countReport(report)).toEqual(expect.objectContaining({ jobsCancelled: 2, errors: 1 }));
  });

  test('GIVEN two runs at once WHEN both cancel the same jobs THEN the second finds them already cancelled and neither reports an error', async () => {
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [[job('a', 'RUNNABLE', 30), job('b', 'RUNNABLE', 30)]]);
    const cancelled = new Set<string>();
    batchMock.on(CancelJobCommand).callsFake(async (input: { jobId: string }) => {
      if (cancelled.has(input.jobId)) throw Object.assign(new Error(`Job ${input.jobId} is already in a terminal state FAILED`), { name: 'ClientException' });
      cancelled.add(input.jobId);
      return {};
    });

    const [first, second] = await Promise.all([runCleanup(config(), clients, context()), runCleanup(config(), clients, context())]);

    expect([...cancelled].sort()).toEqual(['a', 'b']);
    for (const report of [first, second]) {
      expect(countReport(report)).toEqual(expect.objectContaining({ jobsCancelled: 2, errors: 0 }));
    }
    expect([...first.actions, ...second.actions].filter((a) => a.result === 'already-done')).toHaveLength(2);
  });

  test('GIVEN a deadline that passes during the run WHEN cleaned THEN it stops starting calls and reports what it did not reach', async () => {
    listJobs({ jobQueue: QUEUE }, 'SUBMITTED', [[job('s1', 'SUBMITTED', 30)]]);
    let clock = NOW;
    // Every call takes a minute of the run's four.
    batchMock.on(ListJobsCommand).callsFake(async (input: { jobStatus: string }) => {
      clock += 60_000;
      return input.jobStatus === 'SUBMITTED' ? { jobSummaryList: [job('s1', 'SUBMITTED', 30)] } : { jobSummaryList: [] };
    });
    const ctx = context({ deadline: NOW + 4 * 60_000, clock: () => clock });

    const report = await runCleanup(config({ jobQueues: [QUEUE, OTHER_QUEUE] }), clients, ctx);

    // SUBMITTED listed (1 min), its job described and cancelled, PENDING, RUNNABLE, STARTING listed
    // (4 min): RUNNING and the whole second queue are not reached.
    expect(batchMock.commandCalls(CancelJobCommand)).toHaveLength(1);
    expect(report.notReached).toEqual([`jobs RUNNING in ${QUEUE}`, ...['SUBMITTED', 'PENDING', 'RUNNABLE', 'STARTING', 'RUNNING'].map((s) => `jobs ${s} in ${OTHER_QUEUE}`)]);
    expect(batchMock.calls()).toHaveLength(6);
    expect(countReport(report).notReached).toBe(6);
  });

  test('GIVEN a state with no threshold WHEN cleaned THEN that state is neither listed nor acted on', async () => {
    listJobs({ jobQueue: QUEUE }, 'RUNNING', [[job('run-old', 'RUNNING', 100)]]);

    await runCleanup(config({ jobThresholdsMs: { RUNNABLE: HOUR } }), clients, context());

    expect(batchMock.commandCalls(ListJobsCommand, { jobStatus: 'RUNNING' })).toHaveLength(0);
    expect(batchMock.commandCalls(TerminateJobCommand)).toHaveLength(0);
  });
});

describe('job definition revisions', () => {
  function revisions(family: string, count: number, tags: Record<number, Record<string, string>> = {}) {
    return Array.from({ length: count }, (_, i) => ({
      jobDefinitionName: family,
      jobDefinitionArn: `arn:aws:batch:us-east-1:123456789012:job-definition/${family}:${i + 1}`,
      revision: i + 1,
      status: 'ACTIVE',
      type: 'container',
      tags: tags[i + 1],
    }));
  }

  beforeEach(() => {
    batchMock.on(DescribeJobQueuesCommand).resolves({ jobQueues: [{ jobQueueArn: QUEUE } as any, { jobQueueArn: OTHER_QUEUE } as any] });
  });

  test('GIVEN eight revisions WHEN pruned keeping three THEN older ones are deregistered except one in use in another queue and one protected', async () => {
    const defs = revisions('ocr-job', 8, { 1: { 'cdk-ocr:protect': 'true' } });
    batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: 'ocr-job', nextToken: undefined }).resolves({ jobDefinitions: defs.slice(0, 5).reverse(), nextToken: 'p2' });
    batchMock.on(DescribeJobDefinitionsCommand, { jobDefinitionName: 'ocr-job', nextToken: 'p2' }).resolves({ jobDefinitions: defs.slice(5) });
    listJobs({ jobQueue: OTHER_QUEUE }, 'RUNNING', [[job('uses-2', 'RUNNING', 1, { jobDefinition: defs[1].jobDefinitionArn })]]);

    const report = await runCleanup(config({ jobQueues: [], jobDefinitionFamilies: ['ocr-job'] }), clients, context());

    const deregistered = batchMock.commandCalls(DeregisterJobDefinitionCommand).map((c) => c.args[0].input.jobDefinition);
    expect(deregistered).toEqual([5, 4, 3].map((r) => defs[r - 1].jobDefinitionArn));
    expect(report.protected).toEqual([`revision ${defs[0].jobDefinitionArn}`]);
    expect(countReport(report).revisionsDeregistered).toBe(3);
    // Jobs of every queue in the account were checked, in every state.
    expect(batchMock.commandCalls(ListJobsCommand, { jobQueue: OTHER_QUEUE })).toHaveLength(5);
  });

  test('GIVEN the in-use check cannot list the jobs WHEN pruned THEN no revision is deregistered', async () => {
    batchMock.on(DescribeJobDefinitionsCommand).resolves({ jobDefinitions: revisions('ocr-job', 8) });
    batchMock.on(ListJobsCommand, { jobQueue: OTHER_QUEUE }).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    const report = await runCleanup(config({ jobQueues: [], jobDefinitionFamilies: ['ocr-job'] }), clients, context());

    expect(batchMock.commandCalls(DeregisterJobDefinitionCommand)).toHaveLength(0);
    expect(report.errors).toEqual(['listing jobs for the in-use check: AccessDeniedException: denied']);
  });

  test('GIVEN the deadline passes while families are pruned WHEN run THEN the remaining families are reported as not reached', async () => {
    let clock = NOW;
    batchMock.on(DescribeJobDefinitionsCommand).callsFake(async () => {
      clock += 60_000;
      return { jobDefinitions: revisions('ocr-job', 2) };
    });
    const ctx = context({ deadline: NOW + 90_000, clock: () => clock });

    const report = await runCleanup(config({ jobQueues: [], jobDefinitionFamilies: ['first', 'second', 'third'] }), clients, ctx);

    // Each family takes a minute; the second starts at 60 s (before the 90 s deadline), the third would start at 120 s.
    expect(report.notReached).toEqual(['revisions of third']);
    expect(batchMock.commandCalls(DeregisterJobDefinitionCommand)).toHaveLength(0);
  });

  test('GIVEN no more revisions than kept WHEN pruned in dry run THEN nothing is deregistered', async () => {
    batchMock.on(DescribeJobDefinitionsCommand).resolves({ jobDefinitions: revisions('ocr-job', 3) });

    const report = await runCleanup(config({ jobQueues: [], jobDefinitionFamilies: ['ocr-job'], dryRun: true }), clients, context());

    expect(report.actions).toEqual([]);
    expect(mutatingCalls()).toBe(0);
  });
});

describe('ECS tasks', () => {
  function task(id: string, ageHours: number, extra: Partial<Task> = {}): Task {
    return { taskArn: `arn:aws:ecs:us-east-1:123456789012:task/tools/${id}`, startedAt: new Date(NOW - ageHours * HOUR), lastStatus: 'RUNNING', group: 'family:tool', startedBy: 'alice', ...extra };
  }

  test('GIVEN standalone, service, young and protected tasks WHEN cleaned THEN only old standalone unprotected tasks are stopped', async () => {
    const tasks = [
      task('old-standalone', 30),
      task('young-standalone', 2),
      task('service-group', 300, { group: 'service:web' }),
      task('service-started', 300, { startedBy: 'ecs-svc/1234567890' }),
      task('protected', 300, { tags: [{ key: 'cdk-ocr:protect', value: 'true' }] }),
    ];
    ecsMock.on(ListTasksCommand, { cluster: CLUSTER, nextToken: undefined }).resolves({ taskArns: tasks.slice(0, 3).map((t) => t.taskArn!), nextToken: 'p2' });
    ecsMock.on(ListTasksCommand, { cluster: CLUSTER, nextToken: 'p2' }).resolves({ taskArns: tasks.slice(3).map((t) => t.taskArn!) });
    ecsMock.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: tasks.filter((t) => input.tasks.includes(t.taskArn!)) }));

    const report = await runCleanup(config({ jobQueues: [], ecsClusters: [CLUSTER] }), clients, context());

    expect(ecsMock.commandCalls(StopTaskCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ cluster: CLUSTER, task: tasks[0].taskArn, reason: expect.stringMatching(/standalone task running for 30h/) }),
    ]);
    expect(ecsMock.commandCalls(DescribeTasksCommand)[0].args[0].input.include).toEqual(['TAGS']);
    expect(ecsMock.commandCalls(ListTasksCommand)[0].args[0].input.desiredStatus).toBe('RUNNING');
    expect(report.protected).toEqual([`task ${tasks[4].taskArn}`]);
    expect(countReport(report).tasksStopped).toBe(1);
  });

  test('GIVEN clusters behind Batch compute environments WHEN cleaned THEN their tasks are never listed and the refusal is an error', async () => {
    batchMock.on(DescribeComputeEnvironmentsCommand).resolves({
      computeEnvironments: [{ computeEnvironmentName: 'ocr', computeEnvironmentArn: 'ce', ecsClusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/custom-batch-cluster' }],
    });

    const report = await runCleanup(config({ jobQueues: [], ecsClusters: ['custom-batch-cluster', 'AWSBatch-ocr-1234'] }), clients, context());

    expect(ecsMock.calls()).toHaveLength(0);
    expect(report.errors).toHaveLength(2);
    expect(report.errors[0]).toMatch(/belongs to an AWS Batch compute environment/);
  });

  test('GIVEN the compute environments cannot be described WHEN cleaned THEN no task is listed or stopped', async () => {
    batchMock.on(DescribeComputeEnvironmentsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    const report = await runCleanup(config({ jobQueues: [], ecsClusters: [CLUSTER] }), clients, context());

    expect(ecsMock.calls()).toHaveLength(0);
    expect(report.errors).toEqual(['describing compute environments: AccessDeniedException: denied']);
  });

  test('GIVEN listing one cluster fails WHEN cleaned THEN the error is reported and the next cluster is still cleaned', async () => {
    const other = 'arn:aws:ecs:us-east-1:123456789012:cluster/other';
    ecsMock.on(ListTasksCommand, { cluster: CLUSTER }).rejects(Object.assign(new Error('no such cluster'), { name: 'ClusterNotFoundException' }));
    ecsMock.on(ListTasksCommand, { cluster: other }).resolves({ taskArns: ['arn:aws:ecs:us-east-1:123456789012:task/other/t1'] });
    ecsMock.on(DescribeTasksCommand).resolves({ tasks: [task('t1', 48, { taskArn: 'arn:aws:ecs:us-east-1:123456789012:task/other/t1' })] });

    const report = await runCleanup(config({ jobQueues: [], ecsClusters: [CLUSTER, other] }), clients, context());

    expect(report.errors).toEqual([`tasks in ${CLUSTER}: ClusterNotFoundException: no such cluster`]);
    expect(ecsMock.commandCalls(StopTaskCommand).map((c) => c.args[0].input.task)).toEqual(['arn:aws:ecs:us-east-1:123456789012:task/other/t1']);
  });

  test('GIVEN 150 running tasks WHEN cleaned THEN they are described 100 at a time and every old one is stopped', async () => {
    const tasks = Array.from({ length: 150 }, (_, i) => task(`t${i}`, i < 120 ? 30 : 1));
    ecsMock.on(ListTasksCommand).resolves({ taskArns: tasks.map((t) => t.taskArn!) });
    ecsMock.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => ({ tasks: tasks.filter((t) => input.tasks.includes(t.taskArn!)) }));

    const report = await runCleanup(config({ jobQueues: [], ecsClusters: [CLUSTER] }), clients, context());

    expect(ecsMock.commandCalls(DescribeTasksCommand).map((c) => c.args[0].input.tasks?.length)).toEqual([100, 50]);
    expect(countReport(report).tasksStopped).toBe(120);
  });

  test('GIVEN task fields WHEN classified THEN service tasks and cluster names are recognised', () => {
    expect(isServiceTask({ group: 'service:web' })).toBe(true);
    expect(isServiceTask({ startedBy: 'ecs-svc/123' })).toBe(true);
    expect(isServiceTask({ group: 'family:x', startedBy: 'events-rule/nightly' })).toBe(false);
    expect(clusterName(CLUSTER)).toBe('tools');
    expect(clusterName('tools')).toBe('tools');
  });
});

describe('call', () => {
  test('GIVEN a non-throttling error WHEN called THEN it is thrown at once', async () => {
    const ctx = context();
    await expect(call(ctx, async () => { throw Object.assign(new Error('bad'), { name: 'ClientException' }); })).rejects.toThrow('bad');
    expect(ctx.sleeps).toEqual([]);
  });

  test('GIVEN the deadline has passed WHEN called THEN nothing is started', async () => {
    const fn = jest.fn();
    await expect(call(context({ deadline: NOW - 1 }), fn)).rejects.toBeInstanceOf(OutOfTime);
    expect(fn).not.toHaveBeenCalled();
  });
});

describe('Lambda entry point', () => {
  const env = { ...process.env };
  beforeEach(() => {
    process.env.CLEANUP_CONFIG = JSON.stringify(config({ dryRun: false }));
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
  });
  afterAll(() => { process.env = env; });

  test('GIVEN a manual invocation with a dry-run payload WHEN handled THEN no mutating call is made and the report is returned', async () => {
    listJobs({ jobQueue: QUEUE }, 'RUNNABLE', [[job('old', 'RUNNABLE', 10_000_000)]]);

    const report = await handler({ dryRun: true }, { getRemainingTimeInMillis: () => 60_000 });

    expect(report.dryRun).toBe(true);
    expect(report.actions).toEqual([expect.objectContaining({ kind: 'cancel-job', target: 'old', result: 'would-do' })]);
    expect(mutatingCalls()).toBe(0);
  });

  test('GIVEN a scheduled event WHEN handled THEN the configured mode applies', async () => {
    expect(configFromEnvironment({ 'source': 'aws.events', 'detail-type': 'Scheduled Event' }).dryRun).toBe(false);
    expect(configFromEnvironment({ dryRun: 'yes' }).dryRun).toBe(false);
    expect(configFromEnvironment({ dryRun: true }).dryRun).toBe(true);
  });
});
