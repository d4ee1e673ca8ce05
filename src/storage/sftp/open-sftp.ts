import { StorageError, type Storage } from '../storage.js';

/** How to reach an SFTP repository beyond what its URL says (files are relative to the config). */
export interface SftpOptions {
  /** A private key file (OpenSSH format). */
  keyFile?: string;
  /** A file holding the password (or the key's passphrase, with keyFile). */
  passwordFile?: string;
  /** known_hosts file the server's host key must be in (default ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Accept a host key that is not in knownHostsFile (and say so in the log). */
  acceptUnknownHostKey?: boolean;
}

/** An SFTP repository: `sftp://user@host:port/path`. */
export function openSftpStorage(url: URL, _options: SftpOptions, _base: string): Storage {
  throw new StorageError(`sftp://${url.host}: SFTP repositories are not supported yet`, 'io');
}
