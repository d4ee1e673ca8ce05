import type { Catalog } from '../catalog/catalog.js';
import { UsageError } from './errors.js';

/** Finds the catalog's account for a name typed by a user, as `name` or `source/name`. */
export async function resolveAccount(
  catalog: Catalog,
  name: string,
  source?: string,
): Promise<{ id: number; source: string; name: string }> {
  let wanted = name;
  let wantedSource = source;
  const slash = name.indexOf('/');
  if (!wantedSource && slash > 0 && !name.slice(0, slash).includes('@')) {
    wantedSource = name.slice(0, slash);
    wanted = name.slice(slash + 1);
  }
  const matches = (await catalog.findAccounts(wanted)).filter(
    (account) => !wantedSource || account.source === wantedSource,
  );
  if (matches.length === 0)
    throw new UsageError(`unknown account ${name}: no backup of it in this repository`);
  if (matches.length > 1) {
    throw new UsageError(
      `account ${name} exists on several servers (${matches.map((m) => m.source).join(', ')}): name one with --source or as SERVER/${wanted}`,
    );
  }
  return matches[0] as { id: number; source: string; name: string };
}
