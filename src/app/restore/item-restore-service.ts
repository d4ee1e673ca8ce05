import type { ItemRow } from '../../catalog/catalog.js';
import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import { collectionLabel } from '../../collections/collection-tree.js';
import { ITEM_KEY_PATTERN } from '../../mailbox/item-key.js';
import type { AccountRestoreOutcome } from '../../restore/account-restore.js';
import type { ItemToRestore } from '../../restore/items-restore.js';
import type { RestoreReport } from '../../restore/restore-report.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import { NO_PROGRESS, type ProgressSink } from '../progress.js';
import type { Session } from '../session.js';
import {
  collectionsOfItems,
  restoreCollectionsInto,
  restoreMailInto,
} from './collection-target.js';
import { buildReport, combined } from './reports.js';
import { restoreOutcome } from './restore-outcome.js';

export interface ItemRestoreRequest {
  /** Item ids, as ls and search give them: messages, events, contacts. */
  keys: readonly string[];
  /** Into this folder instead of their own (created if missing). */
  toFolder?: string;
  /** Into this account, on this server, instead of their own. */
  toAccount?: string;
  toServer?: string;
  requestedBy: string;
  notify?: string;
}

/** A catalogued item as a message to put back: its bytes, flags and date as last backed up. */
export function entryOf(item: ItemRow, extraFlags: string[] = []): ItemToRestore['entry'] {
  return {
    uid: item.uid,
    flags: [...new Set([...item.flags, ...extraFlags])].sort(),
    date: item.internalDate,
    size: item.size,
    sha256: item.sha256,
    manifest: item.manifest,
  };
}

/**
 * Single items back into their folder (recreated if gone), another folder or another account.
 * Items of several accounts go back each to its own account unless one target is named: one
 * report per target account.
 */
export async function restoreItems(
  session: Session,
  request: ItemRestoreRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<RestoreReport[]> {
  for (const key of request.keys)
    if (!ITEM_KEY_PATTERN.test(key))
      throw new UsageError(
        `${key} is not an item id (16 hexadecimal characters, as ls and search print them)`,
      );
  await session.repository(); // the key and index first, as before any restore
  const catalog = await session.catalog();
  const items: ItemRow[] = [];
  const versions: CollectionItemRow[] = [];
  for (const key of new Set(request.keys)) {
    const item = await catalog.item(key);
    const version = item ? null : await catalog.collections.item(key);
    if (item) items.push(item);
    else if (version) versions.push(version);
    else throw new UsageError(`unknown item ${key}: no backup holds it`);
  }
  const groups = new Map<string, { mail: ItemRow[]; dav: CollectionItemRow[] }>();
  const groupOf = (item: { source: string; account: string }) => {
    const target = `${request.toServer ?? item.source}\0${request.toAccount ?? item.account}`;
    const group = groups.get(target) ?? { mail: [], dav: [] };
    groups.set(target, group);
    return group;
  };
  for (const item of items) groupOf(item).mail.push(item);
  for (const version of versions) groupOf(version).dav.push(version);
  return notified(session, {
    kind: 'restore',
    requestedBy: request.requestedBy,
    title: `restore of ${items.length + versions.length} item(s)`,
    initiator: request.notify,
    parameters: {
      Items: [
        ...items.map((item) => `${item.key} (${item.account}, ${item.folder})`),
        ...versions.map(
          (v) =>
            `${v.key} (${v.account}, ${collectionLabel({ kind: v.kind, name: v.collection })})`,
        ),
      ].join('; '),
      ...(request.toAccount ? { 'Target account': request.toAccount } : {}),
      ...(request.toFolder ? { 'Target folder': request.toFolder } : {}),
    },
    outcome: (done: RestoreReport[]) => ({ outcome: restoreOutcome(combined(done)), report: done }),
    work: async () => {
      progress({ type: 'started', operation: 'restore', parts: groups.size });
      const done: RestoreReport[] = [];
      for (const [target, group] of groups) {
        const [server, account] = target.split('\0') as [string, string];
        const part = { kind: 'account' as const, source: server, name: account };
        progress({ type: 'part-started', part });
        const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
        await restoreMailInto(
          session,
          { server, account },
          group.mail.map((item) => ({
            folder: item.folder,
            destination: request.toFolder ?? item.folder,
            entry: entryOf(item),
          })),
          outcome,
          progress,
        );
        await restoreCollectionsInto(
          session,
          { server, account },
          await collectionsOfItems(catalog, group.dav, request.toFolder),
          outcome,
          progress,
        );
        const first = group.mail[0] ?? group.dav[0];
        const report = buildReport(
          {
            account: first ? `${first.source}/${first.account}` : '',
            target: `${server}/${account}`,
            snapshot: '',
            snapshotTime: '',
          },
          outcome,
        );
        progress({ type: 'part-finished', part, ok: report.totals.failed === 0 });
        done.push(report);
      }
      const failed = done.some((report) => report.totals.failed > 0);
      progress({ type: 'finished', outcome: failed ? 'partial' : 'ok' });
      return done;
    },
  });
}
