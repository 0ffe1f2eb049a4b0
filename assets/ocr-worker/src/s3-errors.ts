/** How S3 reports the two failures that say something about one object rather than the service. */
interface S3ErrorShape { name?: string; $metadata?: { httpStatusCode?: number } }

/** The object (or bucket) does not exist. */
export function isNotFound(err: unknown): boolean {
  const e = err as S3ErrorShape | undefined;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * Access denied: the role may not read the object, or may not use its KMS key; S3 also answers so for a
 * missing object when the role may not list the bucket. No retry makes it readable.
 */
export function isAccessDenied(err: unknown): boolean {
  const e = err as S3ErrorShape | undefined;
  return e?.name === 'AccessDenied' || e?.$metadata?.httpStatusCode === 403;
}
