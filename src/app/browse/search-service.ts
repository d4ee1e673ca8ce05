import type { CollectionItemRow } from '../../catalog/collection-queries.js';
import type { SearchHit } from '../../catalog/search.js';
import { collectionLabel, parseCollectionName } from '../../collections/collection-tree.js';
import { parseAt } from '../../dates/at-spec.js';
import { resolveAccount } from '../account-resolution.js';
import { UsageError } from '../errors.js';
import type { Session } from '../session.js';
import { momentOf } from '../snapshot-at.js';

/** What a search asks for: every criterion optional, words and dates as users give them. */
export interface SearchRequest {
  account?: string;
  source?: string;
  folder?: string;
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  after?: string;
  before?: string;
  deleted?: boolean;
  location?: string;
  attendee?: string;
  name?: string;
  email?: string;
  /** At most this many hits (digits, as given). */
  limit: string;
}

export type Hit = SearchHit & { kind?: string };

export interface SearchResult {
  hits: Hit[];
  limit: number;
}

/** A calendar or contact item version among search results, in the columns mail hits have. */
function asHit(item: CollectionItemRow): Hit & { kind: string } {
  return {
    key: item.key,
    source: item.source,
    account: item.account,
    folder: collectionLabel({ kind: item.kind, name: item.collection }),
    internalDate: item.start ?? '',
    from: item.people[0] ?? '',
    to: item.people.slice(1).join(', '),
    subject: item.title,
    size: item.size,
    present: item.present,
    lastSeen: item.lastSeen,
    kind: (item.component ?? 'item').replace(/^V/, '').toLowerCase(),
  };
}

/**
 * Which kinds of items a search looks at: criteria that only mail has (sender, recipients,
 * delivery dates) leave calendars and contacts out, and criteria only they have leave mail out.
 */
function scope(options: SearchRequest): { mail: boolean; collections: boolean } {
  const davOnly = [options.location, options.attendee, options.name, options.email].some(
    (value) => value !== undefined,
  );
  const mailOnly = [options.from, options.to, options.after, options.before].some(
    (value) => value !== undefined,
  );
  if (davOnly && mailOnly)
    throw new UsageError(
      '--location, --attendee, --name and --email search calendars and contacts; --from, --to, --after and --before search mail: use one kind at a time',
    );
  return { mail: !davOnly, collections: !mailOnly };
}

/**
 * Items across every snapshot, mail and calendars and contacts alike, deleted ones too: by words
 * of their senders, recipients, subject and text, their dates, their folder.
 */
export async function search(session: Session, request: SearchRequest): Promise<SearchResult> {
  const options = request;
  const limit = readLimit(options.limit);
  // A snapshot id stands for the moment it was taken.
  const afterAt =
    options.after === undefined ? undefined : parseAt(options.after, '--after', 'start');
  const beforeAt =
    options.before === undefined ? undefined : parseAt(options.before, '--before', 'start');
  const catalog = await session.catalog();
  const after = afterAt && (await momentOf(catalog, afterAt, '--after'));
  const before = beforeAt && (await momentOf(catalog, beforeAt, '--before'));
  const accountIds = options.account
    ? [(await resolveAccount(catalog, options.account, options.source)).id]
    : undefined;
  const folder = options.folder && /^inbox$/i.test(options.folder) ? 'INBOX' : options.folder;
  const kinds = scope(options);
  const collection = folder === undefined ? undefined : parseCollectionName(folder);
  const hits: Hit[] =
    kinds.mail && !collection
      ? await catalog.search({ ...options, folder, accountIds, after, before, limit })
      : [];
  if (kinds.collections && (folder === undefined || collection)) {
    const versions = await catalog.collections.search({
      accountIds,
      collection: collection?.name,
      text: options.text,
      title: options.subject ?? options.name,
      location: options.location,
      person: options.attendee ?? options.email,
      deleted: options.deleted,
      limit: Math.max(0, limit - hits.length),
    });
    hits.push(...versions.map(asHit));
  }
  return { hits, limit };
}

/**
 * The catalog takes the limit as an SQLite integer: `1e99` passed Number.isInteger and reached
 * it as a float ("datatype mismatch"). Digits alone, up to a bound far above any listing.
 */
const MAX_LIMIT = 1_000_000_000;

function readLimit(text: string): number {
  const limit = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT))
    throw new UsageError(
      `--limit: a whole number from 1 to ${MAX_LIMIT}, not ${JSON.stringify(text)}`,
    );
  return limit;
}
