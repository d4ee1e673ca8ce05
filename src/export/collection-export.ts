import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CollectionKind } from '../collections/collection-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStreamBytes, type StoredStream } from '../repository/stream-store.js';
import { mergeCalendars } from './calendar-merge.js';
import { EXPORT_MARKER } from './export-writer.js';
import { beginOutput, commitOutput, discardOutput } from './output-place.js';
import { PRIVATE_FILE_MODE, PRIVATE_FOLDER_MODE } from '../storage/private-files.js';

export interface CollectionToExport {
  kind: CollectionKind;
  name: string;
  displayName: string | null;
  items: Array<{
    key: string;
    name: string;
    content: StoredStream;
    broken: string | null;
    /** For --all-versions: when this version was first and last backed up. */
    firstSeen?: string;
    lastSeen?: string;
  }>;
}

export interface CollectionExportOutcome {
  files: number;
  items: number;
  bytes: number;
  /** Items that do not parse, written apart as they were (never merged into a broken file). */
  broken: Array<{ collection: string; item: string; reason: string }>;
}

/**
 * Writes calendars as .ics and address books as .vcf into a new directory: one file per
 * collection (events and tasks merged under one VCALENDAR, contacts one after the other), or with
 * `allVersions` one file per item version in a folder per collection, with a manifest.
 * Written under a temporary name and moved into place when complete.
 */
export async function exportCollections(
  repository: Repository,
  collections: readonly CollectionToExport[],
  output: string,
  options: { allVersions: boolean; description: object },
): Promise<CollectionExportOutcome> {
  const place = await beginOutput(output, 'directory');
  const outcome: CollectionExportOutcome = { files: 0, items: 0, bytes: 0, broken: [] };
  try {
    const manifest: object[] = [];
    for (const collection of collections) {
      const extension = collection.kind === 'calendar' ? 'ics' : 'vcf';
      const base = safeName(collection.name);
      const whole: string[] = [];
      for (const item of collection.items) {
        const bytes = await readStreamBytes(repository, item.content);
        outcome.items++;
        outcome.bytes += bytes.length;
        if (options.allVersions || item.broken) {
          const folder = join(
            place.temporary,
            item.broken && !options.allVersions ? `${base}.broken` : base,
          );
          await mkdir(folder, { recursive: true, mode: PRIVATE_FOLDER_MODE });
          const file = `${safeName(item.name.replace(/\.(ics|vcf)$/i, ''))}--${item.key}.${extension}`;
          await writeFile(join(folder, file), bytes, { mode: PRIVATE_FILE_MODE });
          outcome.files++;
          if (item.broken)
            outcome.broken.push({
              collection: collection.name,
              item: item.name,
              reason: item.broken,
            });
          manifest.push({
            collection: collection.name,
            kind: collection.kind,
            item: item.name,
            id: item.key,
            file: join(folder.slice(place.temporary.length + 1), file),
            sha256: item.content.sha256,
            size: item.content.size,
            broken: item.broken,
            firstSeen: item.firstSeen ?? null,
            lastSeen: item.lastSeen ?? null,
          });
          continue;
        }
        whole.push(bytes.toString('utf8'));
      }
      if (!options.allVersions) {
        const text =
          collection.kind === 'calendar'
            ? mergeCalendars(whole, collection.displayName ?? collection.name)
            : whole.map((card) => (card.endsWith('\n') ? card : `${card}\r\n`)).join('');
        await writeFile(join(place.temporary, `${base}.${extension}`), text, {
          mode: PRIVATE_FILE_MODE,
        });
        outcome.files++;
      }
    }
    if (manifest.length > 0)
      await writeFile(
        join(place.temporary, 'manifest.json'),
        JSON.stringify(manifest, null, 2) + '\n',
        { mode: PRIVATE_FILE_MODE },
      );
    await writeFile(
      join(place.temporary, EXPORT_MARKER),
      JSON.stringify(options.description, null, 2) + '\n',
      { mode: PRIVATE_FILE_MODE },
    );
    await commitOutput(place);
    return outcome;
  } catch (error) {
    await discardOutput(place);
    throw error;
  }
}

/** A collection or item name as a file name: no separators, nothing hidden. */
function safeName(name: string): string {
  const cleaned = name.replace(/[/\\\0]/g, '_').replace(/^\.+/, '_');
  return cleaned === '' ? '_' : cleaned;
}
