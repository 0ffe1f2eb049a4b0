/* eslint-disable import/no-extraneous-dependencies -- handler code: bundled into the Lambda assets by esbuild with the *.lambda.ts entry points, never loaded by the construct */
/**
 * Handler logic of the EcrBatchAutoUpdater: plain functions that take their AWS clients, so tests
 * drive them with aws-sdk-client-mock. The Lambda entry point is `updater.lambda.ts`.
 */
import { BatchClient, DescribeJobDefinitionsCommand, JobDefinition, RegisterJobDefinitionCommand } from '@aws-sdk/client-batch';
import { DescribeImagesCommand, ECRClient, ImageDetail } from '@aws-sdk/client-ecr';
import { copyWithNewImage, imagesFromRepository } from './job-definition-copy';

export interface UpdaterConfig {
  /** Repository name, as in ECR events. */
  readonly repositoryName: string;
  /** `account.dkr.ecr.region.amazonaws.com/name`: images of job definitions are matched against it. */
  readonly repositoryUri: string;
  /** Job definition names (or ARNs, with or without revision). */
  readonly jobDefinitions: string[];
  /** Tags that trigger an update; `*` matches any run of characters. */
  readonly imageTags: string[];
}

export interface UpdaterClients {
  readonly batch: BatchClient;
  readonly ecr: ECRClient;
}

