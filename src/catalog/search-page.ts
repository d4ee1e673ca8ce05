import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { CatalogSchema } from './schema.js';
import type { SearchCriteria } from './search.js';

// Which items make the page of a search: the ids of the newest `limit` items that meet every
// criterion. SQLite cannot choose well how to find them by itself, because it cannot know how
// many items a criterion keeps (how many texts a word is in, how big a folder is, how much is
// deleted), and the ways differ by a hundredfold either way:
//
// - start from the items one criterion keeps: test each against the others and sort what
//   remains (a cost of about one look per candidate);
// - walk the items newest first along a date index (of all items, or of those out of every
//   folder, or within a date range), testing each, until the page is full: a cost of about
//   limit / (share of the walked items the other criteria keep).
//
// So each criterion's candidates are counted first (a few milliseconds each: an index range,
// or the full-text index), up to a cap, and the cheapest way is taken, reckoning the criteria
// independent. The cap is a tenth of the catalog, at least STARTING_CAP_MIN: above it, starting
// from that criterion never pays.
//
// Deleted items are found in two disjoint halves, each paged this way and then merged: items in
// no folder any more (`open_states` = 0, kept by triggers, with an index of their own) and items
// still in a folder of an account gone from its server.

const STARTING_CAP_MIN = 20_000;

type Db = Kysely<CatalogSchema>;
type Condition = RawBuilder<unknown>;

/** One criterion: the test of an item (`i`), and where its candidates come from. */
interface Criterion {
  test: Condition;
  /** Ids of the items the criterion keeps (or a few more), found through an index. */
  candidates: Condition;
  /** How many candidates there are, up to `cap` (then anything above it). */
  count: (cap: number) => Promise<number>;
  /** Its candidates can be walked newest first along a date index, with this condition. */
  walk?: Condition;
  /** The share of its candidates its test keeps, when less than all (a guess). */
  keeps?: number;
}

interface PageRow {
  id: number;
  internal_date: string;
  key: string;
}

