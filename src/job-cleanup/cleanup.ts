/* eslint-disable import/no-extraneous-dependencies -- handler code: bundled into the Lambda assets by esbuild with the *.lambda.ts entry points, never loaded by the construct */
/**
 * Handler logic of JobCleanup: plain functions that take their AWS clients, so tests drive them
 * with aws-sdk-client-mock. The Lambda entry point is `cleanup.lambda.ts`.
 *
 * Safety rules, in order: never act on anything younger than its threshold, carrying the
 * protection tag, part of an ECS service, or in a cluster AWS Batch manages; in dry-run mode make
 * no mutating call at all; every call is idempotent, so two runs at once only find work already done.
 */
import {
  BatchClient, CancelJobCommand, DeregisterJobDefinitionCommand, DescribeComputeEnvironmentsCommand, DescribeJobDefinitionsCommand,
  DescribeJobQueuesCommand, DescribeJobsCommand, JobDefinition, JobDetail, JobStatus, JobSummary, ListJobsCommand, TerminateJobCommand,
} from '@aws-sdk/client-batch';
import { DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand, Task } from '@aws-sdk/client-ecs';

/** Job states the cleanup acts on: the first three are cancelled, the last two terminated. */
export const QUEUED_STATES = ['SUBMITTED', 'PENDING', 'RUNNABLE'] as const;
export const ACTIVE_STATES = ['STARTING', 'RUNNING'] as const;
export type ActedOnState = typeof QUEUED_STATES[number] | typeof ACTIVE_STATES[number];
const ALL_STATES: ActedOnState[] = [...QUEUED_STATES, ...ACTIVE_STATES];
/** The states an array parent waits in while its children run (AWS Batch User Guide, "Array jobs"). */
const ARRAY_PARENT_STATES: readonly ActedOnState[] = ['SUBMITTED', 'PENDING'];

export interface CleanupConfig {
  /** Job queues (names or ARNs) whose stuck and overrunning jobs are cancelled or terminated. */
  readonly jobQueues: string[];
  /** Age per state after which a job is acted on, in milliseconds; a state left out is never acted on. */
  readonly jobThresholdsMs: Partial<Record<ActedOnState, number>>;
  /** Job definition families whose old revisions are deregistered. */
  readonly jobDefinitionFamilies: string[];
  /** Newest ACTIVE revisions kept per family. */
  readonly keepRevisions: number;
  /** ECS clusters (names or ARNs) whose long-running standalone tasks are stopped. */
  readonly ecsClusters: string[];
  /** Age after which a standalone ECS task is stopped, in milliseconds. */
  readonly ecsTaskMaxAgeMs: number;
  readonly protectionTagKey: string;
  readonly protectionTagValue: string;
  readonly dryRun: boolean;
}

export interface CleanupClients {
  readonly batch: BatchClient;
  readonly ecs: ECSClient;
}

