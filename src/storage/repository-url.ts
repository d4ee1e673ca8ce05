import { userInfo } from 'node:os';
import { parseS3Url } from './s3/s3-url.js';
import { parseSftpUrl } from './sftp/sftp-url.js';
import { StorageError } from './storage.js';

/**
 * A repository's URL as written in the configuration or on the command line: a path, or a
 * `file://`, `sftp://` or `s3://` URL. Read here once, so that a bad one is refused before
 * anything is opened, with a reason a person can act on (the URL parser itself says only
 * "Invalid URL").
 */
export type RepositoryUrl =
  | { scheme: 'path'; text: string }
  | { scheme: 'file'; text: string; url: URL }
  | RemoteRepositoryUrl;

export interface RemoteRepositoryUrl {
  scheme: 'sftp' | 's3';
  text: string;
  url: URL;
}

/** A repository URL that cannot be used: it will not become usable by trying again. */
export class RepositoryUrlError extends StorageError {
  constructor(message: string) {
    super(message, 'denied');
    this.name = 'RepositoryUrlError';
  }
}

const KNOWN_SCHEMES = ['file', 'sftp', 's3'] as const;

/** Removes a password from a URL before it is printed or logged. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/** Reads a repository URL; throws RepositoryUrlError naming what is wrong with it. */
export function parseRepositoryUrl(text: string): RepositoryUrl {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) return { scheme: 'path', text };
  const shown = redactUrl(text);
  if (!(KNOWN_SCHEMES as readonly string[]).includes(scheme))
    throw new RepositoryUrlError(
      `${shown}: unknown repository URL scheme ${scheme}: give a path, file:///path, sftp://user@host:port/path or s3://bucket/prefix`,
    );
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RepositoryUrlError(`${shown}: not a valid URL (${whyInvalid(text)})`);
  }
  if (scheme === 'file') return { scheme, text, url };
  try {
    if (scheme === 'sftp') parseSftpUrl(url, () => userInfo().username);
    else parseS3Url(url);
  } catch (error) {
    if (error instanceof StorageError) throw new RepositoryUrlError(error.message);
    throw error;
  }
  return { scheme: scheme === 'sftp' ? 'sftp' : 's3', text, url };
}

/** The reason a repository URL cannot be used, or null when it can. */
export function repositoryUrlProblem(text: string): string | null {
  try {
    parseRepositoryUrl(text);
    return null;
  } catch (error) {
    if (error instanceof RepositoryUrlError) return error.message;
    throw error;
  }
}

/** What most often makes a URL unreadable: its port (`host:notaport`), else its form in general. */
function whyInvalid(text: string): string {
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const port = /^(?:\[[^\]]*\]|[^:]*):(.*)$/.exec(hostPort)?.[1];
  if (port !== undefined && port !== '') {
    if (!/^\d+$/.test(port)) return `the port ${JSON.stringify(port)} is not a number`;
    return `the port ${port} is not from 1 to 65535`;
  }
  if (hostPort === '') return 'it names no host';
  return 'write it as scheme://user@host:port/path, with %-escapes for special characters';
}
