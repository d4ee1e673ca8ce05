import type { Storage } from '../storage.js';
import { createS3Client } from './s3-client.js';
import { S3Storage } from './s3-storage.js';
import { parseS3Url } from './s3-url.js';

/** How to reach an S3 repository beyond what its URL says (files are relative to the config). */
export interface S3Options {
  /** Files holding the access key id and the secret (else the usual AWS environment, profile). */
  accessKeyIdFile?: string;
  secretAccessKeyFile?: string;
  /** A profile of ~/.aws/config and ~/.aws/credentials. */
  profile?: string;
}

/**
 * An S3 repository: `s3://bucket/prefix?endpoint=...&region=...&pathStyle=true`. Nothing is
 * sent yet: a bad URL or half-given key files fail here, the server is first asked at the first
 * operation.
 */
export function openS3Storage(url: URL, options: S3Options, base: string): Storage {
  const place = parseS3Url(url);
  return new S3Storage(createS3Client(place, options, base), place);
}
