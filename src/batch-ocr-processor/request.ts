/**
 * The request contract of the BatchOcrProcessor API: the JSON schema (draft-04, the dialect API
 * Gateway request models speak) and the handler's own validation, which checks the same rules and
 * the ones a schema cannot (body size, duplicate keys, keys that exist).
 *
 * Kept free of AWS SDK and CDK imports so the construct (request model), the handlers and the
 * tests share one definition.
 */

/** Receives of a queued request before the gathering queue gives up on it (its redrive policy). */
export const GATHER_MAX_RECEIVE_COUNT = 5;

/** Hard limits of the contract. */
export const LIMITS = {
  /** S3 object keys are at most 1,024 bytes of UTF-8. */
  maxKeyLength: 1024,
  /** Batch array jobs have at most 10,000 children. */
  maxArrayChildren: 10_000,
  /** Upper bound for the `maxDocumentsPerJob` prop (documents per request). */
  maxDocumentsPerJobCeiling: 100_000,
  /** Largest request body the handler accepts (API Gateway allows 10 MB). */
  maxBodyBytes: 2 * 1024 * 1024,
  maxLanguages: 5,
  minDpi: 72,
  maxDpi: 600,
  maxPagesCeiling: 10_000,
  maxPasswordLength: 256,
} as const;

/** Key rule shared by the schema and the handler: relative, no `..` segment, no scheme, no control characters. */
export const KEY_PATTERN = '^(?!/)(?![a-zA-Z][a-zA-Z0-9+.-]*://)(?!(.*/)?\\.\\.(/|$))[^\\u0000-\\u001F\\u007F]+$';
/** Tesseract language codes: `eng`, `deu`, `chi_sim`, `script_latin` style. */
export const LANGUAGE_PATTERN = '^[a-z]{3,}(_[a-z]+)*$';

/** OCR options a request may set (the worker contract's manifest `options`). */
export interface OcrRequestOptions {
  readonly languages?: string[];
  readonly dpi?: number;
  readonly maxPages?: number;
  readonly password?: string;
  /**
   * What each document gets besides its JSON result: `pdf` a searchable PDF, `hocr` hOCR, `textract`
   * Amazon Textract's GetDocumentTextDetection response for it (default `['json']`).
   */
  readonly outputs?: OutputFormat[];
  /** Word and line boxes in the JSON result (default true). */
  readonly geometry?: boolean;
}

/** The worker's outputs per document (its JSON result always). */
export type OutputFormat = 'json' | 'pdf' | 'hocr' | 'textract';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['json', 'pdf', 'hocr', 'textract'];

/** A validated submit request. */
export interface SubmitRequest {
  readonly documents: string[];
  readonly options: OcrRequestOptions;
}

/** A request that fails validation: a 4xx with a code and a reason. */
export class RequestError extends Error {
  constructor(public readonly statusCode: number, public readonly code: string, message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

/**
 * JSON schema (draft-04) of `POST /jobs`. Either `document` (one key) or `documents` (a list),
 * plus optional `options`. `maxDocuments` is the construct's `maxDocumentsPerJob`.
 */
export function submitRequestSchema(maxDocuments: number): { [key: string]: unknown } {
  const key = { type: 'string', minLength: 1, maxLength: LIMITS.maxKeyLength, pattern: KEY_PATTERN };
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'SubmitOcrJob',
    type: 'object',
    additionalProperties: false,
    properties: {
      document: key,
      documents: { type: 'array', minItems: 1, maxItems: maxDocuments, uniqueItems: true, items: key },
      options: {
        type: 'object',
        additionalProperties: false,
        properties: {
          languages: {
            type: 'array',
            minItems: 1,
            maxItems: LIMITS.maxLanguages,
            items: { type: 'string', pattern: LANGUAGE_PATTERN, maxLength: 32 },
          },
          dpi: { type: 'integer', minimum: LIMITS.minDpi, maximum: LIMITS.maxDpi },
          maxPages: { type: 'integer', minimum: 1, maximum: LIMITS.maxPagesCeiling },
          password: { type: 'string', minLength: 1, maxLength: LIMITS.maxPasswordLength },
          outputs: { type: 'array', minItems: 1, maxItems: OUTPUT_FORMATS.length, uniqueItems: true, items: { type: 'string', enum: [...OUTPUT_FORMATS] } },
          geometry: { type: 'boolean' },
        },
      },
    },
    oneOf: [{ required: ['document'] }, { required: ['documents'] }],
  };
}

/** JSON schema (draft-04) of `POST /uploads`: where to put one document. */
export function uploadRequestSchema(): { [key: string]: unknown } {
  return {
    $schema: 'http://json-schema.org/draft-04/schema#',
    title: 'RequestUploadUrl',
    type: 'object',
    additionalProperties: false,
    required: ['key'],
    properties: {
      key: { type: 'string', minLength: 1, maxLength: 512, pattern: KEY_PATTERN },
      contentType: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[a-z]+/[a-zA-Z0-9.+-]+$' },
    },
  };
}

const keyRegex = new RegExp(KEY_PATTERN);
const languageRegex = new RegExp(LANGUAGE_PATTERN);

/** Header lookup in any letter case (HTTP header names are case-insensitive). */
export function header(headers: { [name: string]: string | undefined } | null | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === wanted && v !== undefined) return v;
  }
  return undefined;
}