export interface CleanupLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export interface RunContext {
  /** Epoch milliseconds after which no new call is started. */
  readonly deadline: number;
  readonly log: CleanupLog;
  /** Epoch milliseconds. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export type ActionKind = 'cancel-job' | 'terminate-job' | 'deregister-revision' | 'stop-task';
/** done: the call succeeded; already-done: the target had already reached that state; would-do: dry run. */
export type ActionResult = 'done' | 'already-done' | 'would-do' | 'failed';

export interface CleanupAction {
  readonly kind: ActionKind;
  readonly target: string;
  readonly reason: string;
  readonly result: ActionResult;
  readonly error?: string;
}

export interface CleanupReport {
  readonly dryRun: boolean;
  readonly actions: CleanupAction[];
  /** Targets left alone because they carry the protection tag. */
  readonly protected: string[];
  /** What the run did not reach before its deadline (or could not list). */
  readonly notReached: string[];
  /** Errors that did not belong to one action (listing failures, refused clusters). */
  readonly errors: string[];
}

export interface CleanupCounts {
  readonly jobsCancelled: number;
  readonly jobsTerminated: number;
  readonly revisionsDeregistered: number;
  readonly tasksStopped: number;
  readonly wouldAct: number;
  readonly errors: number;
  readonly notReached: number;
  readonly protectedSkipped: number;
}

/** A job past its threshold; `parentId` for an array child. */
interface Target {
  readonly job: JobSummary;
  readonly state: ActedOnState;
  readonly age: number;
  readonly parentId?: string;
}

/** An array job's parent: ListJobs by queue lists parents, never children (AWS Batch API Reference, ListJobs). */
function isArrayParent(job: JobSummary): boolean {
  return job.arrayProperties?.size !== undefined && job.arrayProperties.index === undefined;
}

export function countReport(report: CleanupReport): CleanupCounts {
  const done = (kind: ActionKind) => report.actions.filter((a) => a.kind === kind && (a.result === 'done' || a.result === 'already-done')).length;
  return {
    jobsCancelled: done('cancel-job'),
    jobsTerminated: done('terminate-job'),
    revisionsDeregistered: done('deregister-revision'),
    tasksStopped: done('stop-task'),
    wouldAct: report.actions.filter((a) => a.result === 'would-do').length,
    errors: report.actions.filter((a) => a.result === 'failed').length + report.errors.length,
    notReached: report.notReached.length,
    protectedSkipped: report.protected.length,
  };
}

/** Thrown when the next call would start after the run's deadline. */
export class OutOfTime extends Error {
  constructor() {
    super('out of time');
    this.name = 'OutOfTime';
  }
}

const THROTTLING_NAMES = new Set(['ThrottlingException', 'TooManyRequestsException', 'ThrottledException', 'RequestLimitExceeded', 'Throttling']);

export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  if (THROTTLING_NAMES.has(e?.name ?? '')) return true;
  if (e?.$metadata?.httpStatusCode === 429) return true;
  // Batch reports throttling as a ClientException with this message.
  return e?.name === 'ClientException' && /too many requests|rate exceeded/i.test(e.message ?? '');
}

function describeError(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
}

/**
 * One AWS call with our own backoff on throttling (on top of the SDK's adaptive retries): full
 * jitter, doubling from 250 ms, at most 6 attempts, and never sleeping past the deadline.
 */
export async function call<T>(ctx: RunContext, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    if (ctx.now() >= ctx.deadline) throw new OutOfTime();
    try {
      return await fn();
    } catch (err) {
      if (!isThrottling(err) || attempt >= 5) throw err;
      const delay = Math.round(Math.random() * Math.min(10_000, 250 * 2 ** attempt)) + 50;
      if (ctx.now() + delay >= ctx.deadline) throw new OutOfTime();
      ctx.log.warn('throttled; backing off', { attempt: attempt + 1, delayMs: delay, error: describeError(err) });
      await ctx.sleep(delay);
    }
  }
}

function hours(ms: number): string {
  return `${Math.round((ms / 3_600_000) * 10) / 10}h`;
}

/** Errors meaning the target already reached the state the call asks for (another run, or the job finished). */
function alreadyDone(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  if (e?.name === 'ClientException' || e?.name === 'InvalidParameterException') {
    return /already|not found|does not exist|cannot be (cancel|terminat)|is in (a )?terminal|SUCCEEDED|FAILED|INACTIVE|STOPPED/i.test(e.message ?? '');
  }
  return false;
}

class Run {
  readonly report: { dryRun: boolean; actions: CleanupAction[]; protected: string[]; notReached: string[]; errors: string[] };

  constructor(readonly config: CleanupConfig, readonly clients: CleanupClients, readonly ctx: RunContext) {
    this.report = { dryRun: config.dryRun, actions: [], protected: [], notReached: [], errors: [] };
  }

