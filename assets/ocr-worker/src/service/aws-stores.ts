/**
 * AWS implementations of the stores: DynamoDB (status, conditional writes) and S3 (documents,
 * results). Clients are passed in, so tests drive them against dynalite / aws-sdk-client-mock.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { OcrResult } from '../result.ts';
import { isAccessDenied, isNotFound } from '../s3-errors.ts';
import { serviceResultKeys } from '../contract.ts';
import { OUTPUT_CONTENT_TYPES } from '../options.ts';
import {
  DocumentNotFoundError, DocumentTooLargeError, DocumentUnreadableError, epochSeconds, normalizeStatus, nowIso, outputKeyOf, safeFileName, tooManyAttemptsMessage,
  type ClaimOutcome, type ClaimRequest, type CompletionFields, type DocumentItem, type DocumentStore, type ObjectWriter, type ResultStore, type StatusStore,
} from './stores.ts';

/** The spellings of PENDING a claim accepts (producers may write `pending`). */
export const PENDING_SPELLINGS = ['PENDING', 'pending', 'Pending'] as const;

function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string })?.name === 'ConditionalCheckFailedException';
}

/** Builds `SET a = :a, ...` parts for the defined fields of an object, with #name aliases. */
function setParts(fields: Record<string, unknown>, names: Record<string, string>, values: Record<string, unknown>): string[] {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    names[`#f_${k}`] = k;
    values[`:f_${k}`] = v;
    parts.push(`#f_${k} = :f_${k}`);
  }
  return parts;
}

