import { ConfigError } from './config-error.js';
import type { ServerConfig } from './schema.js';

/**
 * What the schema cannot say about one server but the loader can, without contacting it: a
 * setting that would make every backup of it fail (or read the wrong account) is refused when
 * the configuration is loaded, naming the key, before anything runs.
 */
export function checkServer(server: ServerConfig, index: number, where: string): void {
  checkAccountNames(server, index, where);
  checkDav(server, index, where);
}

/** One account listed twice would be backed up twice at once, into one history. */
function checkAccountNames(server: ServerConfig, index: number, where: string): void {
  const seen = new Set<string>();
  for (const [i, entry] of (server.accounts.list ?? []).entries()) {
    const name = typeof entry === 'string' ? entry : entry.name;
    if (seen.has(name))
      throw new ConfigError(
        `${where}: servers[${index}].accounts.list[${i}]: ${name} is listed twice`,
      );
    seen.add(name);
  }
}

const PLACEHOLDER = '{account}';

/**
 * Calendars and contacts are found from the account's principal. Logged in as the account (its
 * own password, or the master-user login) the server says where that is; logged in as an
 * administrator (dav.auth, or the IMAP administrator's authzid login) it says where the
 * administrator's own is, so only dav.principalPath can lead to the account's.
 */
function checkDav(server: ServerConfig, index: number, where: string): void {
  const dav = server.dav;
  if (!dav) return;
  const key = `${where}: servers[${index}].dav`;
  let url: URL | null = null;
  try {
    url = new URL(dav.url);
  } catch {
    // said below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new ConfigError(
      `${key}.url: ${JSON.stringify(dav.url)} is not an http:// or https:// URL, such as https://mail.example.com/dav/`,
    );
  const adminLogin = dav.auth
    ? `dav.auth.user ${dav.auth.user}`
    : server.imap.auth.mode === 'authzid'
      ? `the IMAP administrator ${server.imap.auth.user ?? ''} (imap.auth.mode authzid)`
      : null;
  if (dav.principalPath === undefined) {
    if (adminLogin)
      throw new ConfigError(
        `${key}.principalPath: required to find each account's calendars and contacts with the login of ${adminLogin}: ` +
          `where an account's principal is below dav.url, such as "${PLACEHOLDER}/" (Radicale) or "principals/users/${PLACEHOLDER}/"`,
      );
    return;
  }
  if (!dav.principalPath.includes(PLACEHOLDER))
    throw new ConfigError(
      `${key}.principalPath: ${JSON.stringify(dav.principalPath)} does not hold ${PLACEHOLDER}, so every account would read the same principal's calendars; write where an account's principal is, such as "${PLACEHOLDER}/"`,
    );
}
