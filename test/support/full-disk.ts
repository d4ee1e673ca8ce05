// What the full-disk tests share: whether this process may mount a small tmpfs, and filling one.
import { open } from 'node:fs/promises';
import { onCi } from './servers.js';

/** Mounting takes root; under CI a test that cannot mount fails, never skips. */
export const canMount = process.getuid?.() === 0 || onCi();

/** Writes a file into the folder until its file system is full (ENOSPC). */
export async function fill(path: string): Promise<void> {
  const file = await open(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await file.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close().catch(() => undefined);
  }
}
