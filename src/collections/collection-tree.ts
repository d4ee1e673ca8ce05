import type { ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { StoredStream } from '../repository/stream-store.js';
import type { ItemSummary } from './item-summary.js';

/**
 * Calendars, task lists and address books as stored: an account tree's `collections` member lists
 * one record per DAV collection, with its properties and synchronisation state, and the id of a
 * listing tree that holds one entry per item (its name, ETag and stored bytes). A collection
 * whose listing did not change shares the previous snapshot's listing object.
 */
export type CollectionKind = 'calendar' | 'addressbook';

export interface CollectionRecord {
  kind: CollectionKind;
  /** The collection's path on the server when it was backed up, e.g. /alice/work/. */
  href: string;
  /** Its last path segment (decoded): what a restore recreates it as. */
  name: string;
  displayName: string | null;
  color: string | null;
  description: string | null;
  /** VEVENT, VTODO, VJOURNAL for calendars; empty for address books. */
  components: string[];
  /** The calendar-timezone property (a VCALENDAR holding a VTIMEZONE), if any. */
  timezone: string | null;
  /**
   * Apple's calendar-order, where clients list the calendar; absent when the server had none
   * (and in snapshots written before it was kept).
   */
  order?: string;
  /** RFC 6578 token the next run synchronises from; null when the server has none. */
  syncToken: string | null;
  count: number;
  bytes: number;
  /** Id of the CollectionListing tree object. */
  listing: string;
}

export interface CollectionItem {
  /** Last path segment of the item's href (as the server spells it, percent-encoded). */
  name: string;
  etag: string;
  /** The item's exact bytes, as content-defined chunks (one for all but the largest). */
  content: StoredStream;
  contentType: string;
  summary: ItemSummary;
  /** Why the item does not parse as iCalendar or vCard; it is kept as the server held it. */
  broken?: string;
}

export interface CollectionListing {
  v: 1;
  /** Sorted by name. */
  items: CollectionItem[];
}

export async function writeListing(
  writer: ObjectWriter,
  items: readonly CollectionItem[],
): Promise<string> {
  const listing: CollectionListing = {
    v: 1,
    items: [...items].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return (await writer.save('tree', Buffer.from(JSON.stringify(listing)))).id.toString('hex');
}

export async function readListing(repository: Repository, id: string): Promise<CollectionItem[]> {
  const listing = await repository.readTree<CollectionListing>(Buffer.from(id, 'hex'));
  if (listing.v !== 1)
    throw new Error(`collection listing ${id}: unsupported version ${String(listing.v)}`);
  return listing.items;
}

/** The last segment of an href, without its trailing slash. */
export function lastSegment(href: string): string {
  const trimmed = href.endsWith('/') ? href.slice(0, -1) : href;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

/**
 * How a collection is named wherever folders are: `calendar:NAME` or `contacts:NAME` (in ls,
 * search results, restore reports, check).
 */
export function collectionLabel(collection: { kind: string; name: string }): string {
  return `${collection.kind === 'calendar' ? 'calendar' : 'contacts'}:${collection.name}`;
}

/** The collection a label names (`calendars:` and `addressbook:` are taken too), or null. */
export function parseCollectionName(label: string): { kind: CollectionKind; name: string } | null {
  const match = /^(calendar|calendars|contacts|addressbook):(.+)$/.exec(label);
  if (!match) return null;
  return {
    kind: match[1]?.startsWith('calendar') ? 'calendar' : 'addressbook',
    name: match[2] ?? '',
  };
}