  /** Perform (or, in dry run, only log) one mutating action. */
  async act(kind: ActionKind, target: string, reason: string, mutate: () => Promise<unknown>): Promise<void> {
    let action: CleanupAction;
    if (this.config.dryRun) {
      action = { kind, target, reason, result: 'would-do' };
    } else {
      try {
        await call(this.ctx, mutate);
        action = { kind, target, reason, result: 'done' };
      } catch (err) {
        if (err instanceof OutOfTime) throw err;
        action = alreadyDone(err)
          ? { kind, target, reason, result: 'already-done', error: describeError(err) }
          : { kind, target, reason, result: 'failed', error: describeError(err) };
      }
    }
    this.report.actions.push(action);
    const level = action.result === 'failed' ? 'error' : 'info';
    this.ctx.log[level](`cleanup ${kind} ${action.result}`, { ...action, dryRun: this.config.dryRun });
  }

  isProtected(tags: Record<string, string> | undefined): boolean {
    return tags?.[this.config.protectionTagKey] === this.config.protectionTagValue;
  }

  /** Every page of ListJobs for one queue (or array parent) and state. */
  async listJobs(query: { jobQueue?: string; arrayJobId?: string }, jobStatus: JobStatus): Promise<JobSummary[]> {
    const jobs: JobSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call(this.ctx, () => this.clients.batch.send(new ListJobsCommand({ ...query, jobStatus, maxResults: 100, nextToken })));
      jobs.push(...(page.jobSummaryList ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return jobs;
  }

  /** Jobs by id (their tags; for array parents, their children per state), 100 per DescribeJobs call. */
  async describeJobs(jobIds: string[]): Promise<Map<string, JobDetail>> {
    const details = new Map<string, JobDetail>();
    for (let i = 0; i < jobIds.length; i += 100) {
      const res = await call(this.ctx, () => this.clients.batch.send(new DescribeJobsCommand({ jobs: jobIds.slice(i, i + 100) })));
      for (const job of res.jobs ?? []) if (job.jobId) details.set(job.jobId, job);
    }
    return details;
  }

  /** Runs one step of the job phase; a failure or the deadline is reported under `where` and the phase goes on. */
  private async step(where: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      if (err instanceof OutOfTime) {
        this.report.notReached.push(where);
        return;
      }
      this.report.errors.push(`${where}: ${describeError(err)}`);
      this.ctx.log.error('cleaning jobs failed', { where, error: describeError(err) });
    }
  }

  /**
   * Jobs of the configured queues: cancel the stuck, terminate the overrunning. Array jobs are judged
   * by their children (cleanArrays); the states array parents wait in are listed to find them even
   * where those states have no threshold.
   */
  async cleanJobs(): Promise<void> {
    const judged = ALL_STATES.filter((s) => this.config.jobThresholdsMs[s] !== undefined);
    if (judged.length === 0) return;
    const listed = ALL_STATES.filter((s) => judged.includes(s) || ARRAY_PARENT_STATES.includes(s));
    for (const queue of this.config.jobQueues) {
      const parents = new Map<string, { parent: JobSummary; state: ActedOnState }>();
      for (const state of listed) {
        await this.step(`jobs ${state} in ${queue}`, async () => {
          const targets: Target[] = [];
          for (const job of await this.listJobs({ jobQueue: queue }, state)) {
            if (isArrayParent(job)) parents.set(job.jobId!, { parent: job, state });
            else if (judged.includes(state)) targets.push(...this.candidate(job, state));
          }
          await this.actOnJobs(targets);
        });
      }
      if (parents.size > 0) await this.step(`array jobs in ${queue}`, () => this.cleanArrays([...parents.values()]));
    }
  }

  /** The job as a target if it is past its state's threshold (a job being cancelled or terminated is not). */
  private candidate(job: JobSummary, state: ActedOnState, parentId?: string): Target[] {
    const threshold = this.config.jobThresholdsMs[state];
    if (threshold === undefined || job.isCancelled || job.isTerminated) return [];
    // Running time counts from the start; waiting time from submission (ListJobs has no state-entry time).
    const since = state === 'RUNNING' ? (job.startedAt ?? job.createdAt) : job.createdAt;
    if (since === undefined) return [];
    const age = this.ctx.now() - since;
    return age > threshold ? [{ job, state, age, parentId }] : [];
  }

  /**
   * Array jobs, judged by their children. The parent stays PENDING while its children run, and
   * cancelling it cancels every child that has not started while leaving STARTING and RUNNING ones
   * alone (AWS Batch API Reference, CancelJob): acting on an old parent would end a healthy array and
   * still miss a stuck child. So each parent's children are counted per state in one DescribeJobs
   * call (arrayProperties.statusSummary), and only the children of a state that has some, under a
   * parent older than that state's threshold, are listed (ListJobs arrayJobId) and judged one by one.
   * A parent without children yet is judged as a job of its own.
   *
   * Children are all created with the array, so a waiting child's age since submission says nothing
   * of how long it has been stuck: while a sibling is STARTING or RUNNING the array is moving and its
   * waiting and starting children wait their turn; they are judged only when none is. RUNNING children
   * are judged by their own start time.
   */
  private async cleanArrays(parents: { parent: JobSummary; state: ActedOnState }[]): Promise<void> {
    const details = await this.describeJobs(parents.map(({ parent }) => parent.jobId!));
    const targets: Target[] = [];
    for (const { parent, state } of parents) {
      const parentId = parent.jobId!;
      const detail = details.get(parentId);
      if (!detail) continue; // gone since it was listed
      if (this.isProtected(detail.tags)) {
        this.report.protected.push(`job ${parentId}`);
        this.ctx.log.info('protected array job left alone', { jobId: parentId, jobName: parent.jobName });
        continue;
      }
      const children = detail.arrayProperties?.statusSummary ?? {};
      if (!Object.values(children).some((n) => n > 0)) {
        targets.push(...this.candidate(parent, state));
        continue;
      }
      const moving = (children.STARTING ?? 0) + (children.RUNNING ?? 0) > 0;
      for (const childState of moving ? ['RUNNING' as const] : ALL_STATES) {
        const threshold = this.config.jobThresholdsMs[childState];
        // Children are created with their parent, so none is older than it.
        if (threshold === undefined || !(children[childState] > 0) || this.ctx.now() - (parent.createdAt ?? 0) <= threshold) continue;
        for (const child of await this.listJobs({ arrayJobId: parentId }, childState)) {
          targets.push(...this.candidate(child, childState, parentId));
        }
      }
    }
    await this.actOnJobs(targets, details);
  }

  /**
   * Cancel (queued) or terminate (active) each target, unless it carries the protection tag; the
   * tags are read only for jobs past their threshold (`known`: jobs already described).
   */
  private async actOnJobs(targets: Target[], known: Map<string, JobDetail> = new Map()): Promise<void> {
    if (targets.length === 0) return;
    const unknown = [...new Set(targets.map((t) => t.job.jobId!))].filter((id) => !known.has(id));
    const details = new Map([...known, ...await this.describeJobs(unknown)]);
    for (const { job, state, age, parentId } of targets) {
      const jobId = job.jobId!;
      if (this.isProtected(details.get(jobId)?.tags)) {
        this.report.protected.push(`job ${jobId}`);
        this.ctx.log.info('protected job left alone', { jobId, jobName: job.jobName, state, parentId });
        continue;
      }
      const reason = `cdk-ocr JobCleanup: ${state} for ${hours(age)}, over the ${hours(this.config.jobThresholdsMs[state]!)} limit`;
      if ((QUEUED_STATES as readonly string[]).includes(state)) {
        await this.act('cancel-job', jobId, reason, () => this.clients.batch.send(new CancelJobCommand({ jobId, reason })));
      } else {
        await this.act('terminate-job', jobId, reason, () => this.clients.batch.send(new TerminateJobCommand({ jobId, reason })));
      }
    }
  }

  /**
   * Job definitions that queued or running jobs of ANY queue in the account use (not only the
   * configured ones): a revision must never be deregistered under a job. Undefined if the listing
   * could not be completed.
   */
  async jobDefinitionsInUse(): Promise<Set<string> | undefined> {
    const inUse = new Set<string>();
    try {
      const queues: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await call(this.ctx, () => this.clients.batch.send(new DescribeJobQueuesCommand({ nextToken })));
        queues.push(...(page.jobQueues ?? []).map((q) => q.jobQueueArn!).filter(Boolean));
        nextToken = page.nextToken;
      } while (nextToken);
      for (const queue of queues) {
        for (const state of ALL_STATES) {
          for (const job of await this.listJobs({ jobQueue: queue }, state)) {
            if (job.jobDefinition) inUse.add(job.jobDefinition);
          }
        }
      }
      return inUse;
    } catch (err) {
      if (err instanceof OutOfTime) {
        this.report.notReached.push(...this.config.jobDefinitionFamilies.map((f) => `revisions of ${f}`));
      } else {
        this.report.errors.push(`listing jobs for the in-use check: ${describeError(err)}`);
        this.ctx.log.error('in-use check failed; no revision is deregistered', { error: describeError(err) });
      }
      return undefined;
    }
  }

