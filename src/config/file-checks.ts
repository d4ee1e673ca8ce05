import { open } from 'node:fs/promises';
import { ConfigError } from './config-error.js';
import { configPath, type LoadedConfig } from './loaded-config.js';
import type { Config } from './schema.js';

/** A file the configuration names, read by some command: it must be there, and readable. */
interface NamedFile {
  /** The key that names it, e.g. servers[0].imap.auth.passwordFile. */
  key: string;
  path: string;
  /** A password or passphrase: an empty file holds none. */
  secret: boolean;
}

/**
 * Refuses, naming the key, a configuration whose password, key or CA files cannot be read: every
 * command that needs one would fail on it, and a backup would fail for every account halfway
 * through the run instead of before it. Files of a storage the repository's URL does not use are
 * left alone. Nothing read here is kept.
 */
export async function checkConfigFiles(loaded: LoadedConfig): Promise<void> {
  for (const file of namedFiles(loaded.config)) {
    const path = configPath(loaded, file.path);
    const problem = await unreadable(path, file.secret);
    if (problem)
      throw new ConfigError(`${loaded.path}: ${file.key}: cannot read ${path}: ${problem}`);
  }
}

function namedFiles(config: Config): NamedFile[] {
  const files: NamedFile[] = [];
  const add = (key: string, path: string | undefined, secret: boolean): void => {
    if (path !== undefined) files.push({ key, path, secret });
  };
  const { repository } = config;
  add('repository.passwordFile', repository.passwordFile, true);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(repository.url)?.[1]?.toLowerCase();
  if (scheme === 'sftp') {
    add('repository.sftp.identityFile', repository.sftp?.identityFile, false);
    add('repository.sftp.passwordFile', repository.sftp?.passwordFile, true);
  }
  if (scheme === 's3') {
    add('repository.s3.accessKeyIdFile', repository.s3?.accessKeyIdFile, true);
    add('repository.s3.secretAccessKeyFile', repository.s3?.secretAccessKeyFile, true);
  }
  for (const [i, server] of config.servers.entries()) {
    const at = `servers[${i}]`;
    add(`${at}.imap.auth.passwordFile`, server.imap.auth.passwordFile, true);
    add(`${at}.imap.caFile`, server.imap.caFile, false);
    add(`${at}.dav.auth.passwordFile`, server.dav?.auth?.passwordFile, true);
    add(`${at}.dav.caFile`, server.dav?.caFile, false);
    add(`${at}.accounts.passwdFile`, server.accounts.passwdFile, false);
    for (const [j, entry] of (server.accounts.list ?? []).entries())
      if (typeof entry !== 'string')
        add(`${at}.accounts.list[${j}].passwordFile`, entry.passwordFile, true);
  }
  add('notify.smtp.passwordFile', config.notify?.smtp.passwordFile, true);
  return files;
}

/** Why the file cannot serve, or null when it can. */
async function unreadable(path: string, secret: boolean): Promise<string | null> {
  let handle;
  try {
    handle = await open(path, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) return 'it is a folder';
    if (secret && stat.isFile() && stat.size === 0) return 'it is empty';
    return null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'no such file';
    if (code === 'EACCES') return 'permission denied';
    if (code === 'EISDIR') return 'it is a folder';
    return code ?? String(error);
  } finally {
    await handle?.close();
  }
}
