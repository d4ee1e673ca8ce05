// Filling and reading test accounts on a DovecotServer. Both log in as the master user
// (`user*master`), so tests need no per-user passwords. fillMailbox and readAccount speak raw
// IMAP on purpose: the oracle a test compares against must not share the quirks of imapflow,
// the client the product itself uses; withImap hands out an imapflow client for everything else.
import { createHash } from 'node:crypto';
import { ImapFlow } from 'imapflow';
import type { DovecotServer } from './dovecot.js';
import { RawImap, decodeMailboxName, encodeMailboxName, imapDateTime, quoted } from './raw-imap.js';

export interface FixtureMessage {
  raw: Uint8Array;
  /** System flags and keywords, e.g. ['\\Seen', '$Forwarded']. */
  flags?: string[];
  /** Default: the time of the APPEND. */
  internalDate?: Date;
}

export interface FillOptions {
  /** Folders to SUBSCRIBE to (Sent and Trash are subscribed by the server configuration). */
  subscribe?: string[];
}

export interface AccountMessage {
  sha256: string;
  size: number;
  /** Sorted, without \Recent (which depends on who looked first, not on the account). */
  flags: string[];
  /** ISO 8601 in UTC, e.g. 2021-03-05T14:03:09.000Z. */
  internalDate: string;
}

export interface AccountFolder {
  path: string;
  delimiter: string;
  specialUse: string | null;
  subscribed: boolean;
  /** Sorted by sha256, then by flags. */
  messages: AccountMessage[];
}

export interface AccountState {
  /** Sorted by path; only folders that exist (\NonExistent and \Noselect parents are left out). */
  folders: AccountFolder[];
}

// MULTIAPPEND batches: 100 messages a command reached ~5,400 msg/s on this machine; the byte
// cap keeps a batch of large messages from becoming one huge command.
const BATCH_MESSAGES = 100;
const BATCH_BYTES = 8 * 1024 * 1024;

async function masterLogin(server: DovecotServer, user: string): Promise<RawImap> {
  const client = await RawImap.connect({ host: server.host, port: server.port });
  try {
    await client.ok(
      `LOGIN ${quoted(`${user}*${server.master.user}`)} ${quoted(server.master.password)}`,
    );
  } catch (error) {
    client.close();
    throw error;
  }
  return client;
}

function mailbox(path: string): string {
  return quoted(encodeMailboxName(path));
}

/**
 * Creates the folders (nested with '/'; INBOX, Sent and Trash already exist) and appends the
 * messages in order, with their flags and internal dates.
 */
export async function fillMailbox(
  server: DovecotServer,
  user: string,
  folders: Record<string, FixtureMessage[]>,
  options: FillOptions = {},
): Promise<void> {
  const client = await masterLogin(server, user);
  try {
    for (const [path, messages] of Object.entries(folders)) {
      if (path.toUpperCase() !== 'INBOX') {
        const created = await client.command(`CREATE ${mailbox(path)}`);
        if (created.status !== 'OK' && !created.text.includes('[ALREADYEXISTS]')) {
          throw new Error(`CREATE ${path} failed: ${created.status} ${created.text}`);
        }
      }
      let batch: Array<string | Uint8Array> = [];
      let count = 0;
      let bytes = 0;
      let first = 0;
      const flush = async (): Promise<void> => {
        if (count === 0) return;
        const result = await client.command(`APPEND ${mailbox(path)}`, ...batch);
        if (result.status !== 'OK') {
          throw new Error(
            `APPEND of messages ${first}..${first + count - 1} to ${path} failed: ` +
              `${result.status} ${result.text}`,
          );
        }
        first += count;
        batch = [];
        count = 0;
        bytes = 0;
      };
      for (const message of messages) {
        if (count >= BATCH_MESSAGES || (count > 0 && bytes + message.raw.length > BATCH_BYTES)) {
          await flush();
        }
        const flags = (message.flags ?? []).join(' ');
        const date = message.internalDate ? ` "${imapDateTime(message.internalDate)}"` : '';
        batch.push(` (${flags})${date} {${message.raw.length}+}\r\n`, message.raw);
        count++;
        bytes += message.raw.length;
      }
      await flush();
    }
    for (const path of options.subscribe ?? []) await client.ok(`SUBSCRIBE ${mailbox(path)}`);
  } finally {
    await client.logout();
  }
}

