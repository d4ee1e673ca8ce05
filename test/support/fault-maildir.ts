// Reads a Maildir++ tree written by `mailvault export --format maildir` back into the shape
// readAccount gives for the server (folder path, then each message's hash, size, flags and
// INTERNALDATE), so the fault suite can compare what an export holds with what Dovecot holds.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AccountMessage, AccountState } from './imap-fixture.js';

/** Maildir info letters (the Maildir specification's, as Dovecot writes them). */
const LETTERS: Record<string, string> = {
  D: '\\Draft',
  F: '\\Flagged',
  P: '$Forwarded',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};

async function entries(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** Lowercase letters name keywords, numbered in the folder's dovecot-keywords file. */
async function keywordLetters(dir: string): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const text = await readFile(join(dir, 'dovecot-keywords'), 'utf8').catch(() => '');
  for (const line of text.split('\n')) {
    const match = /^(\d+) (.+)$/.exec(line);
    if (match) names.set(String.fromCharCode(97 + Number(match[1])), match[2] ?? '');
  }
  return names;
}

async function readFolder(dir: string): Promise<AccountMessage[]> {
  const keywords = await keywordLetters(dir);
  const messages: AccountMessage[] = [];
  for (const sub of ['new', 'cur']) {
    for (const name of await entries(join(dir, sub))) {
      const path = join(dir, sub, name);
      const bytes = await readFile(path);
      const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
      messages.push({
        sha256: createHash('sha256').update(bytes).digest('hex'),
        size: bytes.length,
        flags: [...info].map((c) => LETTERS[c] ?? keywords.get(c) ?? `?${c}`).sort(),
        internalDate: (await stat(path)).mtime.toISOString(),
      });
    }
  }
  return messages;
}

const byMessage = (a: AccountMessage, b: AccountMessage): number =>
  a.sha256 < b.sha256 ? -1 : a.sha256 > b.sha256 ? 1 : a.flags.join() < b.flags.join() ? -1 : 1;

/** Folder path -> its messages, sorted as readAccount sorts them; empty folders left out. */
export type MailByFolder = Record<string, AccountMessage[]>;

/** The messages of an exported Maildir++ tree: INBOX at the top, `.A.B` holding folder A/B. */
export async function readExportedMaildir(root: string): Promise<MailByFolder> {
  const mail: MailByFolder = {};
  const add = async (path: string, dir: string): Promise<void> => {
    const messages = await readFolder(dir);
    if (messages.length > 0) mail[path] = messages.sort(byMessage);
  };
  await add('INBOX', root);
  for (const name of await entries(root)) {
    if (name.startsWith('.') && (await stat(join(root, name))).isDirectory())
      await add(name.slice(1).split('.').join('/'), join(root, name));
  }
  return mail;
}

/** The same view of what the server holds. */
export function mailByFolder(state: AccountState): MailByFolder {
  const mail: MailByFolder = {};
  for (const folder of state.folders) {
    if (folder.messages.length > 0) mail[folder.path] = [...folder.messages].sort(byMessage);
  }
  return mail;
}
