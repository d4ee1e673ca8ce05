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

/** The settings that name the key file and the password file, as the user wrote them. */
export interface CredentialSettingNames {
  keyFile: string;
  passwordFile: string;
}

const DEFAULT_SETTING_NAMES: CredentialSettingNames = {
  keyFile: 'identityFile',
  passwordFile: 'passwordFile',
};

export interface CredentialFiles {
  /** Absolute paths (made so from the configuration's folder). */
  keyFile?: string;
  passwordFile?: string;
  /** For messages: what to change to fix a file. */
  names: CredentialSettingNames;
}

/** Paths of the options resolved against the folder of the configuration. */
export function credentialFiles(
  options: {
    identityFile?: string;
    keyFile?: string;
    passwordFile?: string;
    settingNames?: Partial<CredentialSettingNames>;
  },
  base: string,
): CredentialFiles {
  const keyFile = options.identityFile ?? options.keyFile;
  return {
    ...(keyFile === undefined ? {} : { keyFile: resolve(base, keyFile) }),
    ...(options.passwordFile === undefined
      ? {}
      : { passwordFile: resolve(base, options.passwordFile) }),
    names: { ...DEFAULT_SETTING_NAMES, ...options.settingNames },
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
    files.passwordFile === undefined
      ? undefined
      : await readSecret(files.passwordFile, files.names.passwordFile);
  if (files.keyFile !== undefined) {
    const privateKey = await readCredentialFile(files.keyFile, files.names.keyFile);
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
    `${address.location}: no way to log in: set ${files.names.keyFile} (an OpenSSH private ` +
      `key) or ${files.names.passwordFile}, or put the password in the URL`,
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
async function readSecret(path: string, option: string): Promise<string> {
  return (await readCredentialFile(path, option)).toString('utf8').replace(/\r?\n$/, '');
}

/** Parses the key now, so a wrong passphrase is told as such rather than as a failed login. */
function checkKey(key: Buffer, passphrase: string | undefined, files: CredentialFiles): void {
  const parsed = ssh2.utils.parseKey(key, passphrase);
  if (!(parsed instanceof Error)) return;
  const why = parsed.message;
  const { names } = files;
  if (/no passphrase/i.test(why))
    throw new StorageError(
      `${names.keyFile} ${files.keyFile} is encrypted: set ${names.passwordFile} to a file holding its passphrase`,
      'denied',
    );
  if (/passphrase|decrypt|bad (auth|key)|integrity/i.test(why) && passphrase !== undefined)
    throw new StorageError(
      `${names.keyFile} ${files.keyFile} cannot be opened with the passphrase in ${names.passwordFile} ${files.passwordFile}`,
      'denied',
    );
  throw new StorageError(
    `${names.keyFile} ${files.keyFile} is not a usable private key: ${why}`,
    'denied',
  );
}
