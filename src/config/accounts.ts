import { exec } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { ConfigError } from './config-error.js';
import { configPath, type LoadedConfig } from './loaded-config.js';
import type { ServerConfig } from './schema.js';

const execAsync = promisify(exec);

export interface ConfiguredAccount {
  name: string;
  /** The account's own password file (auth mode per-account). */
  passwordFile?: string;
}

/**
 * The accounts of a server, from the configuration's list, a passwd-style file (the name is the
 * first field of each line), or a command printing one account a line.
 */
export async function listAccounts(
  loaded: LoadedConfig,
  server: ServerConfig,
  index: number,
): Promise<ConfiguredAccount[]> {
  const key = `servers[${index}].accounts`;
  const { list, passwdFile, command } = server.accounts;
  if (list) {
    return list.map((entry) =>
      typeof entry === 'string'
        ? { name: entry }
        : { name: entry.name, passwordFile: configPath(loaded, entry.passwordFile) },
    );
  }
  if (passwdFile) {
    const path = configPath(loaded, passwdFile);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `${key}.passwdFile: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    return namesFrom(text.split('\n').map((line) => line.split(':')[0] ?? ''));
  }
  try {
    const { stdout } = await execAsync(command ?? '', {
      cwd: loaded.directory,
      maxBuffer: 64 * 1024 * 1024,
    });
    return namesFrom(stdout.split('\n'));
  } catch (error) {
    const failure = error as { code?: number; stderr?: string; message: string };
    throw new ConfigError(
      `${key}.command failed (exit ${failure.code ?? '?'}): ${(failure.stderr ?? failure.message).trim().split('\n')[0]}`,
    );
  }
}

function namesFrom(lines: string[]): ConfiguredAccount[] {
  const names = new Set<string>();
  for (const line of lines) {
    const name = line.trim();
    if (name && !name.startsWith('#')) names.add(name);
  }
  return [...names].map((name) => ({ name }));
}