  async pruneRevisions(): Promise<void> {
    if (this.config.jobDefinitionFamilies.length === 0) return;
    const inUse = await this.jobDefinitionsInUse();
    if (!inUse) return;
    for (const family of this.config.jobDefinitionFamilies) {
      try {
        const revisions: JobDefinition[] = [];
        let nextToken: string | undefined;
        do {
          const page = await call(this.ctx, () => this.clients.batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: family, status: 'ACTIVE', nextToken })));
          revisions.push(...(page.jobDefinitions ?? []).filter((d) => d.status === undefined || d.status === 'ACTIVE'));
          nextToken = page.nextToken;
        } while (nextToken);
        revisions.sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
        for (const old of revisions.slice(this.config.keepRevisions)) {
          const arn = old.jobDefinitionArn!;
          if (inUse.has(arn) || inUse.has(`${old.jobDefinitionName}:${old.revision}`)) {
            this.ctx.log.info('revision in use by a job; kept', { jobDefinition: arn });
            continue;
          }
          if (this.isProtected(old.tags)) {
            this.report.protected.push(`revision ${arn}`);
            continue;
          }
          const reason = `beyond the newest ${this.config.keepRevisions} ACTIVE revisions of ${family}`;
          await this.act('deregister-revision', arn, reason, () => this.clients.batch.send(new DeregisterJobDefinitionCommand({ jobDefinition: arn })));
        }
      } catch (err) {
        if (err instanceof OutOfTime) {
          this.report.notReached.push(`revisions of ${family}`);
          continue;
        }
        this.report.errors.push(`revisions of ${family}: ${describeError(err)}`);
        this.ctx.log.error('pruning revisions failed', { family, error: describeError(err) });
      }
    }
  }

  /** ECS clusters that AWS Batch compute environments run on (Batch owns their tasks). */
  async batchClusterNames(): Promise<Set<string>> {
    const names = new Set<string>();
    let nextToken: string | undefined;
    do {
      const page = await call(this.ctx, () => this.clients.batch.send(new DescribeComputeEnvironmentsCommand({ nextToken })));
      for (const ce of page.computeEnvironments ?? []) if (ce.ecsClusterArn) names.add(clusterName(ce.ecsClusterArn));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  async stopTasks(): Promise<void> {
    if (this.config.ecsClusters.length === 0) return;
    let batchClusters: Set<string>;
    try {
      batchClusters = await this.batchClusterNames();
    } catch (err) {
      // Without knowing which clusters Batch owns, stopping tasks is not safe.
      if (err instanceof OutOfTime) this.report.notReached.push(...this.config.ecsClusters.map((c) => `tasks in ${c}`));
      else this.report.errors.push(`describing compute environments: ${describeError(err)}`);
      return;
    }
    for (const cluster of this.config.ecsClusters) {
      const name = clusterName(cluster);
      if (isBatchManagedClusterName(name) || batchClusters.has(name)) {
        this.report.errors.push(`cluster ${cluster} belongs to an AWS Batch compute environment; its tasks are left to Batch`);
        this.ctx.log.error('refusing to stop tasks in a Batch cluster', { cluster });
        continue;
      }
      try {
        await this.stopTasksIn(cluster);
      } catch (err) {
        if (err instanceof OutOfTime) {
          this.report.notReached.push(`tasks in ${cluster}`);
          continue;
        }
        this.report.errors.push(`tasks in ${cluster}: ${describeError(err)}`);
        this.ctx.log.error('stopping tasks failed', { cluster, error: describeError(err) });
      }
    }
  }

  private async stopTasksIn(cluster: string): Promise<void> {
    const taskArns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await call(this.ctx, () => this.clients.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', nextToken })));
      taskArns.push(...(page.taskArns ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    const tasks: Task[] = [];
    for (let i = 0; i < taskArns.length; i += 100) {
      const res = await call(this.ctx, () => this.clients.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100), include: ['TAGS'] })));
      tasks.push(...(res.tasks ?? []));
    }
    for (const task of tasks) {
      if (isServiceTask(task)) continue;
      const since = (task.startedAt ?? task.createdAt)?.getTime();
      if (since === undefined) continue;
      const age = this.ctx.now() - since;
      if (age <= this.config.ecsTaskMaxAgeMs) continue;
      const tags = Object.fromEntries((task.tags ?? []).map((t) => [t.key ?? '', t.value ?? '']));
      if (this.isProtected(tags)) {
        this.report.protected.push(`task ${task.taskArn}`);
        continue;
      }
      const reason = `cdk-ocr JobCleanup: standalone task running for ${hours(age)}, over the ${hours(this.config.ecsTaskMaxAgeMs)} limit`;
      await this.act('stop-task', task.taskArn!, reason, () => this.clients.ecs.send(new StopTaskCommand({ cluster, task: task.taskArn!, reason })));
    }
  }
}

