import type { Kysely } from 'kysely';
import type { CatalogSchema } from './schema.js';

/**
 * Small values a command keeps between runs on this machine (where `check --read-data-subset`
 * stopped), in the catalog's key-value table. Lost with the catalog, they cost nothing that
 * matters: the next run starts afresh.
 */
export async function readMetaValue(
  db: Kysely<CatalogSchema>,
  key: string,
): Promise<string | null> {
  const row = await db
    .selectFrom('catalog_meta')
    .select('value')
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.value ?? null;
}

export async function writeMetaValue(
  db: Kysely<CatalogSchema>,
  key: string,
  value: string,
): Promise<void> {
  await db
    .insertInto('catalog_meta')
    .values({ key, value })
    .onConflict((conflict) => conflict.column('key').doUpdateSet({ value }))
    .execute();
}
