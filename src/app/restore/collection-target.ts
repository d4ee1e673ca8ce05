import type { CollectionKind } from '../../collections/collection-tree.js';
import { parseCollectionName, readListing } from '../../collections/collection-tree.js';
import type { AccountTree } from '../../mailbox/account-tree.js';
import type { Repository } from '../../repository/repository.js';
import type { CollectionWriter } from '../../restore/collection-writer.js';
import type { CollectionToRestore } from '../../restore/collections-restore.js';
import type { ItemToRestore } from '../../restore/items-restore.js';
import type { Catalog } from '../../catalog/catalog.js';
import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import type { AccountRestoreOutcome } from '../../restore/account-restore.js';
import type { Session } from '../session.js';
import type { ProgressSink } from '../progress.js';
import { UsageError } from '../errors.js';
import { davAccess } from '../server-access.js';
import { openTarget, targetAccount } from './restore-target.js';

/** What `--only` names: mail, calendars (and task lists), contacts. */
export type RestorePart = 'mail' | 'calendars' | 'contacts';
export const RESTORE_PARTS: readonly RestorePart[] = ['mail', 'calendars', 'contacts'];

export function parseParts(value: string | undefined): Set<RestorePart> {
  if (value === undefined) return new Set(RESTORE_PARTS);
  const parts = value.split(',').map((part) => part.trim());
  for (const part of parts) {
    if (!RESTORE_PARTS.includes(part as RestorePart))
      throw new UsageError(`--only: unknown part "${part}" (use ${RESTORE_PARTS.join(', ')})`);
  }
  return new Set(parts as RestorePart[]);
}

export function kindsOf(parts: ReadonlySet<RestorePart>): CollectionKind[] {
  return [
    ...(parts.has('calendars') ? (['calendar'] as const) : []),
    ...(parts.has('contacts') ? (['addressbook'] as const) : []),
  ];
}

/** Adds one part's outcome (mail, or calendars and contacts) to the whole restore's. */
export function mergeOutcome(into: AccountRestoreOutcome, part: AccountRestoreOutcome): void {
  into.folders.push(...part.folders);
  into.failures.push(...part.failures);
  into.bytes += part.bytes;
}

/**
 * Puts single messages back into an account of a configured server (each into its
 * `destination` folder), and adds the outcome to the restore's. Nothing is opened when there is
 * nothing to restore: the mail counterpart of restoreCollectionsInto.
 */
export async function restoreMailInto(
  session: Session,
  target: { server: string | undefined; account: string },
  items: readonly ItemToRestore[],
  into: AccountRestoreOutcome,
  progress: ProgressSink,
): Promise<void> {
  if (items.length === 0) return;
  const { restoreItems } = await import('../../restore/items-restore.js');
  const repository = await session.repository();
  const { restore } = (await session.config()).config;
  const opened = await openTarget(session, target.server, target.account);
  try {
    mergeOutcome(
      into,
      await restoreItems({
        repository,
        target: opened.target,
        items,
        log: session.log,
        batchSize: restore.batchSize,
        workers: restore.workers,
        onMessages: (count: number, bytes: number) =>
          progress({ type: 'items', items: count, bytes }),
      }),
    );
  } finally {
    await opened.target.close();
  }
}

/**
 * Puts calendars and address books back into an account of a configured server, and adds the
 * outcome to the restore's. Nothing is opened when there is nothing to restore.
 */
export async function restoreCollectionsInto(
  session: Session,
  target: { server: string; account: string },
  collections: readonly CollectionToRestore[],
  into: AccountRestoreOutcome,
  progress: ProgressSink,
): Promise<void> {
  if (collections.length === 0) return;
  const { restoreCollections } = await import('../../restore/collections-restore.js');
  const repository = await session.repository();
  const writer = await openCollectionTarget(session, target.server, target.account);
  try {
    mergeOutcome(
      into,
      await restoreCollections(
        {
          repository,
          writer,
          log: session.log,
          onItem: () => progress({ type: 'items', items: 1, bytes: 0 }),
        },
        collections,
      ),
    );
  } finally {
    await writer.close();
  }
}

/** Opens an account's calendars and address books on a configured server, for writing. */
async function openCollectionTarget(
  session: Session,
  serverName: string | undefined,
  account: string,
): Promise<CollectionWriter> {
  const loaded = await session.config();
  const { server, serverIndex, configured } = await targetAccount(session, serverName, account);
  const access = await davAccess(loaded, server, serverIndex, configured);
  if (!access)
    throw new UsageError(
      `restoring calendars and contacts of ${account}: servers[${serverIndex}].dav is not configured for ${server.name}`,
    );
  const { openDavAccountWriter } = await import('../../targets/dav/dav-account-writer.js');
  return openDavAccountWriter(access, account);
}

/** The collections of an account tree, with every item they held, for a restore. */
export async function collectionsOfTree(
  repository: Repository,
  tree: AccountTree,
  kinds: readonly CollectionKind[],
): Promise<CollectionToRestore[]> {
  const chosen: CollectionToRestore[] = [];
  for (const record of tree.collections ?? []) {
    if (!kinds.includes(record.kind)) continue;
    const items = await readListing(repository, record.listing);
    chosen.push({
      spec: {
        kind: record.kind,
        name: record.name,
        displayName: record.displayName,
        color: record.color,
        description: record.description,
        components: record.components,
        timezone: record.timezone,
        ...(record.order !== undefined ? { order: record.order } : {}),
      },
      items: items.map((item) => ({
        name: item.name,
        uid: item.summary.uid,
        content: item.content,
      })),
    });
  }
  return chosen;
}

/**
 * Catalogued item versions grouped into the collections they go back to: their own (recreated
 * with the properties it had when the item was last seen), or `calendar:NAME` / `contacts:NAME`.
 */
export async function collectionsOfItems(
  catalog: Catalog,
  items: readonly CollectionItemRow[],
  toCollection?: string,
): Promise<CollectionToRestore[]> {
  if (items.length === 0) return [];
  const chosen = new Map<string, CollectionToRestore>();
  const renamed = toCollection === undefined ? null : parseCollectionName(toCollection);
  if (toCollection !== undefined && !renamed)
    throw new UsageError(
      `--to-folder ${toCollection}: calendar and contact items go to calendar:NAME or contacts:NAME`,
    );
  for (const item of items) {
    const name = renamed?.name ?? item.collection;
    const key = `${item.kind}\0${name}`;
    let entry = chosen.get(key);
    if (!entry) {
      const states = await catalog.collections.collectionsAt(
        item.accountId,
        item.lastSeen.getTime(),
      );
      const state = states.find((c) => c.kind === item.kind && c.name === item.collection);
      entry = {
        spec: {
          kind: item.kind,
          name,
          displayName: renamed ? name : (state?.displayName ?? null),
          color: state?.color ?? null,
          description: renamed ? null : (state?.description ?? null),
          components: state?.components ?? (item.kind === 'calendar' ? ['VEVENT', 'VTODO'] : []),
          timezone: state?.timezone ?? null,
        },
        items: [],
      };
      chosen.set(key, entry);
    }
    entry.items.push({ name: item.name, uid: item.uid, content: item.content });
  }
  return [...chosen.values()];
}