const SPECIAL_USE = new Set([
  '\\All',
  '\\Archive',
  '\\Drafts',
  '\\Flagged',
  '\\Important',
  '\\Junk',
  '\\Sent',
  '\\Trash',
]);

/**
 * Every existing folder with every message's bytes, flags and INTERNALDATE. The bytes are those
 * the server holds (NUL bytes read back with BINARY where that proves them, as a backup does),
 * or with `{ nul: 'served' }` exactly what BODY[] serves.
 */
export async function readAccount(
  server: DovecotServer,
  user: string,
  options: { nul?: 'held' | 'served' } = {},
): Promise<AccountState> {
  const client = await masterLogin(server, user);
  try {
    const listing = await client.ok('LIST "" "*" RETURN (SPECIAL-USE SUBSCRIBED)');
    const folders: AccountFolder[] = [];
    for (const response of listing.untagged) {
      const entry = parseList(response);
      if (!entry) continue;
      if (entry.flags.has('\\noselect') || entry.flags.has('\\nonexistent')) continue;
      const specialUse =
        [...entry.flags.values()].map(canonicalFlag).find((flag) => SPECIAL_USE.has(flag)) ?? null;
      folders.push({
        path: entry.path,
        delimiter: entry.delimiter,
        specialUse,
        subscribed: entry.flags.has('\\subscribed'),
        messages: await readMessages(client, entry.encodedPath, options.nul ?? 'held'),
      });
    }
    folders.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { folders };
  } finally {
    await client.logout();
  }
}

/** Connects imapflow as `user` through the master login; logs out afterwards. */
export async function withImap<T>(
  server: DovecotServer,
  user: string,
  fn: (client: ImapFlow) => Promise<T>,
): Promise<T> {
  const client = new ImapFlow({
    host: server.host,
    port: server.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: `${user}*${server.master.user}`, pass: server.master.password },
    logger: false,
    disableAutoIdle: true,
  });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    try {
      await client.logout();
    } catch {
      client.close();
    }
  }
}

function canonicalFlag(lowercase: string): string {
  return `\\${lowercase.charAt(1).toUpperCase()}${lowercase.slice(2)}`;
}

interface ListEntry {
  /** Lowercased, as servers vary in the case of attributes. */
  flags: Set<string>;
  delimiter: string;
  path: string;
  /** The name as the server sent it (modified UTF-7), for SELECT. */
  encodedPath: string;
}

function parseList(response: { text: string; literals: Buffer[] }): ListEntry | null {
  const match = /^\* LIST \(([^)]*)\) (NIL|"(?:[^"\\]|\\.)*") (.*)$/i.exec(response.text);
  if (!match) return null;
  const [, flagText = '', delimiterText = '', nameText = ''] = match;
  const flags = new Set(
    flagText
      .split(' ')
      .filter((flag) => flag !== '')
      .map((flag) => flag.toLowerCase()),
  );
  const delimiter = delimiterText === 'NIL' ? '' : unquote(delimiterText);
  let encodedPath: string;
  if (/^\{\d+\}$/.test(nameText)) encodedPath = response.literals[0]?.toString('utf8') ?? '';
  else if (nameText.startsWith('"')) encodedPath = unquote(nameText);
  else encodedPath = nameText;
  return { flags, delimiter, path: decodeMailboxName(encodedPath), encodedPath };
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, '$1');
}

