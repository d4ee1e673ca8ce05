import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import ssh2 from 'ssh2';
import { StorageError } from '../storage.js';
import type { SftpAddress } from './sftp-url.js';

/** How to log in, as ssh2's connect() takes it, and how to say which way was tried. */
export interface SftpCredentials {
  privateKey?: Buffer;
  passphrase?: string;
  password?: string;
  /** For messages: "the key in /etc/mailvault/id_ed25519", never a secret. */
  described: string;
}

export interface CredentialFiles {
  /** Absolute paths (made so from the configuration's folder). */
  keyFile?: string;
  passwordFile?: string;
}

/** Paths of the options resolved against the folder of the configuration. */
export function credentialFiles(
  options: { keyFile?: string; passwordFile?: string },
  base: string,
): CredentialFiles {
  return {
    ...(options.keyFile === undefined ? {} : { keyFile: resolve(base, options.keyFile) }),
    ...(options.passwordFile === undefined
      ? {}
      : { passwordFile: resolve(base, options.passwordFile) }),
  };
}

/**
 * Reads the secrets at each connection, so a rotated password or key takes effect at the next
 * one. A key file with a password file is a key and its passphrase; a password file alone, or
 * else the URL's password, is a password. Every problem is 'denied': retrying cannot fix it.
 */
export async function loadCredentials(
  files: CredentialFiles,
  address: SftpAddress,
): Promise<SftpCredentials> {
  const secret =
    files.passwordFile === undefined ? undefined : await readSecret(files.passwordFile);
  if (files.keyFile !== undefined) {
    const privateKey = await readCredentialFile(files.keyFile, 'keyFile');
    checkKey(privateKey, secret, files);
    return {
      privateKey,
      ...(secret === undefined ? {} : { passphrase: secret }),
      ...(address.password === undefined ? {} : { password: address.password }),
      described: `the key in ${files.keyFile}`,
    };
  }
  if (secret !== undefined)
    return { password: secret, described: `the password in ${files.passwordFile}` };
  if (address.password !== undefined)
    return { password: address.password, described: 'the password in the URL' };
  throw new StorageError(
    `${address.location}: no way to log in: set keyFile (an OpenSSH private key) or ` +
      `passwordFile, or put the password in the URL`,
    'denied',
  );
}

async function readCredentialFile(path: string, option: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StorageError(`${option} ${path} cannot be read (${reason})`, 'denied', {
      cause: error,
    });
  }
}

/** The file's text without the line end editors add after the last line. */
async function readSecret(path: string): Promise<string> {
  return (await readCredentialFile(path, 'passwordFile')).toString('utf8').replace(/\r?\n$/, '');
}

/** Parses the key now, so a wrong passphrase is told as such rather than as a failed login. */
function checkKey(key: Buffer, passphrase: string | undefined, files: CredentialFiles): void {
  const parsed = ssh2.utils.parseKey(key, passphrase);
  if (!(parsed instanceof Error)) return;
  const why = parsed.message;
  if (/no passphrase/i.test(why))
    throw new StorageError(
      `keyFile ${files.keyFile} is encrypted: set passwordFile to a file holding its passphrase`,
      'denied',
    );
  if (/passphrase|decrypt|bad (auth|key)|integrity/i.test(why) && passphrase !== undefined)
    throw new StorageError(
      `keyFile ${files.keyFile} cannot be opened with the passphrase in ${files.passwordFile}`,
      'denied',
    );
  throw new StorageError(`keyFile ${files.keyFile} is not a usable private key: ${why}`, 'denied');
}
