/**
 * Condemned packs (format section 8.1): packs `prune` found no snapshot needing, with when it
 * found so. They stay in the index, so that a backup that deduplicated against one of their
 * objects before the prune still has a snapshot that reads; writers do not deduplicate against
 * them any more; a later prune deletes them once the grace period has passed and they are still
 * unneeded, or pardons them.
 */
export interface CondemnedFile {
  version: 1;
  packs: Array<{ pack: string; since: string }>;
}

export function encodeCondemned(file: CondemnedFile): Buffer {
  return Buffer.from(JSON.stringify(file));
}

export function decodeCondemned(bytes: Buffer, name: string): CondemnedFile {
  let parsed: CondemnedFile;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as CondemnedFile;
  } catch {
    throw new Error(`condemned file ${name} is not valid JSON`);
  }
  if (parsed.version !== 1)
    throw new Error(`condemned file ${name} has unsupported version ${String(parsed.version)}`);
  if (
    !Array.isArray(parsed.packs) ||
    parsed.packs.some(
      (entry) =>
        typeof entry?.pack !== 'string' ||
        !/^[0-9a-f]{64}$/.test(entry.pack) ||
        Number.isNaN(Date.parse(entry.since)),
    )
  )
    throw new Error(`condemned file ${name}: packs must be {pack, since} records`);
  return parsed;
}
