import { readFile } from 'node:fs/promises';
import { UsageError } from './errors.js';

/**
 * A secret from a file the configuration or the command line names (`key`, in the message when
 * it cannot be read): its trailing newline is not part of it, and an empty file is refused.
 */
export async function readSecretFile(path: string, key: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${key}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : String(code ?? error)}`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError(`${key}: ${path} is empty`);
  return secret;
}
