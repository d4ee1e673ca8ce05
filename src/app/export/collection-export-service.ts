import type { CollectionToExport, exportCollections } from '../../export/collection-export.js';
import { parseAt } from '../../dates/at-spec.js';
import { collectionLabel, parseCollectionName } from '../../collections/collection-tree.js';
import { formatTime } from '../../text/format.js';
import { resolveAccount } from '../account-resolution.js';
import { UsageError } from '../errors.js';
import { notified } from '../notified.js';
import type { Session } from '../session.js';
import { accountSnapshotAt } from '../snapshot-at.js';
import type { ExportRequest } from './export-service.js';

/** An export request (as for mail) whose format is ics (calendars) or vcf (address books). */
export type CollectionExportRequest = Omit<ExportRequest, 'format'> & { format: 'ics' | 'vcf' };

export interface CollectionExportResult {
  outcome: Awaited<ReturnType<typeof exportCollections>>;
  /** The collections written, as `calendar:NAME` or `contacts:NAME`. */
  collections: string[];
}

/** An account's calendars or address books as .ics or .vcf files, at a date or every version. */
export async function exportCollectionsAt(
  session: Session,
  options: CollectionExportRequest,
): Promise<CollectionExportResult> {
  const { checkOutput } = await import('../../export/output-place.js');
  const { exportCollections } = await import('../../export/collection-export.js');
  if (options.allVersions && options.at !== undefined)
    throw new UsageError('--all-versions exports every snapshot; it does not take --at');
  const kind = options.format === 'ics' ? 'calendar' : 'addressbook';
  const wanted = (options.folder ?? []).map(
    (folder) => parseCollectionName(folder)?.name ?? folder,
  );
  const at = parseAt(options.at ?? 'last');
  await checkOutput(options.output, 'directory', Boolean(options.force)).catch((error: Error) => {
    throw new UsageError(error.message);
  });
  const repository = await session.repository();
  const catalog = await session.catalog();
  const account = await resolveAccount(catalog, options.account, options.source);
  const collections: CollectionToExport[] = [];
  let snapshotTime: string | null = null;
  if (options.allVersions) {
    for (const version of await catalog.collections.everyVersion(account.id)) {
      if (version.kind !== kind) continue;
      let collection = collections.find((c) => c.name === version.collection);
      if (!collection) {
        collection = {
          kind,
          name: version.collection,
          displayName: version.displayName,
          items: [],
        };
        collections.push(collection);
      }
      collection.items.push({
        key: version.key,
        name: version.name,
        content: version.content,
        broken: version.broken,
        firstSeen: version.firstSeen.toISOString(),
        lastSeen: version.lastSeen.toISOString(),
      });
    }
  } else {
    const snapshot = await accountSnapshotAt(catalog, account, at);
    if (!snapshot)
      throw new UsageError(`no backup of ${options.account} at ${options.at ?? 'last'}`);
    snapshotTime = snapshot.time.toISOString();
    const time = snapshot.time.getTime();
    for (const state of await catalog.collections.collectionsAt(account.id, time)) {
      if (state.kind !== kind) continue;
      const items = await catalog.collections.itemsAt(account.id, state, time);
      collections.push({
        kind,
        name: state.name,
        displayName: state.displayName,
        items: items.map((item) => ({
          key: item.key,
          name: item.name,
          content: item.content,
          broken: item.broken,
        })),
      });
    }
  }
  const chosen = wanted.length ? collections.filter((c) => wanted.includes(c.name)) : collections;
  const missing = wanted.filter((w) => !collections.some((c) => c.name === w));
  if (missing.length > 0)
    throw new UsageError(
      `${account.name} has no ${kind === 'calendar' ? 'calendar' : 'address book'} ${missing.join(', ')} in its backups`,
    );
  if (chosen.length === 0)
    throw new Error(
      `${account.name} has no ${kind === 'calendar' ? 'calendars' : 'address books'} in ${options.allVersions ? 'its backups' : `the backup of ${formatTime(new Date(snapshotTime ?? 0))}`}`,
    );
  const outcome = await notified(session, {
    kind: 'export',
    requestedBy: options.requestedBy,
    title: `export of ${account.name} (${options.format})`,
    initiator: options.notify,
    parameters: {
      Account: `${account.source}/${account.name}`,
      Format: options.format,
      Output: options.output,
      ...(snapshotTime ? { 'As of': formatTime(new Date(snapshotTime)) } : { Versions: 'all' }),
    },
    outcome: (done: Awaited<ReturnType<typeof exportCollections>>) => ({
      outcome: {
        rowLabel: 'collection',
        columns: ['exported', 'broken'],
        rows: chosen.map((c) => ({
          name: collectionLabel(c),
          counts: [c.items.length, done.broken.filter((b) => b.collection === c.name).length],
        })),
        totals: [done.items, done.broken.length],
        failures: [],
        notes: [
          `written to ${options.output} (${done.files} file(s))`,
          ...done.broken.map((b) => `${b.collection}/${b.item}: ${b.reason}, written apart`),
        ],
      },
      report: done,
    }),
    work: () =>
      exportCollections(repository, chosen, options.output, {
        allVersions: Boolean(options.allVersions),
        description: {
          format: options.format,
          account: account.name,
          source: account.source,
          snapshotTime,
          allVersions: Boolean(options.allVersions),
          exported: new Date().toISOString(),
        },
      }),
  });
  return { outcome, collections: chosen.map(collectionLabel) };
}
