import { CatalogError } from '../catalog/catalog-error.js';
import { ConfigError } from '../config/config-error.js';
import { DateError } from '../dates/parse-date.js';
import { RepositoryUrlError } from '../storage/repository-url.js';

/**
 * A request that cannot be carried out as asked: an unknown account, options that contradict
 * each other, a file that is not there. Nothing was done. The CLI exits 2 for it; a server
 * answers 400.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/**
 * Whether the request itself was wrong (usage, configuration, a date, a catalog of another
 * repository, a repository URL that cannot be one) rather than the work failing: what the CLI
 * exits 2 for, and what is not recorded as a failed run.
 */
export function isBadRequest(error: unknown): boolean {
  return (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof DateError ||
    error instanceof CatalogError ||
    error instanceof RepositoryUrlError
  );
}

/** What an error says, for a person: its message, or what was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
