import type { Logger } from 'pino';
import { collectionLabel } from '../collections/collection-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStreamBytes, type StoredStream } from '../repository/stream-store.js';
import { propertyLabel, type CollectionSpec, type CollectionWriter } from './collection-writer.js';
import type { FolderRestoreReport, RestoreFailure } from './restore-report.js';

/** One collection to bring back, with the items (versions) it should hold. */
export interface CollectionToRestore {
  spec: CollectionSpec;
  items: Array<{ name: string; uid: string | null; content: StoredStream }>;
}

export interface CollectionsRestoreOutcome {
  folders: FolderRestoreReport[];
  failures: RestoreFailure[];
  bytes: number;
}

/**
 * Puts calendars and address books back: a missing collection is created with its properties
 * (each one the server would not store is a failure of the collection, named);
 * each missing item is PUT with If-None-Match, so an item already there, under its name or under
 * another one with the same UID, is left as it is (never overwritten by an older version).
 */
export async function restoreCollections(
  options: { repository: Repository; writer: CollectionWriter; log: Logger; onItem?: () => void },
  collections: readonly CollectionToRestore[],
): Promise<CollectionsRestoreOutcome> {
  const outcome: CollectionsRestoreOutcome = { folders: [], failures: [], bytes: 0 };
  for (const { spec, items } of collections) {
    const label = collectionLabel(spec);
    const report: FolderRestoreReport = {
      folder: label,
      target: label,
      created: false,
      subscribed: false,
      restored: 0,
      alreadyPresent: 0,
      failed: 0,
    };
    outcome.folders.push(report);
    let href: string;
    try {
      const ensured = await options.writer.ensureCollection(spec);
      href = ensured.href;
      report.created = ensured.created;
      report.target = collectionLabel({ kind: spec.kind, name: ensured.name });
      // A colour or a description the server would not keep is lost on it: said, like a failed item.
      for (const refusal of ensured.propertiesNotSet) {
        report.failed++;
        outcome.failures.push({
          folder: label,
          reason: `property ${propertyLabel(refusal.property)} not restored: ${refusal.reason}`,
        });
      }
    } catch (error) {
      report.failed += items.length || 1;
      outcome.failures.push({ folder: label, reason: (error as Error).message });
      continue;
    }
    const uids = report.created ? new Set<string>() : await options.writer.uids(href);
    for (const item of items) {
      options.onItem?.();
      if (item.uid !== null && uids.has(item.uid)) {
        report.alreadyPresent++;
        continue;
      }
      try {
        const bytes = await readStreamBytes(options.repository, item.content);
        const put = await options.writer.put(href, item.name, bytes, spec.kind);
        if (put.outcome === 'created') {
          report.restored++;
          outcome.bytes += bytes.length;
          if (item.uid !== null) uids.add(item.uid);
        } else if (put.outcome === 'exists') report.alreadyPresent++;
        else {
          report.failed++;
          outcome.failures.push({ folder: label, item: item.name, reason: put.error });
        }
      } catch (error) {
        report.failed++;
        outcome.failures.push({ folder: label, item: item.name, reason: (error as Error).message });
      }
    }
  }
  return outcome;
}
