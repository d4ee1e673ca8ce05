import { createHash } from 'node:crypto';
import type { MessageEntry } from './folder-listing.js';

/**
 * The stable id of an item: the same message in the same folder of the same account has the same
 * id in every snapshot, and keeps it after a restore gives it a new UID, because it is derived from
 * the message's bytes, not from server state. `duplicate` tells apart identical copies in one
 * folder (0 for the first in UID order).
 */
export function itemKey(
  source: string,
  account: string,
  folder: string,
  sha256: string,
  duplicate: number,
): string {
  return createHash('sha256')
    .update(['mailvault-item', source, account, folder, sha256, String(duplicate)].join('\0'))
    .digest('hex')
    .slice(0, 16);
}

/** Item keys of a folder's entries, in the entries' order (which must be by UID). */
export function itemKeys(
  source: string,
  account: string,
  folder: string,
  entries: readonly MessageEntry[],
): string[] {
  const seen = new Map<string, number>();
  return entries.map((entry) => {
    const duplicate = seen.get(entry.sha256) ?? 0;
    seen.set(entry.sha256, duplicate + 1);
    return itemKey(source, account, folder, entry.sha256, duplicate);
  });
}

export const ITEM_KEY_PATTERN = /^[0-9a-f]{16}$/;
