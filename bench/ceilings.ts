// What the server itself can do, measured over a bare socket: reading every message
// (UID FETCH 1:* BODY.PEEK[] to /dev/null) and writing them back (MULTIAPPEND, 100 messages a
// command, LITERAL+). These are the ceilings the product's backup and restore compare with.
import { readFile } from 'node:fs/promises';
import type { DovecotServer } from '../test/support/dovecot.js';
import { toCrlf } from './mailgen.js';
import type { WrittenMailbox, WrittenMessage } from './maildir.js';
import { StreamImap, imapDateTime, quote } from './imap-stream.js';

export interface Throughput {
  seconds: number;
  messages: number;
  bytes: number;
}

async function login(server: DovecotServer, user: string): Promise<StreamImap> {
  const client = await StreamImap.connect(server.host, server.port);
  await client.masterLogin(user, server.master.user, server.master.password);
  return client;
}

/**
 * Reads every message of the folders on one connection and throws the bytes away. `items` picks
 * the FETCH items: the ceiling asks for BODY.PEEK[] alone.
 */
export async function rawFetch(
  server: DovecotServer,
  user: string,
  folders: readonly string[],
  items = 'BODY.PEEK[]',
): Promise<Throughput> {
  const started = performance.now();
  const client = await login(server, user);
  let messages = 0;
  let bytes = 0;
  try {
    for (const folder of folders) {
      const selected = await client.ok([`EXAMINE ${quote(folder)}`]);
      const exists = selected.lines.map((line) => /^\* (\d+) EXISTS/.exec(line)).find(Boolean);
      if (!exists || exists[1] === '0') continue;
      const fetched = await client.ok([`UID FETCH 1:* (${items})`], false);
      messages += fetched.responses;
      bytes += fetched.literalBytes;
    }
  } finally {
    await client.logout();
  }
  return { seconds: (performance.now() - started) / 1000, messages, bytes };
}

export interface AppendOptions {
  batchMessages?: number;
  batchBytes?: number;
}

/**
 * MULTIAPPENDs the mailbox's messages (CRLF, with their flags and INTERNALDATE) into `user`,
 * creating its folders. Each folder's messages are read from the Maildir before its clock
 * starts, so only the server's work (and the socket) is timed.
 */
export async function rawMultiAppend(
  server: DovecotServer,
  user: string,
  mailbox: WrittenMailbox,
  options: AppendOptions = {},
): Promise<Throughput> {
  const batchMessages = options.batchMessages ?? 100;
  const batchBytes = options.batchBytes ?? 32 * 1024 * 1024;
  const byFolder = new Map<string, WrittenMessage[]>();
  for (const message of mailbox.messages) {
    const list = byFolder.get(message.folder) ?? [];
    list.push(message);
    byFolder.set(message.folder, list);
  }
  const client = await login(server, user);
  let seconds = 0;
  let messages = 0;
  let bytes = 0;
  try {
    for (const folder of mailbox.folders) {
      const list = byFolder.get(folder) ?? [];
      const raws = await Promise.all(
        list.map(async (message) => toCrlf(await readFile(message.file))),
      );
      const started = performance.now();
      if (folder !== 'INBOX') {
        const created = await client.command([`CREATE ${quote(folder)}`]);
        if (created.status !== 'OK' && !/ALREADYEXISTS/i.test(created.text))
          throw new Error(`CREATE ${folder}: ${created.text}`);
      }
      let pieces: Array<string | Buffer> = [];
      let count = 0;
      let size = 0;
      const flush = async (): Promise<void> => {
        if (count === 0) return;
        await client.ok([`APPEND ${quote(folder)}`, ...pieces], false);
        pieces = [];
        count = 0;
        size = 0;
      };
      for (const [i, message] of list.entries()) {
        const raw = raws[i];
        if (!raw) continue;
        if (count > 0 && (count >= batchMessages || size + raw.length > batchBytes)) await flush();
        pieces.push(
          ` (${message.flags.join(' ')}) "${imapDateTime(message.internalDate)}" {${raw.length}+}\r\n`,
          raw,
        );
        count++;
        size += raw.length;
        messages++;
        bytes += raw.length;
      }
      await flush();
      seconds += (performance.now() - started) / 1000;
    }
  } finally {
    await client.logout();
  }
  return { seconds, messages, bytes };
}
