/** What the catalog's queries return, and how rows become them. */

/** Columns selected for snapshot rows (snapshots as s, accounts as a). */
export const SNAPSHOT_COLUMNS = [
  's.id',
  'a.source',
  'a.name',
  's.time',
  's.items',
  's.bytes',
  's.new_items',
  's.bytes_added',
  's.tree',
] as const;

/** Columns selected for item rows (items as i, item_states as s, folders as f, accounts as a). */
export const ITEM_COLUMNS = [
  'i.key',
  'a.name as account',
  'a.source',
  'f.path as folder',
  's.uid',
  's.flags',
  'i.internal_date',
  'i.sent_date',
  'i.from_text',
  'i.to_text',
  'i.cc_text',
  'i.subject',
  'i.message_id',
  'i.size',
  'i.sha256',
  'i.manifest',
] as const;

interface SnapshotColumns {
  id: string;
  source: string;
  name: string;
  time: number;
  items: number;
  bytes: number;
  new_items: number;
  bytes_added: number;
  tree: string;
}

interface ItemColumns {
  key: string;
  account: string;
  source: string;
  folder: string;
  uid: number;
  flags: string;
  internal_date: string;
  sent_date: string | null;
  from_text: string;
  to_text: string;
  cc_text: string;
  subject: string;
  message_id: string;
  size: number;
  sha256: string;
  manifest: string;
}

export interface AccountRow {
  source: string;
  name: string;
  firstSeen: Date;
  lastBackup: Date;
  goneSince: Date | null;
  snapshots: number;
}

export interface SnapshotRow {
  id: string;
  source: string;
  account: string;
  time: Date;
  items: number;
  bytes: number;
  newItems: number;
  bytesAdded: number;
  tree: string;
}

export interface FolderRow {
  path: string;
  delimiter: string | null;
  specialUse: string | null;
  subscribed: boolean;
  attributes: string[];
  count: number;
  bytes: number;
}

export interface ItemRow {
  key: string;
  account: string;
  source: string;
  folder: string;
  uid: number;
  flags: string[];
  internalDate: string;
  sentDate: string | null;
  from: string;
  to: string;
  cc: string;
  subject: string;
  messageId: string;
  size: number;
  sha256: string;
  manifest: string;
}

export interface SyncResult {
  /** Snapshots recorded now. */
  added: number;
  /** Snapshot files that could not be read, passed over. */
  damaged: Array<{ id: string; error: string }>;
}

export interface ItemHistoryRow {
  from: Date;
  until: Date | null;
  flags: string[];
  uid: number;
}

export function toSnapshotRow(row: SnapshotColumns): SnapshotRow {
  return {
    id: row.id,
    source: row.source,
    account: row.name,
    time: new Date(Number(row.time)),
    items: Number(row.items),
    bytes: Number(row.bytes),
    newItems: Number(row.new_items),
    bytesAdded: Number(row.bytes_added),
    tree: row.tree,
  };
}

export function toItemRow(row: ItemColumns): ItemRow {
  return {
    key: row.key,
    account: row.account,
    source: row.source,
    folder: row.folder,
    uid: Number(row.uid),
    flags: row.flags ? row.flags.split(' ') : [],
    internalDate: row.internal_date,
    sentDate: row.sent_date,
    from: row.from_text,
    to: row.to_text,
    cc: row.cc_text,
    subject: row.subject,
    messageId: row.message_id,
    size: Number(row.size),
    sha256: row.sha256,
    manifest: row.manifest,
  };
}
