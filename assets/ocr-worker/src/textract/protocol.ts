/**
 * Amazon Textract's wire protocol, AWS JSON 1.1: `POST /` with `X-Amz-Target: Textract.<Operation>`
 * and `Content-Type: application/x-amz-json-1.1`; errors are `{ "__type": ..., "message": ... }`
 * with the HTTP status the service documents. The AWS SDKs read the error's type from `__type`
 * (or the `x-amzn-errortype` header) and decide from it whether to retry.
 */

export const TEXTRACT_CONTENT_TYPE = 'application/x-amz-json-1.1';
export const TEXTRACT_TARGET_PREFIX = 'Textract.';

/** The operations this service answers (Textract's text detection). */
export const TEXTRACT_OPERATIONS = ['DetectDocumentText', 'StartDocumentTextDetection', 'GetDocumentTextDetection'] as const;
export type TextractOperation = typeof TEXTRACT_OPERATIONS[number];

/** The error types of Textract's text-detection operations (the SDK's model, `@aws-sdk/client-textract`). */
export type TextractErrorType =
  | 'AccessDeniedException'
  | 'BadDocumentException'
  | 'DocumentTooLargeException'
  | 'IdempotentParameterMismatchException'
  | 'InternalServerError'
  | 'InvalidJobIdException'
  | 'InvalidParameterException'
  | 'InvalidS3ObjectException'
  | 'LimitExceededException'
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'UnsupportedDocumentException'
  | 'UnknownOperationException';

/**
 * Server faults answer 500, client faults 400, as the Textract API reference lists them
 * (ThrottlingException and InternalServerError are the server faults of these operations; the SDK
 * retries both, and ProvisionedThroughputExceededException as a throttling error).
 */
const SERVER_FAULTS = new Set<TextractErrorType>(['InternalServerError', 'ThrottlingException']);

export class TextractError extends Error {
  readonly type: TextractErrorType;

  constructor(type: TextractErrorType, message: string) {
    super(message);
    this.type = type;
  }

  get status(): number {
    return SERVER_FAULTS.has(this.type) ? 500 : 400;
  }

  body(): { __type: TextractErrorType; message: string } {
    return { __type: this.type, message: this.message };
  }
}

/** The operation a request names in `X-Amz-Target`, or a TextractError for an unknown one. */
export function operationOf(target: string): TextractOperation {
  const name = target.startsWith(TEXTRACT_TARGET_PREFIX) ? target.slice(TEXTRACT_TARGET_PREFIX.length) : '';
  if ((TEXTRACT_OPERATIONS as readonly string[]).includes(name)) return name as TextractOperation;
  throw new TextractError('UnknownOperationException',
    `This service answers ${TEXTRACT_OPERATIONS.map((o) => TEXTRACT_TARGET_PREFIX + o).join(', ')}; not '${target}'.`);
}

/** Textract's validation of one request field: the message names the field, as Textract's do. */
export function invalidParameter(message: string): TextractError {
  return new TextractError('InvalidParameterException', message);
}
