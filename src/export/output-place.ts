import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EXPORT_MARKER } from './export-writer.js';
import { PRIVATE_FOLDER_MODE } from '../storage/private-files.js';

/** The output is wrong for what was asked (exists, is of the wrong kind): a usage error. */
export class OutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputError';
  }
}

export type OutputKind = 'file' | 'directory';

/**
 * Where an export goes: written under a temporary name beside its final one and renamed into
 * place only once complete, so an interrupted export never looks like a finished one (a
 * leftover is named `.NAME.partial-PID`).
 */
export interface OutputPlace {
  final: string;
  temporary: string;
  kind: OutputKind;
}

async function statOf(path: string): Promise<Awaited<ReturnType<typeof lstat>> | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * Checks that the export may be written there, without writing anything: an existing file is
 * replaced only with `force`; an existing directory must be empty, or, with `force`, an earlier
 * export (it holds the marker file): a directory mailvault did not write is never replaced.
 */
export async function checkOutput(path: string, kind: OutputKind, force: boolean): Promise<void> {
  const stat = await statOf(path);
  if (!stat) return;
  if (kind === 'file') {
    if (stat.isDirectory())
      throw new OutputError(`--output ${path} is a directory; name a file to write`);
    if (!force) throw new OutputError(`--output ${path} exists; add --force to replace it`);
    return;
  }
  if (!stat.isDirectory())
    throw new OutputError(`--output ${path} exists and is not a directory; name a new directory`);
  const entries = await readdir(path);
  if (entries.length === 0) return;
  if (!force)
    throw new OutputError(
      `--output ${path} is not empty; name a new directory, or add --force to replace an earlier export`,
    );
  if (!entries.includes(EXPORT_MARKER))
    throw new OutputError(
      `--output ${path} is not an earlier mailvault export (no ${EXPORT_MARKER} in it); --force will not replace it`,
    );
}

/** Reserves the temporary name (its parent directory is created if needed). */
export async function beginOutput(path: string, kind: OutputKind): Promise<OutputPlace> {
  const final = resolve(path);
  const temporary = join(dirname(final), `.${basename(final)}.partial-${process.pid}`);
  await mkdir(dirname(final), { recursive: true, mode: PRIVATE_FOLDER_MODE });
  await rm(temporary, { recursive: true, force: true });
  if (kind === 'directory') await mkdir(temporary, { mode: PRIVATE_FOLDER_MODE });
  return { final, temporary, kind };
}

/** Moves the complete export into place, replacing what --force allowed to replace. */
export async function commitOutput(place: OutputPlace): Promise<void> {
  const existing = await statOf(place.final);
  if (place.kind === 'file' || !existing) {
    // rename() replaces a file in one step.
    await rename(place.temporary, place.final);
    return;
  }
  // A directory cannot be replaced in one step: the old one goes aside first, then away.
  const aside = join(dirname(place.final), `.${basename(place.final)}.replaced-${process.pid}`);
  await rename(place.final, aside);
  await rename(place.temporary, place.final);
  await rm(aside, { recursive: true, force: true });
}

/** Removes a partial export after a failure. */
export async function discardOutput(place: OutputPlace): Promise<void> {
  await rm(place.temporary, { recursive: true, force: true });
}
