import { describe, expect, it } from 'vitest';
import { StorageError } from '../storage.js';
import { isPermanentS3Error, toStorageError } from './s3-errors.js';

/** An error shaped as the SDK throws them: the S3 error code as name, the status in $metadata. */
function answered(name: string, status?: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: status === undefined ? {} : { httpStatusCode: status },
  });
}

const wrapped = (error: unknown): StorageError => toStorageError(error, 'data/ab12', 'vault');

describe('S3 errors', () => {
  it.each([
    ['NoSuchKey', 404, 'not-found', true],
    ['NotFound', 404, 'not-found', true],
    ['AccessDenied', 403, 'denied', true],
    ['Forbidden', 403, 'denied', true],
    ['InvalidRange', 416, 'io', true],
    ['PermanentRedirect', 301, 'io', true],
    ['NoSuchBucket', 404, 'io', true],
    ['InvalidArgument', 400, 'io', true],
    ['RequestTimeout', 400, 'io', false],
    ['RequestTimeout', 408, 'io', false],
    ['SlowDown', 503, 'io', false],
    ['TooManyRequests', 429, 'io', false],
    ['InternalError', 500, 'io', false],
    ['NoSuchUpload', 404, 'io', false],
    ['CredentialsProviderError', undefined, 'denied', true],
    ['TimeoutError', undefined, 'io', false],
  ] as const)('%s (HTTP %s) is %s, permanent: %s', (name, status, code, permanent) => {
    const error = wrapped(answered(name, status));
    expect(error.code).toBe(code);
    expect(isPermanentS3Error(error)).toBe(permanent);
    expect(isPermanentS3Error(answered(name, status))).toBe(permanent);
  });

  it('count a connection that failed as worth another try', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    expect(wrapped(refused).code).toBe('io');
    expect(wrapped(refused).message).toBe('data/ab12: connect ECONNREFUSED 127.0.0.1:9');
    expect(wrapped(answered('SlowDown', 503)).message).toBe(
      'data/ab12: SlowDown (HTTP 503): SlowDown happened',
    );
    expect(isPermanentS3Error(wrapped(refused))).toBe(false);
  });

  it('name the file, and the bucket when it is the bucket that is missing', () => {
    expect(wrapped(answered('NoSuchKey', 404)).message).toBe('data/ab12 not found');
    expect(wrapped(answered('NoSuchBucket', 404)).message).toMatch(
      /^data\/ab12: bucket vault does not exist/,
    );
  });

  it('leave a StorageError as it is', () => {
    const error = new StorageError('data/ab12 already exists', 'exists');
    expect(wrapped(error)).toBe(error);
    expect(isPermanentS3Error(error)).toBe(true);
  });
});
