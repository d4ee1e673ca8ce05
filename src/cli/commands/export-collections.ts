import type { CollectionToExport } from '../../export/collection-export.js';
import { parseAt } from '../../dates/at-spec.js';
import { resolveAccount } from '../../app/account-resolution.js';
import { accountSnapshotAt } from '../../app/snapshot-at.js';
import type { CliContext } from '../context.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { notified } from '../../app/notified.js';
import { cliRequester } from '../notify.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import { collectionLabel, parseCollectionName } from '../../collections/collection-tree.js';

export interface CollectionExportOptions {
  format: 'ics' | 'vcf';
  output: string;
  at?: string;
  folder?: string[];
  allVersions?: boolean;
  force?: boolean;
  source?: string;
  notify?: string;
}

/** `export ACCOUNT --format ics|vcf`: calendars or address books, at a date or every version. */
export async function exportCollectionsCommand(
  context: CliContext,
  name: string,
  options: CollectionExportOptions,
): Promise<ExitCode> {
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
  const started = Date.now();
  const repository = await context.repository();
  const catalog = await context.catalog();
  const account = await resolveAccount(catalog, name, options.source);
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
    if (!snapshot) throw new UsageError(`no backup of ${name} at ${options.at ?? 'last'}`);
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
  const outcome = await notified(context, {
    kind: 'export',
    requestedBy: cliRequester(context.terminal.env),
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
  context.output.result({
    ...outcome,
    output: options.output,
    collections: chosen.map(collectionLabel),
  });
  for (const broken of outcome.broken)
    context.output.problem(
      `WARNING ${printable(`${broken.collection}/${broken.item}`)}: ${broken.reason} (written apart)`,
    );
  context.output.line(
    `exported ${formatCount(outcome.items)} item(s) of ${chosen.length} collection(s) to ${options.output} ` +
      `(${outcome.files} file(s), ${formatBytes(outcome.bytes)}) in ${formatDuration(Date.now() - started)}`,
  );
  return ExitCode.Ok;
}
