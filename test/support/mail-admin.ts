// What a mail administrator does to an account behind the client's back, for fault tests:
// empty it, count its messages while a restore runs, find the file that holds one message.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from './dovecot.js';
import { RawImap, quoted } from './raw-imap.js';

/** Folders the harness's Dovecot creates by itself (auto = subscribe): emptied, not deleted. */
const AUTO_FOLDERS = new Set(['INBOX', 'Sent', 'Trash']);

/** Deletes every folder of `user` (and its subscription) and empties INBOX, Sent and Trash. */
export async function wipeAccount(server: DovecotServer, user: string): Promise<void> {
  const names = (await server.doveadm('mailbox', 'list', '-u', user))
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  // Children before their parents.
  const doomed = names
    .filter((name) => !AUTO_FOLDERS.has(name))
    .sort((a, b) => b.split('/').length - a.split('/').length);
  for (const name of doomed) {
    await server.doveadm('mailbox', 'delete', '-u', user, '-s', name).catch(() => undefined);
  }
  for (const name of AUTO_FOLDERS) {
    await server.doveadm('expunge', '-u', user, 'mailbox', name, 'all');
  }
}

/** A master-user IMAP session that counts an account's messages, for polling during a restore. */
export class MessageCounter {
  private constructor(private readonly client: RawImap) {}

  static async open(server: DovecotServer, user: string): Promise<MessageCounter> {
    const client = await RawImap.connect({ host: server.host, port: server.port });
    await client.ok(
      `LOGIN ${quoted(`${user}*${server.master.user}`)} ${quoted(server.master.password)}`,
    );
    return new MessageCounter(client);
  }

  /** Messages in all the account's folders right now. */
  async total(): Promise<number> {
    const listed = await this.client.ok('LIST "" "*" RETURN (STATUS (MESSAGES))');
    let total = 0;
    for (const response of listed.untagged) {
      const status = /^\* STATUS .* \(MESSAGES (\d+)\)$/i.exec(response.text);
      if (status) total += Number(status[1]);
    }
    return total;
  }

  async close(): Promise<void> {
    await this.client.logout();
  }
}

/**
 * The Maildir file holding message `uid` of `folder` (Maildir++ layout, as the harness
 * configures it), found through dovecot-uidlist.
 */
export async function maildirFile(
  server: DovecotServer,
  user: string,
  folder: string,
  uid: number,
): Promise<string> {
  const root = join(server.dir, 'mail', user, 'Maildir');
  const dir = folder === 'INBOX' ? root : join(root, `.${folder.replace(/\//g, '.')}`);
  const uidlist = await readFile(join(dir, 'dovecot-uidlist'), 'utf8');
  // Lines after the header: "<uid> [extension fields] :<file name without the :2,flags part>".
  const line = uidlist.split('\n').find((entry) => entry.startsWith(`${uid} `));
  const base = line?.slice(line.indexOf(':') + 1);
  if (!base) throw new Error(`UID ${uid} is not in ${folder}'s dovecot-uidlist`);
  for (const sub of ['cur', 'new']) {
    const name = (await readdir(join(dir, sub))).find(
      (entry) => entry === base || entry.startsWith(`${base}:`),
    );
    if (name) return join(dir, sub, name);
  }
  throw new Error(`no Maildir file for UID ${uid} of ${folder} (${base})`);
}
