import type { Config } from '../config/schema.js';
import type { SetJob } from './set-job.js';

export type FileSetConfig = Config['files'][number];

/** The backup of one file set as a snapshot of kind 'files' (source 'files', name: the set's). */
export function fileSetJob(
  set: FileSetConfig,
  parent: { id: string; tree: string } | null,
): SetJob {
  return {
    kind: 'files',
    source: 'files',
    name: set.name,
    parent: parent?.id ?? null,
    backup: () => Promise.reject(new Error('file sets are not backed up yet')),
  };
}