async function readMessages(
  client: RawImap,
  encodedPath: string,
  nul: 'held' | 'served',
): Promise<AccountMessage[]> {
  // EXAMINE and BODY.PEEK: reading must not change \Seen or \Recent.
  const selected = await client.ok(`EXAMINE ${quoted(encodedPath)}`);
  const exists = selected.untagged
    .map((response) => /^\* (\d+) EXISTS$/i.exec(response.text))
    .find((match) => match !== null);
  const messages: AccountMessage[] = [];
  if (exists && Number(exists[1]) > 0) {
    const fetched = await client.ok('FETCH 1:* (FLAGS INTERNALDATE BODY.PEEK[])');
    for (const response of fetched.untagged) {
      if (!/^\* \d+ FETCH /i.test(response.text)) continue;
      const flags = /FLAGS \(([^)]*)\)/i.exec(response.text);
      const date = /INTERNALDATE "([^"]+)"/i.exec(response.text);
      const body =
        response.literals[0] ?? (/BODY\[\] ""/i.test(response.text) ? Buffer.alloc(0) : undefined);
      if (!flags || !date || !body) throw new Error(`unexpected FETCH response: ${response.text}`);
      const sequence = Number(/^\* (\d+) FETCH /i.exec(response.text)?.[1]);
      const bytes = nul === 'held' ? await withStoredNul(client, sequence, body) : body;
      messages.push({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        flags: (flags[1] ?? '')
          .split(' ')
          .filter((flag) => flag !== '' && flag.toLowerCase() !== '\\recent')
          .sort(),
        internalDate: parseImapDateTime(date[1] ?? '').toISOString(),
      });
    }
  }
  await client.ok('CLOSE');
  messages.sort((a, b) => {
    if (a.sha256 !== b.sha256) return a.sha256 < b.sha256 ? -1 : 1;
    const af = a.flags.join(' ');
    const bf = b.flags.join(' ');
    return af < bf ? -1 : af > bf ? 1 : 0;
  });
  return messages;
}

/**
 * The message as the server holds it. Dovecot serves a NUL byte as 0x80 in BODY[] and as itself
 * only in BINARY[] (which also decodes every part's transfer encoding): where the BINARY answer is
 * the BODY answer with NUL in some of the 0x80 places, and nothing else changed, the server holds
 * NUL bytes there.
 */
async function withStoredNul(client: RawImap, sequence: number, body: Buffer): Promise<Buffer> {
  if (!body.includes(0x80)) return body;
  const fetched = await client.ok(`FETCH ${sequence} (BINARY.PEEK[])`);
  const binary = fetched.untagged.find((response) => /^\* \d+ FETCH /i.test(response.text))
    ?.literals[0];
  if (!binary || binary.length !== body.length) return body;
  for (let i = 0; i < body.length; i++) {
    if (binary[i] === body[i]) continue;
    if (!(binary[i] === 0 && body[i] === 0x80)) return body;
  }
  return binary;
}

const MONTH_INDEX: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** "05-Mar-2021 14:03:09 +0100" (day may be space-padded) to a Date. */
export function parseImapDateTime(text: string): Date {
  const match =
    /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  const month = match ? MONTH_INDEX[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || month === undefined) throw new Error(`bad INTERNALDATE ${JSON.stringify(text)}`);
  const [, day, , year, hour, minute, second, sign, zoneHours, zoneMinutes] = match;
  const offset = (sign === '-' ? -1 : 1) * (Number(zoneHours) * 60 + Number(zoneMinutes));
  const utc = Date.UTC(
    Number(year),
    month,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  );
  return new Date(utc - offset * 60_000);
}

/**
 * What a restore into another account should give: the same folders and messages, byte for byte
 * (by hash), flags and dates; the size adds nothing to the hash.
 */
export const mailOf = (state: AccountState): unknown =>
  state.folders.map((folder) => ({
    path: folder.path,
    messages: folder.messages.map((m) => ({ ...m, size: -1 })),
  }));
