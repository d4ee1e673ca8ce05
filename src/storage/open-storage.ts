import { isAbsolute, resolve } from 'node:path';
import { LocalStorage } from './local/local-storage.js';
import { StorageError, type Storage } from './storage.js';

/** Removes a password from a URL before it is printed or logged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Picks the backend for a repository URL: a path (relative to `base`), or `file://`. Other
 * schemes are refused by name, so a typo does not become a local folder.
 */
export function openStorage(url: string, base: string): Storage {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return new LocalStorage(isAbsolute(url) ? url : resolve(base, url));
  if (scheme === 'file') return new LocalStorage(decodeURIComponent(new URL(url).pathname));
  if (scheme === 'sftp' || scheme === 's3') {
    throw new StorageError(
      `${redactUrl(url)}: ${scheme} repositories are not supported by this version yet`,
      'io',
    );
  }
  throw new StorageError(`${redactUrl(url)}: unknown repository URL scheme ${scheme}`, 'io');
}
