import { homedir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Storage } from '../storage.js';
import type { StorageLogger } from '../wrappers/storage-logger.js';
import { SftpConnection } from './sftp-connection.js';
import { credentialFiles, type CredentialSettingNames } from './sftp-credentials.js';
import { SftpStorage } from './sftp-storage.js';
import { parseSftpUrl } from './sftp-url.js';

/** How to reach an SFTP repository beyond what its URL says (files are relative to the config). */
export interface SftpOptions {
  /** A private key file (OpenSSH format): OpenSSH's IdentityFile. */
  identityFile?: string;
  /** The older name of identityFile (identityFile wins when both are given). */
  keyFile?: string;
  /** A file holding the password (or the key's passphrase, with identityFile). */
  passwordFile?: string;
  /**
   * How the user names the two files above where they set them (`repository.sftp.identityFile`,
   * `--to-sftp-key-file`), so that a message about one names the setting that fixes it.
   */
  settingNames?: Partial<CredentialSettingNames>;
  /** known_hosts file the server's host key must be in (default ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Accept a host key that is not in knownHostsFile (and say so in the log). */
  acceptUnknownHostKey?: boolean;
  /** Where that is said (the storage wrappers' logger will do); without it, a process warning. */
  log?: Pick<StorageLogger, 'warn'>;
  /** SFTP requests outstanding at once on the one connection (default 32). */
  requestLimit?: number;
}

const DEFAULT_REQUEST_LIMIT = 32;

/**
 * An SFTP repository: `sftp://user@host:port/path`. Nothing is read or connected until the first
 * operation, so opening one that is out of reach fails there, with a retryable error.
 */
export function openSftpStorage(url: URL, options: SftpOptions, base: string): Storage {
  const address = parseSftpUrl(url, () => userInfo().username);
  const knownHostsFile = options.knownHostsFile
    ? resolve(base, options.knownHostsFile)
    : join(homedir(), '.ssh', 'known_hosts');
  const connection = new SftpConnection({
    address,
    credentials: credentialFiles(options, base),
    hostKeys: {
      knownHostsFile,
      acceptUnknownHostKey: options.acceptUnknownHostKey ?? false,
      warn: (message) =>
        options.log
          ? options.log.warn({ location: address.location }, message)
          : process.emitWarning(`${address.location}: ${message}`),
    },
    requestLimit: options.requestLimit ?? DEFAULT_REQUEST_LIMIT,
  });
  return new SftpStorage(address, connection);
}
