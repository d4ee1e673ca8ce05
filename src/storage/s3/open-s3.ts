import { StorageError, type Storage } from '../storage.js';

/** How to reach an S3 repository beyond what its URL says (files are relative to the config). */
export interface S3Options {
  /** Files holding the access key id and the secret (else the usual AWS environment, profile). */
  accessKeyIdFile?: string;
  secretAccessKeyFile?: string;
  /** A profile of ~/.aws/config and ~/.aws/credentials. */
  profile?: string;
}

/** An S3 repository: `s3://bucket/prefix?endpoint=...&region=...&pathStyle=true`. */
export function openS3Storage(url: URL, _options: S3Options, _base: string): Storage {
  throw new StorageError(`s3://${url.host}: S3 repositories are not supported yet`, 'io');
}
