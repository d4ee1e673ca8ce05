import { StorageError } from '../storage.js';

/** Where an SFTP repository is, as read from its `sftp://user@host:port/path` URL. */
export interface SftpAddress {
  user: string;
  /** The URL's password, if it has one; never shown anywhere. */
  password: string | undefined;
  /** The host name or address, without the brackets of an IPv6 address. */
  host: string;
  port: number;
  /** Absolute on the server, without a trailing slash. */
  path: string;
  /** The URL without its password, for messages and `Storage.location`. */
  location: string;
}

export const DEFAULT_SFTP_PORT = 22;

/**
 * Reads an `sftp://` URL. `defaultUser` names the login when the URL has none, as ssh does with
 * the local user's name. A malformed URL is refused at once with a message that never shows the
 * password, since it cannot become usable by trying again.
 */
export function parseSftpUrl(url: URL, defaultUser: () => string): SftpAddress {
  const shown = `sftp://${url.username ? `${url.username}@` : ''}${url.host}${url.pathname}`;
  const refuse = (why: string): never => {
    throw new StorageError(`${shown}: ${why}`, 'denied');
  };
  if (url.protocol !== 'sftp:') refuse('not an sftp:// URL');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') refuse('the URL names no host (sftp://user@host/path)');
  const port = url.port === '' ? DEFAULT_SFTP_PORT : Number(url.port);
  // The URL parser takes port 0, which no server listens on.
  if (port < 1) refuse(`the port ${port} is not from 1 to 65535`);
  const path = decodeOrRefuse(url.pathname, refuse).replace(/\/+$/, '');
  if (path === '') refuse('the URL needs the repository folder, an absolute path on the server');
  if (path.includes('\0')) refuse('the path holds a NUL character');
  const user = url.username === '' ? defaultUser() : decodeOrRefuse(url.username, refuse);
  const password = url.password === '' ? undefined : decodeOrRefuse(url.password, refuse);
  const portShown = port === DEFAULT_SFTP_PORT ? '' : `:${port}`;
  const userShown = url.username === '' ? encodeURIComponent(user) : url.username;
  const location = `sftp://${userShown}@${url.hostname}${portShown}${url.pathname.replace(/\/+$/, '')}`;
  return { user, password, host, port, path, location };
}

function decodeOrRefuse(text: string, refuse: (why: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return refuse('the URL holds a malformed %-escape');
  }
}

/**
 * Takes the password out of a message from below (ssh2, the server), in case one ever repeats
 * it: every message this backend gives passes through here.
 */
export function withoutPassword(message: string, password: string | undefined): string {
  if (password === undefined || password === '') return message;
  let out = message;
  for (const form of new Set([password, encodeURIComponent(password)]))
    out = out.split(form).join('***');
  return out;
}