async function countUpTo(db: Db, ids: Condition, cap: number): Promise<number> {
  const row = await sql<{ n: number }>`SELECT count(*) AS n FROM (${ids} LIMIT ${cap})`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/** About how many items the catalog holds: from the ids, without counting a million rows. */
async function itemCount(db: Db): Promise<number> {
  // Two subqueries: SQLite reads min() and max() from the ends of the key only when alone.
  const row = await sql<{
    n: number | null;
  }>`SELECT (SELECT max(id) FROM items) - (SELECT min(id) FROM items) + 1 AS n`.execute(db);
  return Number(row.rows[0]?.n ?? 0);
}

/**
 * The criteria other than deletion. The tests write columns as `+i.column`: a unary plus keeps
 * SQLite from using an index for that term, so that the way in stays the one chosen here.
 */
function baseCriteria(db: Db, criteria: SearchCriteria, match: string | null): Criterion[] {
  const list: Criterion[] = [];
  const countIds = (ids: Condition) => (cap: number) => countUpTo(db, ids, cap);
  if (match !== null) {
    const texts = sql`(SELECT rowid FROM message_fts WHERE message_fts MATCH ${match})`;
    // Each item's text id (one text per distinct message), tested against the matching texts.
    const candidates = sql`SELECT j.id FROM items j WHERE j.sha256 IN (SELECT t.sha256 FROM message_texts t WHERE t.id IN ${texts})`;
    list.push({
      test: sql`(SELECT t.id FROM message_texts t WHERE t.sha256 = i.sha256) IN ${texts}`,
      candidates,
      // Matching texts, not items: far cheaper to count, and nearly the same number.
      count: (cap) =>
        countUpTo(db, sql`SELECT rowid FROM message_fts WHERE message_fts MATCH ${match}`, cap),
    });
  }
  const accountIds = criteria.accountIds
    ? criteria.accountIds.length > 0
      ? criteria.accountIds
      : [-1]
    : undefined;
  const accountList = accountIds ? sql.join(accountIds) : undefined;
  if (criteria.folder !== undefined) {
    const folders = accountList
      ? sql`(SELECT f.id FROM folders f WHERE f.path = ${criteria.folder} AND f.account_id IN (${accountList}))`
      : sql`(SELECT f.id FROM folders f WHERE f.path = ${criteria.folder})`;
    const candidates = sql`SELECT j.id FROM items j WHERE j.folder_id IN ${folders}`;
    list.push({ test: sql`+i.folder_id IN ${folders}`, candidates, count: countIds(candidates) });
  }
  if (accountList) {
    const candidates = sql`SELECT j.id FROM items j WHERE j.account_id IN (${accountList})`;
    list.push({
      test: sql`+i.account_id IN (${accountList})`,
      candidates,
      count: countIds(candidates),
    });
  }
  if (criteria.after || criteria.before) {
    const after = criteria.after?.toISOString() ?? '';
    const before = criteria.before?.toISOString() ?? '\uffff';
    const candidates = sql`SELECT j.id FROM items j WHERE j.internal_date >= ${after} AND j.internal_date < ${before}`;
    list.push({
      test: sql`+i.internal_date >= ${after} AND +i.internal_date < ${before}`,
      candidates,
      count: countIds(candidates),
      walk: sql`i.internal_date >= ${after} AND i.internal_date < ${before}`,
    });
  }
  return list;
}

const goneAccounts = sql`(SELECT g.id FROM accounts g WHERE g.gone_since IS NOT NULL)`;

/**
 * The same bytes still present elsewhere in the account: the message was moved, not deleted.
 * Looked up by the message's SHA-256 (a handful of items), not by the account (all of its items
 * for every candidate): the unary + keeps SQLite from picking the account's index.
 */
const movedElsewhere = sql`EXISTS (SELECT 1 FROM items j WHERE j.sha256 = i.sha256 AND +j.account_id = i.account_id AND j.id <> i.id AND j.open_states > 0)`;

/** The two halves of "deleted", each with its own way in. */
function deletedHalves(db: Db): Criterion[] {
  const closed = sql`SELECT j.id FROM items j WHERE j.open_states = 0`;
  const inGoneAccount = sql`SELECT j.id FROM items j WHERE j.account_id IN ${goneAccounts}`;
  return [
    {
      test: sql`+i.open_states = 0 AND NOT ${movedElsewhere}`,
      candidates: closed,
      count: (cap) => countUpTo(db, closed, cap),
      // Along the index of these items alone (items_absent_date).
      walk: sql`i.open_states = 0`,
      // Of the items out of every folder, some were moved to another: not deleted.
      keeps: 0.5,
    },
    {
      test: sql`+i.open_states > 0 AND +i.account_id IN ${goneAccounts}`,
      candidates: inGoneAccount,
      count: (cap) => countUpTo(db, inGoneAccount, cap),
    },
  ];
}

type Way = { start: Criterion } | { walk: Criterion | undefined };

/** The cheapest way to the page, from how many candidates each criterion has. */
async function chooseWay(
  criteria: Criterion[],
  items: number,
  cap: number,
  limit: number,
): Promise<Way> {
  const counts = new Map<Criterion, number>();
  for (const criterion of criteria) counts.set(criterion, await criterion.count(cap + 1));
  const share = (c: Criterion): number =>
    (Math.max(1, Math.min(counts.get(c) ?? items, items)) / items) * (c.keeps ?? 1);
  // Walking `within` (all items when undefined) passes about limit / (share the others keep).
  const walkCost = (within: Criterion | undefined): number => {
    const kept = criteria.filter((c) => c !== within).reduce((p, c) => p * share(c), 1);
    const walked = within ? (counts.get(within) ?? items) : items;
    return Math.min(walked, limit / (kept * (within?.keeps ?? 1)));
  };
  let best: Way = { walk: undefined };
  let cost = walkCost(undefined);
  for (const criterion of criteria) {
    const count = counts.get(criterion) ?? items;
    // Starting also costs reading the candidates and sorting them: half again as much.
    if (count <= cap && count * 1.5 < cost) [best, cost] = [{ start: criterion }, count * 1.5];
    if (criterion.walk && walkCost(criterion) < cost)
      [best, cost] = [{ walk: criterion }, walkCost(criterion)];
  }
  return best;
}

/** The page under `criteria` (all of which an item must meet), newest first. */
async function pageOf(
  db: Db,
  criteria: Criterion[],
  sizes: { items: number; cap: number },
  limit: number,
): Promise<PageRow[]> {
  const way = await chooseWay(criteria, sizes.items, sizes.cap, limit);
  const tests = criteria.map((c) => c.test);
  if ('start' in way) {
    const where = sql.join([sql`i.id IN (${way.start.candidates})`, ...tests], sql` AND `);
    // `+i.internal_date`: sort the candidates, rather than walk the date index looking for them.
    const rows = await sql<PageRow>`SELECT i.id, i.internal_date, i.key FROM items i WHERE ${where}
      ORDER BY +i.internal_date DESC, i.key LIMIT ${limit}`.execute(db);
    return rows.rows;
  }
  // Every walkable criterion bounds the walk; SQLite picks the index that serves the most.
  const where = [...criteria.flatMap((c) => (c.walk ? [c.walk] : [])), ...tests];
  const rows = await sql<PageRow>`SELECT i.id, i.internal_date, i.key FROM items i
    ${where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``}
    ORDER BY i.internal_date DESC, i.key LIMIT ${limit}`.execute(db);
  return rows.rows;
}

const newestFirst = (a: PageRow, b: PageRow): number =>
  a.internal_date < b.internal_date
    ? 1
    : a.internal_date > b.internal_date
      ? -1
      : a.key < b.key
        ? -1
        : a.key > b.key
          ? 1
          : 0;

/**
 * The ids of the items on the first page of a search, newest first. `match` is the full-text
 * query for the words searched for, if any.
 */
export async function pageIds(
  db: Db,
  criteria: SearchCriteria,
  match: string | null,
): Promise<number[]> {
  const items = Math.max(1, await itemCount(db));
  const sizes = { items, cap: Math.max(STARTING_CAP_MIN, Math.ceil(items / 10)) };
  const base = baseCriteria(db, criteria, match);
  const halves = criteria.deleted ? deletedHalves(db) : [undefined];
  const pages: PageRow[] = [];
  for (const half of halves)
    pages.push(...(await pageOf(db, half ? [...base, half] : base, sizes, criteria.limit)));
  return pages
    .sort(newestFirst)
    .slice(0, criteria.limit)
    .map((row) => row.id);
}
