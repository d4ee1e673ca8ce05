import { isAbsolute, resolve } from 'node:path';
import type { Config } from './schema.js';

/** A configuration file as read: where it is, and what it says. */
export interface LoadedConfig {
  path: string;
  /** Relative paths in the file are relative to the file's folder. */
  directory: string;
  config: Config;
}

export const DEFAULT_CONFIG_PATH = './mailvault.yml';

/** Resolves a path from the configuration against the configuration file's folder; ~ is the home folder. */
export function configPath(loaded: LoadedConfig, path: string): string {
  if (path.startsWith('~/')) return resolve(process.env.HOME ?? '/', path.slice(2));
  return isAbsolute(path) ? path : resolve(loaded.directory, path);
}