export class DynamoStatusStore implements StatusStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly tableName: string;

  constructor(client: DynamoDBClient, tableName: string) {
    this.tableName = tableName;
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async create(item: DocumentItem): Promise<boolean> {
    const t = nowIso();
    try {
      await this.doc.send(new PutCommand({
        TableName: this.tableName,
        Item: { attempts: 0, version: 1, created_at: t, ...item, updated_at: t },
        ConditionExpression: 'attribute_not_exists(document_id)',
      }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async get(documentId: string): Promise<DocumentItem | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { document_id: documentId }, ConsistentRead: true }));
    return out.Item as DocumentItem | undefined;
  }

  async claim(documentId: string, req: ClaimRequest): Promise<ClaimOutcome> {
    // A claim races other tasks; after a failed condition the item is read again and classified.
    // Three rounds cover "another writer changed it between our update and our read".
    for (let round = 0; round < 3; round++) {
      const names: Record<string, string> = { '#status': 'status', '#owner': 'owner', '#attempts': 'attempts', '#version': 'version', '#lease': 'lease_expires_at', '#updated': 'updated_at' };
      const values: Record<string, unknown> = {
        ':processing': 'PROCESSING', ':owner': req.owner, ':lease': epochSeconds() + req.leaseSeconds, ':zero': 0, ':one': 1,
        ':max': req.maxAttempts, ':now': nowIso(),
      };
      PENDING_SPELLINGS.forEach((s, i) => { values[`:p${i}`] = s; });
      const sets = ['#status = :processing', '#owner = :owner', '#lease = :lease', '#attempts = if_not_exists(#attempts, :zero) + :one',
        '#version = if_not_exists(#version, :zero) + :one', '#updated = :now'];
      for (const k of ['bucket', 'key', 'file_type'] as const) {
        const v = req.fill?.[k];
        if (v === undefined) continue;
        names[`#fill_${k}`] = k;
        values[`:fill_${k}`] = v;
        sets.push(`#fill_${k} = if_not_exists(#fill_${k}, :fill_${k})`);
      }
      try {
        const out = await this.doc.send(new UpdateCommand({
          TableName: this.tableName,
          Key: { document_id: documentId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(document_id) AND #status IN (:p0, :p1, :p2) AND (attribute_not_exists(#attempts) OR #attempts < :max)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }));
        return { kind: 'claimed', item: out.Attributes as DocumentItem };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
      const item = await this.get(documentId);
      if (!item) return { kind: 'not-found' };
      const status = normalizeStatus(item.status);
      if (status === 'SUCCEEDED' || status === 'FAILED') return { kind: 'finished', item };
      if (status !== 'PENDING') return { kind: 'busy', item };
      if ((item.attempts ?? 0) < req.maxAttempts) continue; // changed under us: try again
      try {
        const out = await this.doc.send(new UpdateCommand({
          TableName: this.tableName,
          Key: { document_id: documentId },
          UpdateExpression: 'SET #status = :failed, #code = :code, #msg = :msg, #version = if_not_exists(#version, :zero) + :one, #updated = :now',
          ConditionExpression: '#status IN (:p0, :p1, :p2) AND #attempts >= :max',
          ExpressionAttributeNames: { '#status': 'status', '#code': 'error_code', '#msg': 'error_message', '#version': 'version', '#updated': 'updated_at', '#attempts': 'attempts' },
          ExpressionAttributeValues: {
            ':failed': 'FAILED', ':code': 'TOO_MANY_ATTEMPTS', ':msg': tooManyAttemptsMessage(item),
            ':zero': 0, ':one': 1, ':now': nowIso(), ':max': req.maxAttempts, ':p0': 'PENDING', ':p1': 'pending', ':p2': 'Pending',
          },
          ReturnValues: 'ALL_NEW',
        }));
        return { kind: 'exhausted', item: out.Attributes as DocumentItem };
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
    const item = await this.get(documentId);
    return item ? { kind: 'busy', item } : { kind: 'not-found' };
  }

  /** Runs an update conditional on `status = PROCESSING AND owner = me`; false when the claim is gone. */
  private async asOwner(documentId: string, owner: string, sets: string[], removes: string[], names: Record<string, string>, values: Record<string, unknown>): Promise<boolean> {
    Object.assign(names, { '#status': 'status', '#owner': 'owner', '#version': 'version', '#updated': 'updated_at' });
    Object.assign(values, { ':processing': 'PROCESSING', ':me': owner, ':zero': 0, ':one': 1, ':now': nowIso() });
    sets.push('#version = if_not_exists(#version, :zero) + :one', '#updated = :now');
    try {
      await this.doc.send(new UpdateCommand({
        TableName: this.tableName,
        Key: { document_id: documentId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: '#status = :processing AND #owner = :me',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  renew(documentId: string, owner: string, leaseSeconds: number): Promise<boolean> {
    return this.asOwner(documentId, owner, ['#lease = :lease'], [], { '#lease': 'lease_expires_at' }, { ':lease': epochSeconds() + leaseSeconds });
  }

  complete(documentId: string, owner: string, status: 'SUCCEEDED' | 'FAILED', fields: CompletionFields): Promise<boolean> {
    const names: Record<string, string> = { '#lease': 'lease_expires_at' };
    const values: Record<string, unknown> = { ':final': status };
    const sets = ['#status = :final', ...setParts(fields as Record<string, unknown>, names, values)];
    return this.asOwner(documentId, owner, sets, ['#owner', '#lease'], names, values);
  }

  handBack(documentId: string, owner: string, failure?: string): Promise<boolean> {
    if (failure === undefined) {
      return this.asOwner(documentId, owner, ['#status = :pending', '#attempts = #attempts - :one'], ['#owner', '#lease'],
        { '#lease': 'lease_expires_at', '#attempts': 'attempts' }, { ':pending': 'PENDING' });
    }
    return this.asOwner(documentId, owner, ['#status = :pending', '#lastError = :lastError'], ['#owner', '#lease'],
      { '#lease': 'lease_expires_at', '#lastError': 'last_error' }, { ':pending': 'PENDING', ':lastError': failure });
  }
}

/** Results under `${prefix}${document_id}/result.json` and `result.txt` (text first, JSON last). */
export class S3ResultStore implements ResultStore {
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  constructor(s3: S3Client, bucket: string, prefix: string) { this.s3 = s3; this.bucket = bucket; this.prefix = prefix; }

  async put(documentId: string, result: OcrResult): Promise<{ resultKey: string; textKey: string }> {
    const { json: resultKey, txt: textKey } = serviceResultKeys(this.prefix, documentId);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: textKey, Body: result.text, ContentType: 'text/plain; charset=utf-8' }));
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: resultKey, Body: JSON.stringify(result), ContentType: 'application/json' }));
    return { resultKey, textKey };
  }

  async get(resultKey: string): Promise<OcrResult | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: resultKey }));
      return JSON.parse(await out.Body!.transformToString('utf8'));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async putOutput(documentId: string, format: 'pdf' | 'hocr', bytes: Uint8Array): Promise<string> {
    const key = outputKeyOf(serviceResultKeys(this.prefix, documentId).json, format);
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: OUTPUT_CONTENT_TYPES[format] }));
    return key;
  }

  async getOutput(resultKey: string, format: 'pdf' | 'hocr'): Promise<Uint8Array | undefined> {
    try {
      const out = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: outputKeyOf(resultKey, format) }));
      return await out.Body!.transformToByteArray();
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** Uploads under `${uploadsPrefix}${document_id}/${file name}`; reads any bucket/key the task may read. */
export class S3DocumentStore implements DocumentStore, ObjectWriter {
  private readonly s3: S3Client;
  readonly uploadBucket: string;
  private readonly prefix: string;
  constructor(s3: S3Client, uploadBucket: string, prefix: string) { this.s3 = s3; this.uploadBucket = uploadBucket; this.prefix = prefix; }

  uploadLocation(documentId: string, fileName: string): { bucket: string; key: string } {
    return { bucket: this.uploadBucket, key: `${this.prefix}${documentId}/${safeFileName(fileName)}` };
  }

  /** S3's own rules for bucket names (general purpose buckets) and object keys. */
  locationProblem(bucket: string, key: string): string | null {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) || bucket.includes('..')) {
      return `'${bucket}' is not an S3 bucket name (3-63 characters: lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit).`;
    }
    if (Buffer.byteLength(key, 'utf8') > 1024) return `An S3 object key is at most 1,024 bytes of UTF-8; this one has ${Buffer.byteLength(key, 'utf8')}.`;
    return null;
  }

  /** Any bucket and key the task role may write (Textract's OutputConfig: the buckets its deployment allows). */
  async putObject(bucket: string, key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async putUpload(documentId: string, fileName: string, bytes: Uint8Array): Promise<{ bucket: string; key: string }> {
    const { key } = this.uploadLocation(documentId, fileName);
    await this.s3.send(new PutObjectCommand({ Bucket: this.uploadBucket, Key: key, Body: bytes }));
    return { bucket: this.uploadBucket, key };
  }

  /** HeadObject needs what GetObject needs (s3:GetObject), not the object's KMS key. */
  async size(bucket: string, key: string): Promise<number> {
    try {
      const out = await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return out.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new DocumentNotFoundError(`No object s3://${bucket}/${key}.`);
      if (isAccessDenied(err)) throw new DocumentUnreadableError(`Access to s3://${bucket}/${key} was denied (${(err as Error).name}): this service's task role may not read it.`);
      throw err;
    }
  }

  async get(bucket: string, key: string, maxBytes: number): Promise<Uint8Array> {
    let out;
    try {
      out = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) throw new DocumentNotFoundError(`No object s3://${bucket}/${key}.`);
      if (isAccessDenied(err)) throw new DocumentUnreadableError(`Access to s3://${bucket}/${key} was denied (${(err as Error).name}): this service's task role may not read it or use its KMS key.`);
      throw err;
    }
    // refuse before reading the body when the size is known
    if (out.ContentLength !== undefined && out.ContentLength > maxBytes) {
      (out.Body as { destroy?: () => void } | undefined)?.destroy?.();
      throw new DocumentTooLargeError(out.ContentLength, maxBytes);
    }
    const bytes = await out.Body!.transformToByteArray();
    if (bytes.length > maxBytes) throw new DocumentTooLargeError(bytes.length, maxBytes);
    return bytes;
  }
}
