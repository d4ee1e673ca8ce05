// What Dovecot holds for an account (messages and bytes per folder, from doveadm), checks that a
// restore or a copy is complete, and emptying an account before a restore into it.
import type { DovecotServer } from '../test/support/dovecot.js';

export interface FolderStatus {
  messages: number;
  vsize: number;
}

export async function mailboxStatus(
  server: DovecotServer,
  user: string,
): Promise<Map<string, FolderStatus>> {
  const text = await server.doveadm('mailbox', 'status', '-u', user, 'messages vsize', '*');
  const status = new Map<string, FolderStatus>();
  for (const line of text.split('\n')) {
    const match = /^(.*) messages=(\d+) vsize=(\d+)$/.exec(line.trim());
    if (match?.[1]) status.set(match[1], { messages: Number(match[2]), vsize: Number(match[3]) });
  }
  return status;
}

export function totals(status: Map<string, FolderStatus>): FolderStatus {
  let messages = 0;
  let vsize = 0;
  for (const folder of status.values()) {
    messages += folder.messages;
    vsize += folder.vsize;
  }
  return { messages, vsize };
}

/** Throws unless `user` holds the same messages (count and size per folder) as `expected`. */
export async function checkSameMail(
  server: DovecotServer,
  user: string,
  expected: Map<string, FolderStatus>,
  what: string,
): Promise<void> {
  const actual = await mailboxStatus(server, user);
  const problems: string[] = [];
  for (const [folder, want] of expected) {
    const got = actual.get(folder);
    if (!got || got.messages !== want.messages || got.vsize !== want.vsize)
      problems.push(
        `${folder}: ${got ? `${got.messages} messages, ${got.vsize} bytes` : 'missing'}, expected ${want.messages}, ${want.vsize}`,
      );
  }
  if (problems.length > 0) throw new Error(`${what} is incomplete:\n${problems.join('\n')}`);
}

/**
 * Deletes all of the account's mail: expunges every folder, then deletes every selectable
 * folder but the ones the server creates by itself (INBOX, Sent, Trash), deepest first.
 */
export async function emptyAccount(server: DovecotServer, user: string): Promise<void> {
  await server.doveadm('expunge', '-u', user, 'mailbox', '*', 'all');
  const keep = new Set(['INBOX', 'Sent', 'Trash']);
  // Selectable folders only: a \Noselect parent such as "Lists" goes with its children.
  const doomed = [...(await mailboxStatus(server, user)).keys()]
    .filter((folder) => !keep.has(folder))
    .sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? -1 : 1));
  if (doomed.length > 0) await server.doveadm('mailbox', 'delete', '-u', user, '-s', ...doomed);
  const left = await mailboxStatus(server, user);
  const messages = totals(left).messages;
  if (messages !== 0) throw new Error(`${user} still holds ${messages} messages`);
  const extra = [...left.keys()].filter((folder) => !keep.has(folder));
  if (extra.length > 0) throw new Error(`${user} still has folders ${extra.join(', ')}`);
}