/** Reject anything but a JSON body (a charset parameter is fine). */
export function checkContentType(headers: { [name: string]: string | undefined } | null | undefined): void {
  const contentType = header(headers, 'content-type');
  if (!contentType) throw new RequestError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  const mediaType = contentType.split(';')[0].trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new RequestError(415, 'UNSUPPORTED_MEDIA_TYPE', `Content-Type must be application/json, got '${mediaType}'`);
  }
}

/** Parse a JSON object body within the size limit. */
export function parseJsonBody(body: string | null | undefined, isBase64Encoded: boolean | undefined, maxBytes: number): { [key: string]: unknown } {
  if (body === null || body === undefined || body.length === 0) {
    throw new RequestError(400, 'EMPTY_BODY', 'Request body is missing');
  }
  const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new RequestError(413, 'BODY_TOO_LARGE', `Request body is ${bytes} bytes; the limit is ${maxBytes}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new RequestError(400, 'INVALID_JSON', 'Request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new RequestError(400, 'INVALID_REQUEST', 'Request body must be a JSON object');
  }
  if (Object.keys(parsed).length === 0) {
    throw new RequestError(400, 'EMPTY_BODY', 'Request body is an empty object');
  }
  return parsed as { [key: string]: unknown };
}

function invalid(message: string): never {
  throw new RequestError(400, 'INVALID_REQUEST', message);
}

/** Validate one S3 key of the input bucket. `where` names it in messages. */
export function checkKey(value: unknown, where: string, inputBucket: string): string {
  if (typeof value !== 'string') invalid(`${where} must be a string`);
  if (value.length === 0) invalid(`${where} must not be empty`);
  if (Buffer.byteLength(value, 'utf8') > LIMITS.maxKeyLength) invalid(`${where} is longer than ${LIMITS.maxKeyLength} bytes`);
  const s3Uri = /^s3:\/\/([^/]+)\/(.*)$/.exec(value);
  if (s3Uri) {
    if (s3Uri[1] !== inputBucket) invalid(`${where} is in bucket '${s3Uri[1]}'; only keys of the input bucket are accepted`);
    invalid(`${where} must be a key of the input bucket, not an s3:// URI`);
  }
  if (value.startsWith('/')) invalid(`${where} must be a relative key, not an absolute path`);
  if (/(^|\/)\.\.(\/|$)/.test(value)) invalid(`${where} must not contain '..' path segments`);
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(value)) invalid(`${where} must be a key of the input bucket, not a URL`);
  if (!keyRegex.test(value)) invalid(`${where} contains control characters`);
  return value;
}

