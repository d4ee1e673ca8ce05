import { readFile } from 'node:fs/promises';
import { configPath, type LoadedConfig } from '../config/loaded-config.js';
import type { ServerConfig } from '../config/schema.js';
import type { ConfiguredAccount } from '../config/accounts.js';
import { defaultPort, type ImapEndpoint, type ImapLogin } from '../imap/endpoint.js';
import { readSecretFile } from './secret-file.js';

/** Turns a server's configuration into what the IMAP code needs to reach it. */
export async function imapEndpoint(
  loaded: LoadedConfig,
  server: ServerConfig,
): Promise<ImapEndpoint> {
  const imap = server.imap;
  return {
    server: server.name,
    host: imap.host,
    port: imap.port ?? defaultPort(imap.tls),
    tls: imap.tls,
    verifyCertificate: imap.verifyCertificate,
    ...(imap.caFile ? { ca: await readFile(configPath(loaded, imap.caFile)) } : {}),
    timeout: imap.timeout,
    retries: imap.retries,
  };
}

/** The login for one account, reading the password file it needs. */
export async function imapLogin(
  loaded: LoadedConfig,
  server: ServerConfig,
  serverIndex: number,
  account: ConfiguredAccount,
): Promise<ImapLogin> {
  const auth = server.imap.auth;
  const key = `servers[${serverIndex}].imap.auth`;
  if (auth.mode === 'per-account') {
    if (!account.passwordFile)
      throw new Error(`${key}: account ${account.name} has no passwordFile`);
    return {
      mode: 'account',
      account: account.name,
      password: await readSecretFile(account.passwordFile, `password of ${account.name}`),
    };
  }
  const password = await readSecretFile(
    configPath(loaded, auth.passwordFile ?? ''),
    `${key}.passwordFile`,
  );
  const admin = auth.user ?? '';
  return auth.mode === 'master'
    ? { mode: 'master', account: account.name, admin, password, separator: auth.masterSeparator }
    : { mode: 'authzid', account: account.name, admin, password };
}

/** How to reach an account's calendars and address books (the shape src/sources/dav takes). */
export interface DavAccess {
  url: string;
  credentials: { user: string; password: string };
  verifyCertificate: boolean;
  caFile?: string;
  timeoutMs: number;
  retries: number;
  principalPath?: string;
}

/**
 * The DAV credentials for one account: the `dav.auth` of the server, else the IMAP identity (the
 * account's own password, or the master-user login, which finds the account's principal itself;
 * an administrator's own login needs `dav.principalPath` to find other accounts).
 */
export async function davAccess(
  loaded: LoadedConfig,
  server: ServerConfig,
  serverIndex: number,
  account: ConfiguredAccount,
): Promise<DavAccess | null> {
  const dav = server.dav;
  if (!dav) return null;
  const key = `servers[${serverIndex}].dav`;
  const base = {
    url: dav.url,
    verifyCertificate: dav.verifyCertificate,
    ...(dav.caFile ? { caFile: configPath(loaded, dav.caFile) } : {}),
    timeoutMs: server.imap.timeout * 1000,
    retries: server.imap.retries,
    ...(dav.principalPath ? { principalPath: dav.principalPath } : {}),
  };
  const needsPrincipal = (who: string) => {
    if (!dav.principalPath)
      throw new Error(
        `${key}.principalPath is needed to find ${account.name}'s calendars with ${who}'s login (e.g. "{account}/")`,
      );
  };
  if (dav.auth) {
    needsPrincipal(dav.auth.user);
    const password = await readSecretFile(
      configPath(loaded, dav.auth.passwordFile),
      `${key}.auth.passwordFile`,
    );
    return { ...base, credentials: { user: dav.auth.user, password } };
  }
  const login = await imapLogin(loaded, server, serverIndex, account);
  if (login.mode === 'account')
    return { ...base, credentials: { user: account.name, password: login.password } };
  if (login.mode === 'master')
    return {
      ...base,
      credentials: {
        user: `${account.name}${login.separator}${login.admin}`,
        password: login.password,
      },
    };
  needsPrincipal(login.admin);
  return { ...base, credentials: { user: login.admin, password: login.password } };
}