/** The part of Powertools' Logger the logic uses (tests pass a recorder). */
export interface UpdaterLog {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

export type OutcomeStatus = 'applied' | 'skipped' | 'failed';

export interface Outcome {
  readonly jobDefinition: string;
  readonly status: OutcomeStatus;
  readonly reason: string;
  /** The revision the copy was made from. */
  readonly fromRevision?: number;
  /** The revision registered. */
  readonly newRevision?: number;
  readonly image?: string;
}

export interface RunSummary {
  readonly trigger: 'push' | 'reconcile';
  /** Set when the whole event was ignored (other repository, tag not tracked, image gone). */
  readonly ignored?: string;
  readonly outcomes: Outcome[];
}

/** The `detail` of an EventBridge `ECR Image Action` event. */
export interface EcrImageActionDetail {
  readonly 'action-type'?: string;
  readonly 'result'?: string;
  readonly 'repository-name'?: string;
  readonly 'image-digest'?: string;
  readonly 'image-tag'?: string;
}

/** `*` wildcards to a whole-string regular expression; everything else literal. */
export function tagMatcher(patterns: string[]): (tag: string) => boolean {
  const regexes = patterns.map((p) => new RegExp(`^${p.split('*').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return (tag) => regexes.some((r) => r.test(tag));
}

/** `arn:...:job-definition/name:3`, `name:3` or `name` → `name`. */
export function jobDefinitionNameOf(nameOrArn: string): string {
  const afterSlash = nameOrArn.includes('/') ? nameOrArn.slice(nameOrArn.lastIndexOf('/') + 1) : nameOrArn;
  const colon = afterSlash.indexOf(':');
  return colon >= 0 ? afterSlash.slice(0, colon) : afterSlash;
}

function errorName(err: unknown): string {
  return (err as { name?: string })?.name ?? 'Error';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The newest ACTIVE revision of a job definition, paging through every revision. */
export async function latestActiveRevision(batch: BatchClient, name: string): Promise<JobDefinition | undefined> {
  let latest: JobDefinition | undefined;
  let nextToken: string | undefined;
  do {
    const page = await batch.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: 'ACTIVE', nextToken }));
    for (const def of page.jobDefinitions ?? []) {
      if (def.status && def.status !== 'ACTIVE') continue;
      if (!latest || (def.revision ?? 0) > (latest.revision ?? 0)) latest = def;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return latest;
}

/** The image detail of one tag or digest, or undefined if the repository has no such image. */
async function describeImage(
  ecr: ECRClient, repositoryName: string, imageId: { imageTag?: string; imageDigest?: string },
): Promise<ImageDetail | undefined> {
  try {
    const res = await ecr.send(new DescribeImagesCommand({ repositoryName, imageIds: [imageId] }));
    return res.imageDetails?.[0];
  } catch (err) {
    if (errorName(err) === 'ImageNotFoundException') return undefined;
    throw err;
  }
}

/**
 * The image the job definitions should run: the most recently pushed image carrying a tracked tag.
 * Exact tags are looked up one by one; patterns page through the repository's tagged images.
 */
export async function resolveDesiredImage(config: UpdaterConfig, ecr: ECRClient): Promise<ImageDetail | undefined> {
  const candidates: ImageDetail[] = [];
  const exact = config.imageTags.filter((t) => !t.includes('*'));
  const patterns = config.imageTags.filter((t) => t.includes('*'));
  for (const imageTag of exact) {
    const detail = await describeImage(ecr, config.repositoryName, { imageTag });
    if (detail) candidates.push(detail);
  }
  if (patterns.length > 0) {
    const matches = tagMatcher(patterns);
    let nextToken: string | undefined;
    do {
      const page = await ecr.send(new DescribeImagesCommand({ repositoryName: config.repositoryName, filter: { tagStatus: 'TAGGED' }, nextToken }));
      candidates.push(...(page.imageDetails ?? []).filter((d) => (d.imageTags ?? []).some(matches)));
      nextToken = page.nextToken;
    } while (nextToken);
  }
  let newest: ImageDetail | undefined;
  for (const c of candidates) {
    if (!newest || (c.imagePushedAt?.getTime() ?? 0) > (newest.imagePushedAt?.getTime() ?? 0)) newest = c;
  }
  return newest;
}

/**
 * Make one job definition run `digest`: register a copy of its newest ACTIVE revision with the
 * repository's images pinned to the digest, unless it already runs exactly that.
 */
export async function updateJobDefinition(
  nameOrArn: string, digest: string, config: UpdaterConfig, clients: UpdaterClients, now: Date,
): Promise<Outcome> {
  const name = jobDefinitionNameOf(nameOrArn);
  const latest = await latestActiveRevision(clients.batch, name);
  if (!latest) return { jobDefinition: name, status: 'failed', reason: 'no ACTIVE revision found' };
  const newImage = `${config.repositoryUri}@${digest}`;
  const current = imagesFromRepository(latest, config.repositoryUri);
  if (current.length === 0) {
    return { jobDefinition: name, status: 'failed', reason: `no container of revision ${latest.revision} uses ${config.repositoryUri}`, fromRevision: latest.revision };
  }
  if (current.every((image) => image === newImage)) {
    return { jobDefinition: name, status: 'skipped', reason: 'newest ACTIVE revision already runs this digest', fromRevision: latest.revision, image: newImage };
  }
  const input = copyWithNewImage(latest, { repositoryUri: config.repositoryUri, newImage, digest, now });
  const res = await clients.batch.send(new RegisterJobDefinitionCommand(input));
  return { jobDefinition: name, status: 'applied', reason: `replaced ${[...new Set(current)].join(', ')}`, fromRevision: latest.revision, newRevision: res.revision, image: newImage };
}

/** Update every job definition; one failing does not stop the others. */
async function updateAll(digest: string, config: UpdaterConfig, clients: UpdaterClients, log: UpdaterLog, now: Date): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const jobDefinition of config.jobDefinitions) {
    let outcome: Outcome;
    try {
      outcome = await updateJobDefinition(jobDefinition, digest, config, clients, now);
    } catch (err) {
      outcome = { jobDefinition: jobDefinitionNameOf(jobDefinition), status: 'failed', reason: `${errorName(err)}: ${errorMessage(err)}` };
    }
    const level = outcome.status === 'failed' ? 'error' : 'info';
    log[level](`job definition ${outcome.status}`, { ...outcome, digest });
    outcomes.push(outcome);
  }
  return outcomes;
}

/** An ECR push event: verify the image, then bring every job definition to the newest tracked image. */
export async function handlePush(
  detail: EcrImageActionDetail, config: UpdaterConfig, clients: UpdaterClients, log: UpdaterLog, now: Date,
): Promise<RunSummary> {
  const tag = detail['image-tag'];
  const digest = detail['image-digest'];
  const ignore = (reason: string): RunSummary => {
    log.info('push ignored', { reason, tag, digest, repository: detail['repository-name'] });
    return { trigger: 'push', ignored: reason, outcomes: [] };
  };
  // EventBridge already filters on all of this; checked again because the queue accepts any message.
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS') return ignore('not a successful push');
  if (detail['repository-name'] !== config.repositoryName) return ignore('other repository');
  if (!tag || !tagMatcher(config.imageTags)(tag)) return ignore('tag not tracked');
  if (!digest) return ignore('event has no image digest');

  const pushed = await describeImage(clients.ecr, config.repositoryName, { imageDigest: digest });
  if (!pushed) return ignore('image no longer exists');

  // Events can arrive late or out of order: converge on the newest tracked image, which is the
  // pushed one unless another push overtook it (its own event then finds nothing left to do).
  const desired = await resolveDesiredImage(config, clients.ecr) ?? pushed;
  const desiredDigest = desired.imageDigest ?? digest;
  if (desiredDigest !== digest) log.warn('a newer tracked image exists; using it', { pushedDigest: digest, desiredDigest });
  return { trigger: 'push', outcomes: await updateAll(desiredDigest, config, clients, log, now) };
}

/**
 * The scheduled reconciliation: compare each job definition's newest ACTIVE revision with the
 * newest tracked image and re-register on drift. This also repairs CloudFormation's silent rollback
 * (a deploy registering a revision with the template's old image).
 */
export async function reconcile(config: UpdaterConfig, clients: UpdaterClients, log: UpdaterLog, now: Date): Promise<RunSummary> {
  const desired = await resolveDesiredImage(config, clients.ecr);
  if (!desired?.imageDigest) {
    log.warn('no image with a tracked tag; nothing to reconcile', { tags: config.imageTags });
    return { trigger: 'reconcile', ignored: 'no image with a tracked tag', outcomes: [] };
  }
  return { trigger: 'reconcile', outcomes: await updateAll(desired.imageDigest, config, clients, log, now) };
}

/** Messages the updater's queue carries: EventBridge ECR events, or the schedule's reconcile message. */
export async function handleMessage(body: unknown, config: UpdaterConfig, clients: UpdaterClients, log: UpdaterLog, now: Date): Promise<RunSummary> {
  const message = body as { 'source'?: string; 'detail-type'?: string; 'detail'?: EcrImageActionDetail; 'action'?: string };
  if (message?.action === 'reconcile') return reconcile(config, clients, log, now);
  if (message?.source === 'aws.ecr' && message['detail-type'] === 'ECR Image Action' && message.detail) {
    return handlePush(message.detail, config, clients, log, now);
  }
  log.warn('unrecognised message ignored', { body: JSON.stringify(body).slice(0, 500) });
  return { trigger: 'push', ignored: 'unrecognised message', outcomes: [] };
}

export function countOutcomes(summary: RunSummary): Record<OutcomeStatus, number> {
  const counts: Record<OutcomeStatus, number> = { applied: 0, skipped: 0, failed: 0 };
  for (const o of summary.outcomes) counts[o.status]++;
  return counts;
}
