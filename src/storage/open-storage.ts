import { isAbsolute, resolve } from 'node:path';
import { LocalStorage } from './local/local-storage.js';
import { openS3Storage, type S3Options } from './s3/open-s3.js';
import { openSftpStorage, type SftpOptions } from './sftp/open-sftp.js';
import { StorageError, type Storage } from './storage.js';

/** What a remote backend needs beyond its URL, from the configuration. */
export interface StorageOptions {
  sftp?: SftpOptions;
  s3?: S3Options;
}

/** Removes a password from a URL before it is printed or logged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Picks the backend for a repository URL: a path (relative to `base`), `file://`, `sftp://` or
 * `s3://`. Other schemes are refused by name, so a typo does not become a local folder.
 */
export function openStorage(url: string, base: string, options: StorageOptions = {}): Storage {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalStorage(isAbsolute(url) ? url : resolve(base, url));
  if (scheme === 'file') return new LocalStorage(decodeURIComponent(new URL(url).pathname));
  if (scheme === 'sftp') return openSftpStorage(new URL(url), options.sftp ?? {}, base);
  if (scheme === 's3') return openS3Storage(new URL(url), options.s3 ?? {}, base);
  throw new StorageError(`${redactUrl(url)}: unknown repository URL scheme ${scheme}`, 'io');
}
