/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * Shared fixtures of the BatchOcrProcessor tests (src/batch-ocr-processor/*.test.ts): the handlers'
 * config, mocked AWS clients, an in-memory idempotency table, API Gateway events, and a quick synth.
 */
import { BatchClient } from '@aws-sdk/client-batch';
import {
  AttributeValue, ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { newTestStack } from './compliance';
import { BatchOcrProcessor } from '../../src/batch-ocr-processor/batch-ocr-processor';
import type { Clients, ProcessorConfig } from '../../src/batch-ocr-processor/jobs';
import { BatchOcrProcessorProps } from '../../src/batch-ocr-processor/props';

export const INPUT_BUCKET = 'ocr-input-bucket';
/** The IAM unique id of the default caller of apiEvent (an IAM user). */
export const ALICE = 'AIDAALICE000000000001';
export const OUTPUT_BUCKET = 'ocr-output-bucket';

export function testConfig(overrides: Partial<ProcessorConfig> = {}): ProcessorConfig {
  return {
    inputBucket: INPUT_BUCKET,
    outputBucket: OUTPUT_BUCKET,
    outputPrefix: 'results/',
    jobTable: 'jobs',
    jobQueue: 'arn:aws:batch:us-east-1:111111111111:job-queue/ocr',
    jobDefinitionName: 'ocr-worker',
    maxDocuments: 10_000,
    // One document per child unless a test packs: the tests of array jobs below count children by documents.
    targetBytesPerChild: 64 * 1024 * 1024,
    maxDocumentsPerChild: 1,
    gatherMaxReceiveCount: 5,
    maxDocumentBytes: 100 * 1024 * 1024,
    defaultOptions: { languages: ['eng'], dpi: 300 },
    ingestOptions: { languages: ['eng'], dpi: 300 },
    recordTtlDays: 90,
    presignSeconds: 900,
    eventSource: 'cdk-ocr-constructs',
    eventBusName: 'default',
    uploadPrefix: 'uploads/',
    // The whole bucket, so that these tests name keys freely (access.test.ts covers the restrictions).
    allowedInputPrefixes: [''],
    ...overrides,
  };
}

export interface MockedClients {
  readonly clients: Clients;
  readonly s3: AwsClientStub<S3Client>;
  readonly batch: AwsClientStub<BatchClient>;
  readonly ddb: AwsClientStub<DynamoDBDocumentClient>;
  readonly events: AwsClientStub<EventBridgeClient>;
}

/** Fresh client instances, each with its own mock (instances, not classes: tests stay independent). */
export function mockedClients(): MockedClients {
  const credentials = { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' };
  const s3Client = new S3Client({ region: 'us-east-1', credentials });
  const batchClient = new BatchClient({ region: 'us-east-1', credentials });
  const ddbClient = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', credentials }), { marshallOptions: { removeUndefinedValues: true } });
  const eventsClient = new EventBridgeClient({ region: 'us-east-1', credentials });
  return {
    clients: { s3: s3Client, batch: batchClient, ddb: ddbClient, events: eventsClient },
    s3: mockClient(s3Client),
    batch: mockClient(batchClient),
    ddb: mockClient(ddbClient),
    events: mockClient(eventsClient),
  };
}

/**
 * A DynamoDB client holding idempotency records in memory, with the conditional-put semantics
 * Powertools' DynamoDBPersistenceLayer relies on (existing unexpired record → conditional check
 * fails and returns the old item).
 */
export function inMemoryIdempotencyClient(): { client: DynamoDBClient; items: Map<string, Record<string, AttributeValue>> } {
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'secret' } });
  const items = new Map<string, Record<string, AttributeValue>>();
  const mock = mockClient(client);
  mock.on(PutItemCommand).callsFake((input: { Item: Record<string, AttributeValue> }) => {
    const id = input.Item.id.S!;
    const existing = items.get(id);
    if (existing) {
      const expired = Number(existing.expiration?.N ?? 0) < Date.now() / 1000;
      const inProgressExpired = existing.status?.S === 'INPROGRESS' && existing.in_progress_expiration !== undefined
        && Number(existing.in_progress_expiration.N) < Date.now();
      if (!expired && !inProgressExpired) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: existing });
      }
    }
    items.set(id, { ...input.Item });
    return {};
  });
  mock.on(GetItemCommand).callsFake((input: { Key: Record<string, AttributeValue> }) => ({ Item: items.get(input.Key.id.S!) }));
  type UpdateInput = { Key: Record<string, AttributeValue>; ExpressionAttributeValues: Record<string, AttributeValue> };
  mock.on(UpdateItemCommand).callsFake((input: UpdateInput) => {
    const item = items.get(input.Key.id.S!) ?? { id: input.Key.id };
    const v = input.ExpressionAttributeValues;
    item.expiration = v[':expiry'];
    item.status = v[':status'];
    if (v[':response_data']) item.data = v[':response_data'];
    if (v[':validation_key']) item.validation = v[':validation_key'];
    items.set(input.Key.id.S!, item);
    return {};
  });
  mock.on(DeleteItemCommand).callsFake((input: { Key: Record<string, AttributeValue> }) => {
    items.delete(input.Key.id.S!);
    return {};
  });
  return { client, items };
}

/** An API Gateway proxy event as the REST API sends it. */
export function apiEvent(overrides: Partial<APIGatewayProxyEvent> & { json?: unknown } = {}): APIGatewayProxyEvent {
  const { json, ...rest } = overrides;
  return {
    body: json === undefined ? null : JSON.stringify(json),
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    httpMethod: 'POST',
    isBase64Encoded: false,
    path: '/jobs',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource: '/jobs',
    requestContext: {
      requestId: 'req-1',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      stage: 'v1',
      identity: { userArn: 'arn:aws:iam::111111111111:user/alice', caller: ALICE },
    } as unknown as APIGatewayProxyEvent['requestContext'],
    ...rest,
  };
}

/** The parsed JSON body of a handler response. */
export function body(result: { body: string }): any {
  return JSON.parse(result.body);
}

/**
 * The template of a BatchOcrProcessor 'Ocr' on a registry image (nothing to build), without cdk-nag:
 * for assertions on props and wiring. `props` may take the stack, to import resources into it.
 */
export function synthProcessor(props: BatchOcrProcessorProps | ((stack: Stack) => BatchOcrProcessorProps) = {}): Template {
  const stack = newTestStack(new App());
  const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');
  new BatchOcrProcessor(stack, 'Ocr', { image, ...(typeof props === 'function' ? props(stack) : props) });
  return Template.fromStack(stack);
}
