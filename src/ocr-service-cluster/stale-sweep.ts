/**
 * Sweep of OcrServiceCluster: the safety net behind the stream trigger.
 *
 * The stream trigger hands off each new PENDING document once (with retries). Two things can still
 * leave a document stranded, and this scheduled handler finds both through the table's status
 * index (partition key `status`):
 * - a PENDING item whose hand-off never succeeded (retries exhausted while the service was down,
 *   or a producer wrote the item before the stream mapping existed): handed off again through
 *   `POST /process` once it has not changed for the stale period;
 * - a PROCESSING item whose claim expired (`lease_expires_at` in the past: the task was killed
 *   without handing the work back): returned to PENDING with a conditional write, which the
 *   stream trigger sees as a hand-back and hands off again.
 * The service's conditional claim makes both safe against racing with a live task, and its
 * attempt limit (`OCR_MAX_ATTEMPTS`) stops a document that kills its task from looping.
 *
 * It also publishes the number of PENDING items (the queue) as an EMF metric.
 *
 * The logic, with its clients injected; `stale-sweep.lambda.ts` is the Lambda entry point.
 */
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { OcrDocumentAttributes as A, OcrDocumentStatus, OcrDocumentStatuses, OcrServiceMetrics, OcrStreamHandlerEnvironment as E } from './contract';
import { handOff, HandoffDependencies } from './stream-trigger';

export interface SweepDependencies extends HandoffDependencies {
  readonly dynamo: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly statusIndexName: string;
  readonly stalePendingSeconds: number;
  readonly maxItems: number;
  readonly metricsNamespace: string;
  readonly metricsService: string;
  readonly now: () => Date;
  /** Where the EMF document goes (stdout in Lambda). */
  readonly emit: (line: string) => void;
}

export interface SweepResult {
  readonly pendingDocuments: number;
  readonly stalePendingRedriven: number;
  readonly expiredClaimsReleased: number;
  readonly handoffFailures: number;
}

type Item = Record<string, any>;