function checkOptions(value: unknown, defaults: OcrRequestOptions, availableLanguages?: readonly string[]): OcrRequestOptions {
  if (value === undefined) return defaults;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid('options must be an object');
  const o = value as { [key: string]: unknown };
  const known = ['languages', 'dpi', 'maxPages', 'password', 'outputs', 'geometry'];
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0) invalid(`Unknown option(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
  let languages = defaults.languages;
  if (o.languages !== undefined) {
    if (!Array.isArray(o.languages) || o.languages.length === 0) invalid('options.languages must be a non-empty array of language codes');
    if (o.languages.length > LIMITS.maxLanguages) invalid(`options.languages has ${o.languages.length} entries; at most ${LIMITS.maxLanguages}`);
    for (const l of o.languages) {
      if (typeof l !== 'string' || l.length > 32 || !languageRegex.test(l)) invalid(`options.languages: '${String(l)}' is not a language code such as 'eng' or 'chi_sim'`);
      // the job would fail at its start, for every document: refused now, nothing submitted
      if (availableLanguages && !availableLanguages.includes(l)) {
        invalid(`options.languages: the worker image has no language data for '${l}' (it has: ${availableLanguages.join(', ')})`);
      }
    }
    languages = o.languages as string[];
  }
  const integer = (name: string, min: number, max: number): number | undefined => {
    const v = o[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v)) invalid(`options.${name} must be an integer`);
    if (v < min || v > max) invalid(`options.${name} must be from ${min} to ${max}, got ${v}`);
    return v;
  };
  const dpi = integer('dpi', LIMITS.minDpi, LIMITS.maxDpi) ?? defaults.dpi;
  const maxPages = integer('maxPages', 1, LIMITS.maxPagesCeiling) ?? defaults.maxPages;
  let password: string | undefined;
  if (o.password !== undefined) {
    if (typeof o.password !== 'string' || o.password.length === 0) invalid('options.password must be a non-empty string');
    if (o.password.length > LIMITS.maxPasswordLength) invalid(`options.password is longer than ${LIMITS.maxPasswordLength} characters`);
    password = o.password;
  }
  let outputs = defaults.outputs;
  if (o.outputs !== undefined) {
    if (!Array.isArray(o.outputs) || o.outputs.length === 0 || !o.outputs.every((f) => (OUTPUT_FORMATS as readonly unknown[]).includes(f))) {
      invalid(`options.outputs must be a non-empty array out of ${OUTPUT_FORMATS.map((f) => `'${f}'`).join(', ')}`);
    }
    outputs = [...new Set(o.outputs as OutputFormat[])];
  }
  if (o.geometry !== undefined && typeof o.geometry !== 'boolean') invalid('options.geometry must be true or false');
  const geometry = (o.geometry as boolean | undefined) ?? defaults.geometry;
  return { languages, dpi, maxPages, password, ...(outputs ? { outputs } : {}), ...(geometry !== undefined ? { geometry } : {}) };
}

/**
 * Validate a parsed `POST /jobs` body: the rules of `submitRequestSchema` plus duplicates, and, when
 * the worker image's languages are known (the bundled image), that it has the languages asked for.
 * Existence and size of the keys are checked separately (they need S3).
 */
export function validateSubmitRequest(
  body: { [key: string]: unknown }, inputBucket: string, maxDocuments: number, defaults: OcrRequestOptions,
  availableLanguages?: readonly string[],
): SubmitRequest {
  const known = ['document', 'documents', 'options'];
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length > 0) invalid(`Unknown field(s): ${unknown.join(', ')} (known: ${known.join(', ')})`);
  if (body.document !== undefined && body.documents !== undefined) invalid("Give either 'document' or 'documents', not both");
  let documents: string[];
  if (body.document !== undefined) {
    documents = [checkKey(body.document, 'document', inputBucket)];
  } else if (body.documents !== undefined) {
    if (!Array.isArray(body.documents)) invalid('documents must be an array of S3 keys');
    if (body.documents.length === 0) invalid('documents must list at least one key');
    if (body.documents.length > maxDocuments) {
      throw new RequestError(400, 'TOO_MANY_DOCUMENTS', `documents lists ${body.documents.length} keys; at most ${maxDocuments} per job`);
    }
    documents = body.documents.map((k, i) => checkKey(k, `documents[${i}]`, inputBucket));
    const seen = new Set<string>();
    documents.forEach((k, i) => {
      if (seen.has(k)) invalid(`documents[${i}] repeats the key '${k}'`);
      seen.add(k);
    });
  } else {
    invalid("Give 'document' (one S3 key) or 'documents' (a list of S3 keys)");
  }
  return { documents, options: checkOptions(body.options, defaults, availableLanguages) };
}

/** Validate a parsed `POST /uploads` body. */
export function validateUploadRequest(body: { [key: string]: unknown }, inputBucket: string): { key: string; contentType: string } {
  const unknown = Object.keys(body).filter((k) => !['key', 'contentType'].includes(k));
  if (unknown.length > 0) invalid(`Unknown field(s): ${unknown.join(', ')} (known: key, contentType)`);
  const key = checkKey(body.key, 'key', inputBucket);
  if (key.length > 512) invalid('key is longer than 512 characters');
  let contentType = 'application/octet-stream';
  if (body.contentType !== undefined) {
    if (typeof body.contentType !== 'string' || !/^[a-z]+\/[a-zA-Z0-9.+-]+$/.test(body.contentType) || body.contentType.length > 128) {
      invalid('contentType must be a media type such as application/pdf');
    }
    contentType = body.contentType;
  }
  return { key, contentType };
}

// ---------------------------------------------------------------------------------------------
// Access: who may name which keys of the input bucket
// ---------------------------------------------------------------------------------------------

/**
 * Owner of the jobs the S3 trigger submits. Caller ids never contain this value's shape (IAM unique
 * ids are upper-case letters and digits, Cognito subs are UUIDs), so no API caller owns these jobs.
 */
export const SYSTEM_OWNER = 'system:s3-trigger';
/** Owner of the jobs single-document requests are gathered into: no caller; each request has its own record. */
export const GATHERING_OWNER = 'system:gathering';

/** How API callers authenticate (the construct's `authorization`): where their id comes from. */
export type CallerAuth = 'IAM' | 'COGNITO';

/**
 * The caller's id from the authenticated identity API Gateway puts in the request context, or
 * undefined when there is none. Ids are safe as one S3 key segment.
 *
 * - IAM: `identity.caller`, the unique id of the principal that signed the request (as the
 *   `aws:userid` policy variable): `AIDA…` for an IAM user, the account id for the root user,
 *   `account:name` for a federated user, `AROA…:session` for a role session — reduced to the role's
 *   `AROA…`, because whoever assumes a role chooses the session name, so it cannot tell callers
 *   apart. Unique ids, unlike ARNs, are not reused when a user or role is deleted and created again.
 * - COGNITO: the `sub` claim of the user pool token (`authorizer.claims.sub`).
 *
 * Sources: API Gateway developer guide, "Variables for data transformations" (`$context.identity.caller`,
 * `$context.authorizer.claims.property`); IAM user guide, "IAM policy elements: Variables and tags"
 * (`aws:userid` values).
 */
export function callerIdFrom(auth: CallerAuth, requestContext: {
  identity?: { caller?: string | null } | null;
  authorizer?: { claims?: { sub?: unknown } } | null;
} | undefined): string | undefined {
  const raw = auth === 'COGNITO' ? requestContext?.authorizer?.claims?.sub : requestContext?.identity?.caller;
  if (typeof raw !== 'string') return undefined;
  const roleSession = /^(AROA[A-Z0-9]+):/.exec(raw);
  const id = roleSession ? roleSession[1] : raw;
  return /^[A-Za-z0-9_.@=,+:-]{1,128}$/.test(id) && !id.startsWith('system:') ? id : undefined;
}

/** What a caller may name in `POST /jobs` (the construct's `allowedInputPrefixes` and `callerScopedInput`). */
export interface InputAccess {
  /** Prefix of `POST /uploads` objects, ending with '/'; each caller owns `<uploadPrefix><caller-id>/`. */
  readonly uploadPrefix: string;
  /** Prefixes every caller may name, each ending with '/' ('' = the whole bucket). */
  readonly allowedInputPrefixes: readonly string[];
  /** Each caller may only name keys under `<prefix><caller-id>/` of each allowed prefix. */
  readonly callerScoped: boolean;
}

/** The upload folder of one caller: other callers can neither write nor name keys in it. */
export function uploadFolderOf(access: Pick<InputAccess, 'uploadPrefix'>, callerId: string): string {
  return `${access.uploadPrefix}${callerId}/`;
}

/** The key prefixes one caller may name: its own upload folder, then the allowed prefixes (scoped to the caller if so configured). */
export function prefixesOf(access: InputAccess, callerId: string): string[] {
  const allowed = access.allowedInputPrefixes.map((p) => (access.callerScoped ? `${p}${callerId}/` : p));
  return [uploadFolderOf(access, callerId), ...allowed];
}

/**
 * Refuse documents this caller may not name, before any S3 request: the answer is the same whether
 * the key exists or not, so it reveals nothing about other callers' objects. Keys under the upload
 * prefix belong to their uploader even when an allowed prefix (such as '' for the whole bucket)
 * covers them.
 */
export function checkDocumentAccess(documents: readonly string[], access: InputAccess, callerId: string): void {
  const own = uploadFolderOf(access, callerId);
  const prefixes = prefixesOf(access, callerId);
  const refused = documents.filter((key) => (key.startsWith(access.uploadPrefix)
    ? !key.startsWith(own)
    : !prefixes.some((p) => key.startsWith(p))));
  if (refused.length === 0) return;
  const shown = refused.slice(0, 5).map((k) => `'${k}'`).join(', ');
  throw new RequestError(403, 'DOCUMENT_NOT_ALLOWED',
    `${refused.length} document(s) outside the prefixes this caller may name (${prefixes.map((p) => `'${p}'`).join(', ')}): ${shown}${refused.length > 5 ? ', ...' : ''}`);
}
