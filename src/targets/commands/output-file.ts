import { lstat, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';

/** `--output` names something that may not be written (exists, is a directory): a usage error. */
export class OutputFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutputFileError';
  }
}

/** `-` stands for standard output. */
export const STDOUT = '-';

/**
 * Checks that `path` may be written, without writing anything: a directory never, an existing
 * file only with `force`.
 */
export async function checkOutputFile(path: string, force: boolean): Promise<void> {
  if (path === STDOUT) return;
  let stat;
  try {
    stat = await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      await lstat(dirname(resolve(path))).catch(() => {
        throw new OutputFileError(
          `--output ${path}: its folder ${dirname(resolve(path))} does not exist`,
        );
      });
      return;
    }
    throw error;
  }
  if (stat.isDirectory()) throw new OutputFileError(`--output ${path} is a directory; name a file`);
  if (!force) throw new OutputFileError(`--output ${path} exists; add --force to replace it`);
}

export interface OutputFileOptions {
  /** Bytes written so far. */
  onBytes?: (bytes: number) => void;
}

/**
 * Writes a stream to a file under a temporary name beside it (`.NAME.partial-PID`, mode 0600:
 * dumps hold whatever the database holds), flushed to disk and renamed into place only once the
 * stream has ended without error, so a failed or interrupted restore never leaves something that
 * looks like a whole dump. Returns the bytes written.
 */
export async function writeOutputFile(
  path: string,
  input: AsyncIterable<Uint8Array>,
  options: OutputFileOptions = {},
): Promise<number> {
  const final = resolve(path);
  const temporary = join(dirname(final), `.${basename(final)}.partial-${process.pid}`);
  await rm(temporary, { force: true });
  const file = await open(temporary, 'wx', 0o600);
  let bytes = 0;
  try {
    for await (const chunk of input) {
      let at = 0;
      while (at < chunk.length) {
        const { bytesWritten } = await file.write(chunk, at, chunk.length - at);
        at += bytesWritten;
      }
      bytes += chunk.length;
      options.onBytes?.(bytes);
    }
    await file.sync();
    await file.close();
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(temporary, { force: true });
    throw error;
  }
  await rename(temporary, final);
  await syncFolder(dirname(final));
  return bytes;
}

/** The rename itself survives a crash only once the folder is flushed too. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems cannot flush a folder; the file itself is on disk.
  } finally {
    await handle.close();
  }
}

/**
 * Writes a stream to standard output (or another stream), as fast as the reader takes it. A
 * reader that goes away early (`| head`) is an error: the output is incomplete.
 */
export async function writeOutputStream(
  input: AsyncIterable<Uint8Array>,
  output: Writable = process.stdout,
  options: OutputFileOptions = {},
): Promise<number> {
  let bytes = 0;
  async function* counted(): AsyncGenerator<Uint8Array> {
    for await (const chunk of input) {
      yield chunk;
      bytes += chunk.length;
      options.onBytes?.(bytes);
    }
  }
  await pipeline(counted(), output, { end: output !== process.stdout });
  return bytes;
}
