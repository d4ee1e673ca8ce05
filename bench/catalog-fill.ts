// A synthetic catalog of a million messages (or any number), written straight into the SQLite
// file of a real catalog: backing up a million real messages would take hours here, and a
// search only reads the catalog. The rows look like what ingest.ts writes after a month of
// nightly backups of many accounts: accounts of very different sizes, the folders of
// bench/mailgen.ts, varied senders, recipients and subjects, body text in the full-text index
// (one text per distinct message), 30 daily snapshots per account and, in item_states, the
// intervals each item was present in: mail that arrived during the month, was expunged, moved
// to another folder (a new item with the same bytes) or re-flagged, and a few accounts that are
// gone from the server. Everything comes from a seeded PRNG.
//
// The schema is the catalog's own: the CLI creates the file (its migrations, tied to the
// repository) before this fills it. The snapshots' rows name files that must exist in the
// repository, or the CLI's catalog sync would take them for removed snapshots and replay the
// accounts: each gets an empty placeholder file, which nothing reads.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FOLDERS, VOCABULARY, person, word, type FolderSpec } from './mailgen.js';
import { Prng } from './prng.js';

const DAY = 86_400_000;
/** Nightly snapshots per account. */
const SNAPSHOT_DAYS = 30;
/** The first snapshot of every account (each account's a few seconds after the previous one's). */
const FIRST_SNAPSHOT = Date.parse('2025-10-02T01:00:00Z');
const SOURCE = 'mail1';

/** What becomes of an item during the month. */
const FATES = { expunged: 0.03, moved: 0.02, reflagged: 0.05 };
/** Share of the items that arrived during the month (the rest were there at the first backup). */
const ARRIVED = 0.1;
/** One account in this many is gone from the server since the night after its last snapshot. */
const GONE_EVERY = 100;

export interface FillResult {
  accounts: Array<{ name: string; items: number; gone: boolean }>;
  items: number;
  itemStates: number;
  texts: number;
  snapshots: number;
  /** Items `search --deleted` finds: expunged, or in an account gone from the server. */
  deleted: number;
  /** An order number found in the text of a few messages. */
  reference: string;
  seconds: number;
  /** Bytes of the catalog file. */
  bytes: number;
}

interface Account {
  id: number;
  name: string;
  owner: string;
  items: number;
  gone: boolean;
  folderIds: Map<string, number>;
  snapshotTimes: number[];
}

/** A word of the generated text that is neither common nor rare: in about 2 % of the messages. */
export const MIDDLING_WORD = VOCABULARY.slice(2500).find((w) => w.length >= 9) ?? 'silnebridor';

/** Account sizes: log-uniform from a few hundred to tens of thousands, summing to `total`. */
function accountSizes(rng: Prng, total: number): number[] {
  const count = Math.max(4, Math.round(total / 5000));
  const weights = Array.from({ length: count }, () => rng.logUniform(100, 5000));
  const sum = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.max(1, Math.floor((w / sum) * total)));
  let left = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % count, left--) sizes[i] = (sizes[i] ?? 0) + 1;
  return sizes;
}