/** Every item of one status in the index (up to `limit`), and the total count seen. */
async function queryStatus(deps: SweepDependencies, status: string, limit: number): Promise<{ items: Item[]; count: number }> {
  const items: Item[] = [];
  let count = 0;
  let startKey: Item | undefined;
  do {
    const page = await deps.dynamo.send(new QueryCommand({
      TableName: deps.tableName,
      IndexName: deps.statusIndexName,
      KeyConditionExpression: '#status = :status',
      ExpressionAttributeNames: { '#status': A.STATUS },
      ExpressionAttributeValues: { ':status': status },
      ExclusiveStartKey: startKey,
    }));
    count += page.Count ?? page.Items?.length ?? 0;
    for (const item of page.Items ?? []) if (items.length < limit) items.push(item);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return { items, count };
}

function isStale(item: Item, cutoffMs: number): boolean {
  const updatedAt = item[A.UPDATED_AT];
  // Simple producers write no timestamp: such an item is as stale as it can be. A duplicate
  // hand-off of a brand-new item is harmless (the service's conditional claim answers 409).
  if (typeof updatedAt !== 'string') return true;
  const t = Date.parse(updatedAt);
  return Number.isNaN(t) || t < cutoffMs;
}

/** One sweep run. */
export async function sweep(deps: SweepDependencies): Promise<SweepResult> {
  const now = deps.now();
  const cutoffMs = now.getTime() - deps.stalePendingSeconds * 1000;
  let budget = deps.maxItems;
  let pendingDocuments = 0;
  let stalePendingRedriven = 0;
  let handoffFailures = 0;

  for (const spelling of OcrDocumentStatuses.PENDING_SPELLINGS) {
    const { items, count } = await queryStatus(deps, spelling, deps.maxItems);
    pendingDocuments += count;
    for (const item of items) {
      if (budget <= 0 || !isStale(item, cutoffMs)) continue;
      if (typeof item[A.DOCUMENT_ID] !== 'string') continue;
      budget--;
      const outcome = await handOff({
        record: {
          document_id: item[A.DOCUMENT_ID],
          bucket: item[A.BUCKET],
          key: item[A.KEY],
          status: OcrDocumentStatus.PENDING,
          file_type: item[A.FILE_TYPE],
        },
      }, deps);
      if (outcome === 'transient') {
        // The service is not taking work now; the next run tries again (and each call would only
        // wait out its timeout).
        handoffFailures++;
        budget = 0;
      } else {
        stalePendingRedriven++;
      }
    }
  }

  let expiredClaimsReleased = 0;
  // Releasing claims needs no service call, so it has its own budget.
  budget = deps.maxItems;
  const nowSeconds = Math.floor(now.getTime() / 1000);
  const { items: claimed } = await queryStatus(deps, OcrDocumentStatus.PROCESSING, deps.maxItems);
  for (const item of claimed) {
    const lease = item[A.LEASE_EXPIRES_AT];
    if (budget <= 0 || typeof lease !== 'number' || lease >= nowSeconds) continue;
    budget--;
    try {
      await deps.dynamo.send(new UpdateCommand({
        TableName: deps.tableName,
        Key: { [A.DOCUMENT_ID]: item[A.DOCUMENT_ID] },
        // Only if nobody renewed or finished it since the query.
        ConditionExpression: '#status = :processing AND #lease = :lease',
        UpdateExpression: 'SET #status = :pending, #updated = :now REMOVE #owner, #lease',
        ExpressionAttributeNames: { '#status': A.STATUS, '#lease': A.LEASE_EXPIRES_AT, '#updated': A.UPDATED_AT, '#owner': A.OWNER },
        ExpressionAttributeValues: { ':processing': OcrDocumentStatus.PROCESSING, ':pending': OcrDocumentStatus.PENDING, ':lease': lease, ':now': now.toISOString() },
      }));
      expiredClaimsReleased++;
      deps.log.info('released an expired claim; the stream trigger hands it off again', { documentId: item[A.DOCUMENT_ID], owner: item[A.OWNER], lease });
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      deps.log.info('claim changed since the query; left alone', { documentId: item[A.DOCUMENT_ID] });
    }
  }

  const result = { pendingDocuments, stalePendingRedriven, expiredClaimsReleased, handoffFailures };
  deps.emit(JSON.stringify({
    _aws: {
      Timestamp: now.getTime(),
      CloudWatchMetrics: [{
        Namespace: deps.metricsNamespace,
        Dimensions: [['Service']],
        Metrics: [
          { Name: OcrServiceMetrics.PENDING_DOCUMENTS, Unit: 'Count' },
          { Name: OcrServiceMetrics.STALE_PENDING_REDRIVEN, Unit: 'Count' },
          { Name: OcrServiceMetrics.EXPIRED_CLAIMS_RELEASED, Unit: 'Count' },
        ],
      }],
    },
    Service: deps.metricsService,
    [OcrServiceMetrics.PENDING_DOCUMENTS]: pendingDocuments,
    [OcrServiceMetrics.STALE_PENDING_REDRIVEN]: stalePendingRedriven,
    [OcrServiceMetrics.EXPIRED_CLAIMS_RELEASED]: expiredClaimsReleased,
  }));
  return result;
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return value;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

/** Read and check the sweep's configuration. */
export function sweepSettingsFromEnvironment(env: NodeJS.ProcessEnv) {
  return {
    tableName: required(env, E.TABLE_NAME),
    statusIndexName: required(env, E.STATUS_INDEX_NAME),
    stalePendingSeconds: positiveInteger(env, E.STALE_PENDING_SECONDS, 600),
    maxItems: positiveInteger(env, E.SWEEP_MAX_ITEMS, 100),
    metricsNamespace: env[E.METRICS_NAMESPACE] ?? 'CdkOcrConstructs',
    metricsService: env[E.METRICS_SERVICE] ?? 'OcrServiceCluster',
  };
}
