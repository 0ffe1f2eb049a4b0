// Tests live beside the code in src/; their AWS SDK and mock imports are devDependencies by design.
/* eslint-disable import/no-extraneous-dependencies */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { sweep, SweepDependencies, sweepSettingsFromEnvironment } from './stale-sweep';
import { handler } from './stale-sweep.lambda';

const ddb = mockClient(DynamoDBDocumentClient);
const NOW = new Date('2026-11-23T12:00:00.000Z');
const NOW_S = Math.floor(NOW.getTime() / 1000);

interface Call { body: any }

function setup(fetchStatus = 202) {
  const calls: Call[] = [];
  const fetchImpl = (async (_url: string, init: RequestInit) => {
    calls.push({ body: JSON.parse(String(init.body)) });
    return new Response('{}', { status: fetchStatus });
  }) as unknown as typeof globalThis.fetch;
  const emitted: any[] = [];
  const logs: string[] = [];
  const deps: SweepDependencies = {
    fetch: fetchImpl,
    serviceUrl: 'http://ocr.internal',
    timeoutMs: 1000,
    log: { info: (message) => logs.push(message), warn: (message) => logs.push(message), error: (message) => logs.push(message) },
    dynamo: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } })),
    tableName: 'status',
    statusIndexName: 'status-index',
    stalePendingSeconds: 600,
    maxItems: 100,
    metricsNamespace: 'CdkOcrConstructs',
    metricsService: 'ocr-test',
    now: () => NOW,
    emit: (line) => emitted.push(JSON.parse(line)),
  };
  return { deps, calls, emitted, logs };
}

function answerQueries(byStatus: Record<string, any[]>) {
  ddb.on(QueryCommand).callsFake((input) => {
    const items = byStatus[input.ExpressionAttributeValues[':status']] ?? [];
    return { Items: items, Count: items.length };
  });
}

beforeEach(() => ddb.reset());

