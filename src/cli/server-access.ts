import { readFile } from 'node:fs/promises';
import { configPath, type LoadedConfig } from '../config/loaded-config.js';
import type { ServerConfig } from '../config/schema.js';
import type { ConfiguredAccount } from '../config/accounts.js';
import { defaultPort, type ImapEndpoint, type ImapLogin } from '../imap/endpoint.js';
import { readSecretFile } from './passphrase.js';

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
