import { open, realpath, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';

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
 * What `--output` names: nothing yet, a regular file (replaced through a temporary file beside
 * it, following a symbolic link to it), or something else that is written in place: a device
 * such as /dev/null, a named pipe. Renaming over those would replace the device itself.
 */
type OutputPlace = { kind: 'new' | 'file'; final: string } | { kind: 'stream'; final: string };

async function placeOf(path: string): Promise<OutputPlace | { kind: 'directory' }> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { kind: 'new', final: resolve(path) };
    throw error;
  }
  const stats = await stat(real);
  if (stats.isDirectory()) return { kind: 'directory' };
  return { kind: stats.isFile() ? 'file' : 'stream', final: real };
}

/**
 * Checks that `path` may be written, without writing anything: a directory never, an existing
 * file only with `force`; a device or a named pipe always (it is written in place).
 */
export async function checkOutputFile(path: string, force: boolean): Promise<void> {
  if (path === STDOUT) return;
  const place = await placeOf(path);
  if (place.kind === 'directory')
    throw new OutputFileError(`--output ${path} is a directory; name a file`);
  if (place.kind === 'file' && !force)
    throw new OutputFileError(`--output ${path} exists; add --force to replace it`);
  if (place.kind === 'new') {
    const folder = dirname(place.final);
    const exists = await stat(folder).then(
      (stats) => stats.isDirectory(),
      () => false,
    );
    if (!exists) throw new OutputFileError(`--output ${path}: its folder ${folder} does not exist`);
  }
}

export interface OutputFileOptions {
  /** Bytes written so far. */
  onBytes?: (bytes: number) => void;
}

/**
 * Writes a stream to a file under a temporary name beside it (`.NAME.partial-PID`, mode 0600:
 * dumps hold whatever the database holds), flushed to disk and renamed into place only once the
 * stream has ended without error, so a failed or interrupted restore never leaves something that
 * looks like a whole dump. A device or a named pipe is written in place. Returns the bytes
 * written.
 */
export async function writeOutputFile(
  path: string,
  input: AsyncIterable<Uint8Array>,
  options: OutputFileOptions = {},
): Promise<number> {
  const place = await placeOf(path);
  if (place.kind === 'directory')
    throw new OutputFileError(`--output ${path} is a directory; name a file`);
  if (place.kind === 'stream') {
    const handle = await open(place.final, 'w');
    try {
      return await writeAll(handle, input, options);
    } finally {
      await handle.close();
    }
  }
  const { final } = place;
  const temporary = join(dirname(final), `.${basename(final)}.partial-${process.pid}`);
  await rm(temporary, { force: true });
  const file = await open(temporary, 'wx', 0o600);
  let bytes: number;
  try {
    bytes = await writeAll(file, input, options);
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

async function writeAll(
  handle: FileHandle,
  input: AsyncIterable<Uint8Array>,
  options: OutputFileOptions,
): Promise<number> {
  let bytes = 0;
  for await (const chunk of input) {
    let at = 0;
    while (at < chunk.length) {
      const { bytesWritten } = await handle.write(chunk, at, chunk.length - at);
      at += bytesWritten;
    }
    bytes += chunk.length;
    options.onBytes?.(bytes);
  }
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
 * Writes a stream to standard output (or another stream), as fast as the reader takes it, and
 * leaves the output open: whoever owns it may still have something to say. A reader that goes
 * away early (`| head`) is an error: the output is incomplete.
 */
export async function writeOutputStream(
  input: AsyncIterable<Uint8Array>,
  output: NodeJS.WritableStream,
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
  await pipeline(counted(), output, { end: false });
  return bytes;
}