describe('stale sweep', () => {
  test('GIVEN an old pending item, a fresh one and seed 003\'s item without timestamp WHEN swept THEN the old and the untimed ones are handed off', async () => {
    answerQueries({
      PENDING: [
        { document_id: 'old', bucket: 'b', key: 'k1', updated_at: '2026-11-23T11:00:00.000Z' },
        { document_id: 'fresh', bucket: 'b', key: 'k2', updated_at: '2026-11-23T11:58:00.000Z' },
      ],
      pending: [{ document_id: 'seed', bucket: 'b', key: 'k3', file_type: 'pdf' }],
    });
    const { deps, calls, emitted } = setup();
    const result = await sweep(deps);
    expect(calls.map((c) => c.body.record.document_id).sort()).toEqual(['old', 'seed']);
    expect(calls.every((c) => c.body.record.status === 'PENDING')).toBe(true);
    expect(result).toEqual({ pendingDocuments: 3, stalePendingRedriven: 2, expiredClaimsReleased: 0, handoffFailures: 0 });
    expect(emitted[0]).toMatchObject({ Service: 'ocr-test', PendingDocuments: 3, StalePendingRedriven: 2, ExpiredClaimsReleased: 0 });
    expect(emitted[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'CdkOcrConstructs', Dimensions: [['Service']] });
  });

  test('GIVEN an expired claim and a live one WHEN swept THEN only the expired one returns to PENDING, conditionally', async () => {
    answerQueries({
      PROCESSING: [
        { document_id: 'dead', owner: 'task-a', lease_expires_at: NOW_S - 30 },
        { document_id: 'alive', owner: 'task-b', lease_expires_at: NOW_S + 300 },
      ],
    });
    ddb.on(UpdateCommand).resolves({});
    const { deps, calls } = setup();
    const result = await sweep(deps);
    expect(result.expiredClaimsReleased).toBe(1);
    expect(calls).toHaveLength(0);
    const updates = ddb.commandCalls(UpdateCommand);
    expect(updates).toHaveLength(1);
    expect(updates[0].args[0].input).toMatchObject({
      TableName: 'status',
      Key: { document_id: 'dead' },
      ConditionExpression: '#status = :processing AND #lease = :lease',
      ExpressionAttributeValues: { ':processing': 'PROCESSING', ':pending': 'PENDING', ':lease': NOW_S - 30, ':now': NOW.toISOString() },
    });
  });

  test('GIVEN a claim renewed between query and update WHEN the condition fails THEN the sweep leaves it and goes on', async () => {
    answerQueries({ PROCESSING: [{ document_id: 'raced', lease_expires_at: NOW_S - 1 }, { document_id: 'dead', lease_expires_at: NOW_S - 1 }] });
    ddb.on(UpdateCommand, { Key: { document_id: 'raced' } }).rejects(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }));
    ddb.on(UpdateCommand, { Key: { document_id: 'dead' } }).resolves({});
    const { deps } = setup();
    expect((await sweep(deps)).expiredClaimsReleased).toBe(1);
  });

  test('GIVEN DynamoDB fails otherwise WHEN swept THEN the error propagates (the run is retried and lands in the DLQ)', async () => {
    answerQueries({ PROCESSING: [{ document_id: 'dead', lease_expires_at: NOW_S - 1 }] });
    ddb.on(UpdateCommand).rejects(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));
    const { deps } = setup();
    await expect(sweep(deps)).rejects.toThrow('throttled');
  });

  test('GIVEN more stale items than the budget WHEN swept THEN it stops at maxItems', async () => {
    answerQueries({ PENDING: Array.from({ length: 5 }, (_, i) => ({ document_id: `d${i}` })) });
    const { deps, calls } = setup();
    const result = await sweep({ ...deps, maxItems: 2 });
    expect(calls).toHaveLength(2);
    expect(result.pendingDocuments).toBe(5);
  });

  test('GIVEN the service is down WHEN stale items are handed off THEN it stops at the first failure and counts it, without throwing', async () => {
    answerQueries({ PENDING: [{ document_id: 'd1' }, { document_id: 'd2' }], PROCESSING: [{ document_id: 'dead', lease_expires_at: NOW_S - 1 }] });
    ddb.on(UpdateCommand).resolves({});
    const { deps, calls } = setup(503);
    expect(await sweep(deps)).toMatchObject({ stalePendingRedriven: 0, handoffFailures: 1, expiredClaimsReleased: 1 });
    expect(calls).toHaveLength(1);
  });

  test('GIVEN paginated query results WHEN swept THEN every page is counted', async () => {
    let page = 0;
    ddb.on(QueryCommand).callsFake((input) => {
      if (input.ExpressionAttributeValues[':status'] !== 'PENDING') return { Items: [], Count: 0 };
      page++;
      return page === 1
        ? { Items: [{ document_id: 'p1', updated_at: NOW.toISOString() }], Count: 1, LastEvaluatedKey: { document_id: 'p1', status: 'PENDING' } }
        : { Items: [{ document_id: 'p2', updated_at: NOW.toISOString() }], Count: 1 };
    });
    const { deps, calls } = setup();
    expect((await sweep(deps)).pendingDocuments).toBe(2);
    expect(calls).toHaveLength(0);
    const second = ddb.commandCalls(QueryCommand).find((c) => c.args[0].input.ExclusiveStartKey);
    expect(second?.args[0].input).toMatchObject({ IndexName: 'status-index', ExclusiveStartKey: { document_id: 'p1', status: 'PENDING' } });
  });

  test('GIVEN the environment WHEN read THEN defaults apply and bad values fail clearly', () => {
    expect(sweepSettingsFromEnvironment({ OCR_TABLE_NAME: 't', OCR_STATUS_INDEX_NAME: 'i' })).toEqual({
      tableName: 't', statusIndexName: 'i', stalePendingSeconds: 600, maxItems: 100, metricsNamespace: 'CdkOcrConstructs', metricsService: 'OcrServiceCluster',
    });
    expect(() => sweepSettingsFromEnvironment({ OCR_STATUS_INDEX_NAME: 'i' })).toThrow('OCR_TABLE_NAME must be set');
    expect(() => sweepSettingsFromEnvironment({ OCR_TABLE_NAME: 't', OCR_STATUS_INDEX_NAME: 'i', OCR_STALE_PENDING_SECONDS: '0' })).toThrow(/OCR_STALE_PENDING_SECONDS must be a positive integer/);
  });

  test('GIVEN the Lambda entry point configured by the environment WHEN invoked THEN it releases the expired claim and publishes the queue as EMF', async () => {
    // The entry point runs on the real clock: an item updated just now is not stale yet.
    answerQueries({ pending: [{ document_id: 'fresh', updated_at: new Date().toISOString() }], PROCESSING: [{ document_id: 'dead', lease_expires_at: 1 }] });
    ddb.on(UpdateCommand).resolves({});
    const env = { ...process.env };
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => { printed.push(line); });
    try {
      Object.assign(process.env, { OCR_SERVICE_URL: 'http://ocr.internal', OCR_TABLE_NAME: 'status', OCR_STATUS_INDEX_NAME: 'status-index', OCR_METRICS_SERVICE: 'ocr-test' });
      expect(await handler()).toEqual({ pendingDocuments: 1, stalePendingRedriven: 0, expiredClaimsReleased: 1, handoffFailures: 0 });
    } finally {
      log.mockRestore();
      process.env = env;
    }
    expect(ddb.commandCalls(UpdateCommand)[0].args[0].input).toMatchObject({ TableName: 'status', Key: { document_id: 'dead' } });
    expect(printed.map((line) => JSON.parse(line))).toContainEqual(expect.objectContaining({ Service: 'ocr-test', PendingDocuments: 1, ExpiredClaimsReleased: 1 }));
  });
});