function capitalized(words: string): string {
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function subjectOf(rng: Prng, folder: FolderSpec): string {
  const words = capitalized(Array.from({ length: rng.int(2, 9) }, () => word(rng)).join(' '));
  const prefix = rng.chance(0.25) ? 'Re: ' : rng.chance(0.05) ? 'Fwd: ' : '';
  const tag = folder.kind === 'list' ? `[${folder.path.split('/').pop() ?? 'list'}] ` : '';
  return `${prefix}${tag}${words}`;
}

/**
 * Extracted body text: 20 to 400 words (real bodies are longer on average, which makes the
 * index larger, not the queries slower: a query's cost follows the number of messages that
 * match), and, as in real mail, a long tail of words found in very few messages: one to three
 * order or ticket numbers, each in two or three messages of a million.
 */
function bodyText(rng: Prng): { body: string; reference: string } {
  const n = rng.logUniform(20, 400);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(word(rng));
  const reference = String(rng.int(100_000, 999_999));
  words.splice(rng.int(0, words.length), 0, 'order', reference);
  for (let i = rng.int(0, 2); i > 0; i--)
    words.splice(rng.int(0, words.length), 0, 'ticket', String(rng.int(100_000, 999_999)));
  return { body: words.join(' '), reference };
}

function address(p: { name: string; address: string }): string {
  return `${p.name} <${p.address}>`;
}

/** Sender and recipients of a message in `folder` of an account whose owner is `owner`. */
function parties(rng: Prng, folder: FolderSpec, owner: string): { from: string; to: string } {
  const other = (): string => address(person(rng));
  switch (folder.kind) {
    case 'sent':
    case 'drafts':
      return { from: owner, to: Array.from({ length: rng.int(1, 3) }, other).join(', ') };
    case 'list': {
      const list = folder.path.split('/').pop() ?? 'list';
      return { from: other(), to: `${list}@lists.example.org` };
    }
    default:
      return { from: other(), to: rng.chance(0.2) ? `${owner}, ${other()}` : owner };
  }
}

/** A date in the folder's span, before the first snapshot. */
function pastDate(rng: Prng, folder: FolderSpec): number {
  const from = Date.parse(`${folder.years[0]}T00:00:00Z`);
  const to = Math.min(Date.parse(`${folder.years[1]}T00:00:00Z`), FIRST_SNAPSHOT);
  return Math.floor(from + rng.float() * (to - from));
}

const FLAG_SETS = ['\\Seen', '\\Seen', '\\Seen', '', '\\Answered \\Seen', '$Forwarded \\Seen'];

interface Statements {
  account: Database.Statement;
  folder: Database.Statement;
  folderState: Database.Statement;
  snapshot: Database.Statement;
  item: Database.Statement;
  state: Database.Statement;
  text: Database.Statement;
  fts: Database.Statement;
}

function prepare(db: Database.Database): Statements {
  return {
    account: db.prepare(
      'INSERT INTO accounts (source, name, first_seen, last_seen, gone_since) VALUES (?, ?, ?, ?, ?)',
    ),
    folder: db.prepare('INSERT INTO folders (account_id, path) VALUES (?, ?)'),
    folderState: db.prepare(
      `INSERT INTO folder_states (folder_id, from_time, until_time, delimiter, special_use, subscribed, attributes, count, bytes, listing)
       VALUES (?, ?, NULL, '/', NULL, 1, '', 0, 0, ?)`,
    ),
    snapshot: db.prepare(
      `INSERT INTO snapshots (id, account_id, kind, time, run, tree, parent, items, bytes, new_items, bytes_added)
       VALUES (?, ?, 'account', ?, ?, ?, ?, ?, 0, 0, 0)`,
    ),
    item: db.prepare(
      `INSERT INTO items (key, account_id, folder_id, sha256, manifest, size, internal_date, sent_date, from_text, to_text, cc_text, subject, message_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)`,
    ),
    state: db.prepare(
      'INSERT INTO item_states (item_id, from_time, until_time, flags, uid) VALUES (?, ?, ?, ?, ?)',
    ),
    text: db.prepare('INSERT INTO message_texts (sha256) VALUES (?)'),
    fts: db.prepare(
      'INSERT INTO message_fts (rowid, from_text, to_text, subject, body) VALUES (?, ?, ?, ?, ?)',
    ),
  };
}

/** Creates an account with its folders and its snapshots (and their placeholder files). */
async function addAccount(
  st: Statements,
  rng: Prng,
  index: number,
  items: number,
  snapshotsDir: string,
): Promise<Account> {
  const who = person(rng);
  const [local, domain] = who.address.split('@') as [string, string];
  const name = `${local}${index}@${domain}`;
  const owner = `${who.name} <${name}>`;
  const gone = index % GONE_EVERY === GONE_EVERY - 1;
  const snapshotTimes = Array.from(
    { length: SNAPSHOT_DAYS },
    (_, d) => FIRST_SNAPSHOT + d * DAY + index * 7000,
  );
  const last = snapshotTimes[SNAPSHOT_DAYS - 1] ?? FIRST_SNAPSHOT;
  const id = Number(
    st.account.run(SOURCE, name, snapshotTimes[0], last, gone ? last + DAY : null).lastInsertRowid,
  );
  const folderIds = new Map<string, number>();
  for (const folder of FOLDERS) {
    const folderId = Number(st.folder.run(id, folder.path).lastInsertRowid);
    folderIds.set(folder.path, folderId);
    st.folderState.run(folderId, snapshotTimes[0], rng.hex(64));
  }
  let parent: string | null = null;
  for (const [d, time] of snapshotTimes.entries()) {
    const snapshotId = rng.hex(64);
    st.snapshot.run(snapshotId, id, time, `run-${d}`, rng.hex(64), parent, items);
    await writeFile(join(snapshotsDir, snapshotId), '');
    parent = snapshotId;
  }
  return { id, name, owner, items, gone, folderIds, snapshotTimes };
}

interface Counters {
  items: number;
  states: number;
  texts: number;
  deleted: number;
  reference: string;
}

/** One message: its item, its text and its states; a moved one also its copy in the new folder. */
function addMessage(st: Statements, rng: Prng, account: Account, counters: Counters): number {
  const weights = FOLDERS.map((f) => f.weight);
  const folder = FOLDERS[rng.weighted(weights)] ?? (FOLDERS[0] as FolderSpec);
  const times = account.snapshotTimes;
  const arrivedDay = rng.chance(ARRIVED) ? rng.int(1, SNAPSHOT_DAYS - 1) : 0;
  const date =
    arrivedDay === 0
      ? pastDate(rng, folder)
      : (times[arrivedDay - 1] ?? FIRST_SNAPSHOT) + rng.int(0, DAY - 60_000);
  const sha256 = rng.hex(64);
  const { from, to } = parties(rng, folder, account.owner);
  const subject = subjectOf(rng, folder);
  const textId = Number(st.text.run(sha256).lastInsertRowid);
  const { body, reference } = bodyText(rng);
  st.fts.run(textId, from, to, subject, body);
  counters.texts++;
  if (counters.texts === 1000) counters.reference = reference;
  const internal = new Date(date).toISOString();
  const sent = new Date(date - rng.int(2, 180) * 1000).toISOString();
  const size = rng.logUniform(1500, 200_000);
  const messageId = `<${rng.hex(20)}@${from.split('@')[1]?.replace('>', '') ?? 'example.com'}>`;
  const insertItem = (folderPath: string): number => {
    counters.items++;
    return Number(
      st.item.run(
        rng.hex(16),
        account.id,
        account.folderIds.get(folderPath),
        sha256,
        rng.hex(64),
        size,
        internal,
        sent,
        from,
        to,
        subject,
        messageId,
      ).lastInsertRowid,
    );
  };
  const itemId = insertItem(folder.path);
  const start = times[arrivedDay] ?? FIRST_SNAPSHOT;
  const flags = rng.pick(FLAG_SETS);
  const uid = counters.items;
  const state = (id: number, fromTime: number, until: number | null, f: string): void => {
    st.state.run(id, fromTime, until, f, uid);
    counters.states++;
  };
  const x = rng.float();
  const endDay = rng.int(arrivedDay + 1, SNAPSHOT_DAYS - 1);
  const end = times[endDay] ?? start;
  const canEnd = arrivedDay < SNAPSHOT_DAYS - 1;
  if (canEnd && x < FATES.expunged) {
    state(itemId, start, end, flags);
    counters.deleted++;
    return 1;
  }
  if (canEnd && x < FATES.expunged + FATES.moved) {
    // Moved: gone from its folder, the same bytes present in another from the same snapshot.
    state(itemId, start, end, flags);
    const target = folder.path === 'Trash' ? 'Archive' : rng.pick(['Trash', 'Archive', 'Work']);
    state(insertItem(target), end, null, flags);
    // Moved is not deleted; in a gone account, the message counts once.
    if (account.gone) counters.deleted++;
    return 2;
  }
  if (canEnd && x < FATES.expunged + FATES.moved + FATES.reflagged) {
    state(itemId, start, end, flags);
    state(itemId, end, null, `${flags} \\Flagged`.trim());
  } else {
    state(itemId, start, null, flags);
  }
  if (account.gone) counters.deleted++;
  return 1;
}

/**
 * Fills the (migrated, empty) catalog at `file` with `rows` items, and writes a placeholder
 * for each snapshot into `snapshotsDir`. Secondary indexes are dropped for the load and made
 * again from their own definitions afterwards: building an index once is far faster than
 * keeping it up to date row by row, and the result is the same index.
 */
export async function fillCatalog(
  file: string,
  snapshotsDir: string,
  rows: number,
  seed: number,
  onProgress?: (done: number) => void,
): Promise<FillResult> {
  const started = performance.now();
  const db = new Database(file);
  try {
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.pragma('cache_size = -1000000');
    const indexes = db
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('items', 'item_states', 'snapshots', 'folder_states')",
      )
      .all() as Array<{ name: string; sql: string }>;
    for (const index of indexes) db.exec(`DROP INDEX "${index.name}"`);
    const st = prepare(db);
    const rng = new Prng(seed, 0xca7a);
    const counters: Counters = { items: 0, states: 0, texts: 0, deleted: 0, reference: '' };
    const accounts: Account[] = [];
    let reported = 0;
    db.exec('BEGIN');
    for (const [index, size] of accountSizes(rng, rows).entries()) {
      const account = await addAccount(st, rng, index, size, snapshotsDir);
      accounts.push(account);
      for (let n = 0; n < size;) n += addMessage(st, rng, account, counters);
      if (counters.items >= reported + 100_000) {
        reported = counters.items;
        onProgress?.(reported);
      }
    }
    db.exec('COMMIT');
    for (const index of indexes) db.exec(index.sql);
    // The catalog works in WAL mode; leave the file as the CLI expects to find it.
    db.pragma('journal_mode = WAL');
    const bytes =
      Number(db.pragma('page_count', { simple: true })) *
      Number(db.pragma('page_size', { simple: true }));
    return {
      accounts: accounts.map((a) => ({ name: a.name, items: a.items, gone: a.gone })),
      items: counters.items,
      itemStates: counters.states,
      texts: counters.texts,
      snapshots: accounts.length * SNAPSHOT_DAYS,
      deleted: counters.deleted,
      reference: counters.reference,
      seconds: (performance.now() - started) / 1000,
      bytes,
    };
  } finally {
    db.close();
  }
}
