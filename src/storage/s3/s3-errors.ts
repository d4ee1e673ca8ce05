import { StorageError } from '../storage.js';

/** A StorageError that keeps the HTTP status S3 answered, which decides whether a retry helps. */
export class S3StorageError extends StorageError {
  constructor(
    message: string,
    code: StorageError['code'],
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, code, options);
  }
}

/** What the SDK's errors carry: the service's error code as `name`, the status in `$metadata`. */
interface ServiceErrorShape {
  name?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as ServiceErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function nameOf(error: unknown): string {
  const name = (error as ServiceErrorShape | null)?.name;
  return typeof name === 'string' ? name : 'Error';
}

function answered(status: number | undefined): string {
  return status === undefined ? '' : ` (HTTP ${status})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns what the SDK threw into a StorageError about `what` (e.g. "data/ab12..."). HEAD answers
 * carry no body, so a missing object there is only a bare 404 ("NotFound"); a missing bucket
 * cannot be told apart from a missing file by HEAD alone, but GET, PUT and LIST name it.
 */
export function toStorageError(error: unknown, what: string, bucket: string): StorageError {
  if (error instanceof StorageError) return error;
  const status = statusOf(error);
  const name = nameOf(error);
  const cause = { cause: error };
  if (name === 'NoSuchBucket')
    return new S3StorageError(
      `${what}: bucket ${bucket} does not exist (mailvault does not create buckets: create it first)`,
      'io',
      status,
      cause,
    );
  // A multipart upload the server dropped midway (expired, or cleaned up by a lifecycle rule)
  // is no missing file, and a new save starts a new upload: worth a retry, so no status kept.
  if (name === 'NoSuchUpload')
    return new S3StorageError(
      `${what}: the upload vanished before it completed`,
      'io',
      undefined,
      cause,
    );
  if (name === 'NoSuchKey' || status === 404)
    return new S3StorageError(`${what} not found`, 'not-found', status, cause);
  if (status === 403)
    return new S3StorageError(`${what}: access denied (${name})`, 'denied', status, cause);
  if (name === 'CredentialsProviderError')
    return new S3StorageError(
      `${what}: no S3 credentials: ${messageOf(error)}`,
      'denied',
      status,
      cause,
    );
  // A plain Error (connection refused, reset) says it all in its message.
  const label = name === 'Error' && status === undefined ? '' : `${name}${answered(status)}: `;
  return new S3StorageError(`${what}: ${label}${messageOf(error)}`, 'io', status, cause);
}

/**
 * Whether retrying cannot help. S3's answers in 3xx (a wrong region is a 301) and 4xx are final,
 * except 408 and 429 and S3's own 400 RequestTimeout (the upload was too slow: try again); 5xx
 * and errors with no answer at all (connection refused or reset, timeouts) are worth a retry.
 */
export function isPermanentS3Error(error: unknown): boolean {
  const known = toStorageError(error, '', '');
  if (known.code !== 'io') return true;
  const status = known instanceof S3StorageError ? known.status : undefined;
  if (status === undefined || status < 300 || status >= 500) return false;
  if (status === 408 || status === 429) return false;
  return nameOf(known.cause) !== 'RequestTimeout';
}
