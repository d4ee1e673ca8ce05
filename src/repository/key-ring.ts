/**
 * The key files of a repository seen together: listing them, finding one by a prefix of its
 * name, and removing one without ever leaving the repository impossible to open.
 */
import type { Storage } from '../storage/storage.js';
import { parseKeyFile } from './crypto/key-file.js';
import type { Repository } from './repository.js';

export interface KeyFileSummary {
  /** The file's name in keys/ (the SHA-256 of its bytes). */
  name: string;
  /** The informational members of the file (section 4); null when the file cannot be read. */
  created: string | null;
  hostname: string | null;
  username: string | null;
  /** log2 of scrypt's N. */
  scryptCost: number | null;
  /** Whether this mailvault can read the file, so that some passphrase may open it. */
  readable: boolean;
  /** Why it cannot be read. */
  error?: string;
}

/** Refusals an administrator should see as bad usage: nothing was changed. */
export class KeyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRefusedError';
  }
}

/** Every key file, in name order (the order in which a passphrase is tried on them). */
export async function listKeyFiles(storage: Storage): Promise<KeyFileSummary[]> {
  const names: string[] = [];
  for await (const name of storage.names('keys')) names.push(name);
  names.sort();
  const summaries: KeyFileSummary[] = [];
  for (const name of names) summaries.push(await summarize(storage, name));
  return summaries;
}

async function summarize(storage: Storage, name: string): Promise<KeyFileSummary> {
  try {
    const file = parseKeyFile(await storage.load({ kind: 'keys', name }), name);
    return {
      name,
      created: stringOrNull(file.created),
      hostname: stringOrNull(file.hostname),
      username: stringOrNull(file.username),
      scryptCost: Math.log2(file.kdf.N),
      readable: true,
    };
  } catch (error) {
    return {
      name,
      created: null,
      hostname: null,
      username: null,
      scryptCost: null,
      readable: false,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

/** The key file named by `id`, a whole name or a prefix of one that names no other. */
export function findKeyFile(keys: readonly KeyFileSummary[], id: string): KeyFileSummary {
  const wanted = id.toLowerCase();
  if (!/^[0-9a-f]+$/.test(wanted))
    throw new KeyRefusedError(`${id} is not a key id (hex characters, as \`key list\` shows)`);
  const matches = keys.filter((key) => key.name.startsWith(wanted));
  if (matches.length === 0)
    throw new KeyRefusedError(`no key ${id} in this repository (see \`mailvault key list\`)`);
  if (matches.length > 1)
    throw new KeyRefusedError(
      `key id ${id} is ambiguous: ${matches.map((key) => key.name.slice(0, 12)).join(', ')}; give more characters`,
    );
  return matches[0] as KeyFileSummary;
}

/**
 * Removes a key file. Refused when no other key file this mailvault can read would remain (the
 * repository could never be opened again), and, unless `force`, when it is the key the current
 * passphrase opened: the configured passphrase would stop working at the next run.
 */
export async function removeKeyFile(
  repository: Repository,
  id: string,
  options: { force?: boolean } = {},
): Promise<KeyFileSummary> {
  const keys = await listKeyFiles(repository.storage);
  const key = findKeyFile(keys, id);
  const othersReadable = keys.filter((other) => other.name !== key.name && other.readable);
  if (othersReadable.length === 0)
    throw new KeyRefusedError(
      `key ${short(key.name)} is the repository's last key: without it nobody could open the repository; add another passphrase first (mailvault key add)`,
    );
  if (key.name === repository.keyName && !options.force)
    throw new KeyRefusedError(
      `key ${short(key.name)} is the one the current passphrase opened: after removing it that passphrase no longer opens the repository; ` +
        'to change the passphrase use `mailvault key passwd`, or give --force once the configuration holds another passphrase',
    );
  await repository.storage.remove({ kind: 'keys', name: key.name });
  return key;
}

/**
 * Adds a key file for `passphrase`, then removes the one that opened this session: in that
 * order, so that a crash in between leaves two keys, never none.
 */
export async function changePassphrase(
  repository: Repository,
  passphrase: string,
  scryptCost: number,
): Promise<{ added: string; removed: string }> {
  const added = await repository.addKey(passphrase, scryptCost);
  await repository.storage.remove({ kind: 'keys', name: repository.keyName });
  return { added, removed: repository.keyName };
}

function short(name: string): string {
  return name.slice(0, 8);
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}
