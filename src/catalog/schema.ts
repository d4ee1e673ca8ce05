import type { Generated } from 'kysely';

/**
 * The catalog's tables. Times are milliseconds since the epoch. A "state" row holds what was true
 * from one snapshot (from_time, inclusive) until the first snapshot where it no longer was
 * (until_time, exclusive; null while it still is).
 */
export interface CatalogSchema {
  catalog_meta: { key: string; value: string };
  accounts: {
    id: Generated<number>;
    source: string;
    name: string;
    first_seen: number;
    last_seen: number;
    /** When a backup last found the account missing from its source; null while it exists. */
    gone_since: number | null;
  };
  snapshots: {
    id: string;
    account_id: number;
    kind: string;
    time: number;
    run: string;
    tree: string;
    parent: string | null;
    items: number;
    bytes: number;
    new_items: number;
    bytes_added: number;
    /** The run file that holds it (an unchanged account), or null for a snapshot file. */
    run_file: string | null;
  };
  /** Run files every entry of which is recorded (a sync passes over them). */
  recorded_run_files: { name: string };
  /** Accounts whose history a sync must replay (an older snapshot came in after newer ones). */
  pending_replays: { account_id: number };
  folders: { id: Generated<number>; account_id: number; path: string };
  folder_states: {
    folder_id: number;
    from_time: number;
    until_time: number | null;
    delimiter: string | null;
    special_use: string | null;
    subscribed: number;
    attributes: string;
    count: number;
    bytes: number;
    listing: string | null;
  };
  items: {
    id: Generated<number>;
    /** The stable item id users see. */
    key: string;
    account_id: number;
    folder_id: number;
    sha256: string;
    manifest: string;
    size: number;
    internal_date: string;
    sent_date: string | null;
    from_text: string;
    to_text: string;
    cc_text: string;
    subject: string;
    message_id: string;
    /** Open states: 0 when the item is in no folder any more (kept by triggers). */
    open_states: Generated<number>;
  };
  message_texts: { id: Generated<number>; sha256: string };
  item_states: {
    id: Generated<number>;
    item_id: number;
    from_time: number;
    until_time: number | null;
    flags: string;
    uid: number;
  };
  collections: { id: Generated<number>; account_id: number; kind: string; name: string };
  collection_states: {
    collection_id: number;
    from_time: number;
    until_time: number | null;
    href: string;
    display_name: string | null;
    color: string | null;
    description: string | null;
    /** Space-separated component names. */
    components: string;
    timezone: string | null;
    count: number;
    bytes: number;
    listing: string;
  };
  collection_items: {
    id: Generated<number>;
    /** The stable item id users see: one per version of an item. */
    key: string;
    account_id: number;
    collection_id: number;
    name: string;
    sha256: string;
    /** The StoredStream of its bytes, as JSON. */
    content: string;
    size: number;
    content_type: string;
    component: string | null;
    uid: string | null;
    title: string;
    location: string;
    start: string | null;
    /** Attendees, organizer or e-mail addresses, one per line. */
    people: string;
    text: string;
    broken: string | null;
  };
  collection_item_states: {
    id: Generated<number>;
    item_id: number;
    from_time: number;
    until_time: number | null;
    etag: string;
  };
  /**
   * One run of an operation (a backup, a check, a prune...), from its start to its end. Unlike
   * the tables above, this is not derived from the repository: `catalog rebuild` keeps it.
   */
  runs: {
    /** The run's id: a backup's is the `run` of its report and snapshots. */
    id: string;
    /** backup, check, forget, prune, copy... */
    kind: string;
    started: number;
    /** Its start again while it runs (and when it was interrupted: see outcome). */
    finished: number;
    /** running: it has not recorded its end (whether it still runs, host and pid tell). */
    outcome: 'ok' | 'partial' | 'failed' | 'running' | 'interrupted';
    /** What the run counted (accounts, items, bytes added...), as a JSON object of numbers. */
    counts: string;
    error: string | null;
    /** How the command run after it ended (the postBackup hook), as JSON; null when none ran. */
    hook: string | null;
    /** The machine and process that ran it, and when it last said it still ran (null before 0009). */
    host: string | null;
    pid: number | null;
    heartbeat: number | null;
  };
  /** Each account (or file set, or command) a backup run was asked for, and how it went. */
  run_accounts: {
    run_id: string;
    source: string;
    name: string;
    /** The run's start, repeated here so "the last attempt of each account" is one index walk. */
    started: number;
    ok: number;
    error: string | null;
    snapshot: string | null;
  };
}