/** `arn:aws:ecs:region:account:cluster/NAME` or `NAME` → `NAME`. */
export function clusterName(cluster: string): string {
  return cluster.includes('/') ? cluster.slice(cluster.lastIndexOf('/') + 1) : cluster;
}

/** Clusters that AWS Batch creates for managed compute environments are named `AWSBatch-<ce>-<uuid>`. */
export function isBatchManagedClusterName(name: string): boolean {
  return /^AWSBatch-/.test(name);
}

/** Tasks started by an ECS service (the service would start them again) are never stopped. */
export function isServiceTask(task: Pick<Task, 'group' | 'startedBy'>): boolean {
  return (task.group ?? '').startsWith('service:') || (task.startedBy ?? '').startsWith('ecs-svc/');
}

/** One cleanup run: jobs, then revisions, then ECS tasks, each stopping at the deadline. */
export async function runCleanup(config: CleanupConfig, clients: CleanupClients, ctx: RunContext): Promise<CleanupReport> {
  const run = new Run(config, clients, ctx);
  for (const phase of [() => run.cleanJobs(), () => run.pruneRevisions(), () => run.stopTasks()]) {
    try {
      await phase();
    } catch (err) {
      // Each phase records what it did not reach; an OutOfTime escaping a mutation lands here.
      if (!(err instanceof OutOfTime)) throw err;
      run.report.notReached.push('the rest of the run (deadline)');
    }
  }
  const report: CleanupReport = run.report;
  ctx.log.info('cleanup run finished', { ...countReport(report), dryRun: report.dryRun, notReached: report.notReached, errors: report.errors });
  return report;
}
