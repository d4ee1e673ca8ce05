// Fills a Dovecot account fast by writing its Maildir directly (the recipe in
// shared/TEST-SERVERS.md): cur/<ts>.M<i>P<pid>.host,S=<lf_size>,W=<crlf_size>:2,<flags>, LF line
// endings, mtime = INTERNALDATE, owned by the mail uid; then lets Dovecot index it.
import { execFile } from 'node:child_process';
import { closeSync, futimesSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MAIL_UID, type DovecotServer } from '../test/support/dovecot.js';
import {
  FOLDERS,
  KEYWORDS,
  crlfSize,
  renderMessage,
  type MailSpec,
  type MailboxPlan,
} from './mailgen.js';

const execFileAsync = promisify(execFile);

/** One message as written: where, and what an IMAP client will see. */
export interface WrittenMessage {
  folder: string;
  file: string;
  lfSize: number;
  crlfSize: number;
  flags: string[];
  internalDate: Date;
}

export interface WrittenMailbox {
  user: string;
  messages: WrittenMessage[];
  /** Bytes on disk (LF). */
  lfBytes: number;
  /** Bytes as IMAP serves them (CRLF): the "raw bytes" of the benchmark. */
  crlfBytes: number;
  folders: string[];
}

const SYSTEM_FLAG_LETTERS: Record<string, string> = {
  '\\Draft': 'D',
  '\\Flagged': 'F',
  '\\Answered': 'R',
  '\\Seen': 'S',
  '\\Deleted': 'T',
};

/** Maildir info letters: system flags (upper case) then keywords (a, b, ... per dovecot-keywords). */
function flagLetters(flags: readonly string[]): string {
  const letters: string[] = [];
  for (const flag of flags) {
    const system = SYSTEM_FLAG_LETTERS[flag];
    if (system) {
      letters.push(system);
      continue;
    }
    const keyword = (KEYWORDS as readonly string[]).indexOf(flag);
    if (keyword < 0) throw new Error(`no Maildir letter for flag ${flag}`);
    letters.push(String.fromCharCode(0x61 + keyword));
  }
  return letters.sort().join('');
}

export function maildirRoot(server: DovecotServer, user: string): string {
  return join(server.dir, 'mail', user, 'Maildir');
}

/** Maildir++: INBOX is the root, "Archive/2022" is ".Archive.2022". */
export function folderDir(server: DovecotServer, user: string, folder: string): string {
  const root = maildirRoot(server, user);
  return folder === 'INBOX' ? root : join(root, `.${folder.split('/').join('.')}`);
}

function prepareFolder(dir: string, isRoot: boolean): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  if (!isRoot) writeFileSync(join(dir, 'maildirfolder'), '');
  writeFileSync(
    join(dir, 'dovecot-keywords'),
    KEYWORDS.map((keyword, i) => `${i} ${keyword}\n`).join(''),
  );
}

let sequence = 0;

/** Writes one message file into the folder's cur/ and returns what was written. */
export function writeMessageFile(
  dir: string,
  folder: string,
  raw: Buffer,
  flags: string[],
  internalDate: Date,
): WrittenMessage {
  const lf = raw.length;
  const crlf = crlfSize(raw);
  const seconds = Math.floor(internalDate.getTime() / 1000);
  const name =
    `${seconds}.M${String(sequence++).padStart(7, '0')}P4242.bench,S=${lf},W=${crlf}` +
    `:2,${flagLetters(flags)}`;
  const file = join(dir, 'cur', name);
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, raw);
    futimesSync(fd, seconds, seconds);
  } finally {
    closeSync(fd);
  }
  return { folder, file, lfSize: lf, crlfSize: crlf, flags, internalDate };
}

/** Hands the user's files to the mail uid and has Dovecot index every folder. */
export async function settleMaildir(
  server: DovecotServer,
  user: string,
  folders: string[],
): Promise<void> {
  await execFileAsync('chown', ['-R', `${MAIL_UID}:${MAIL_UID}`, join(server.dir, 'mail', user)]);
  await server.doveadm('force-resync', '-u', user, '*');
  const subscribe = folders.filter((folder) => folder !== 'INBOX');
  if (subscribe.length > 0) await server.doveadm('mailbox', 'subscribe', '-u', user, ...subscribe);
}

/**
 * Writes the planned mailbox into the user's Maildir (the user's mail directory must not exist
 * yet) and has Dovecot index it. Messages are made one at a time, so memory stays small.
 */
export async function writeMailbox(
  server: DovecotServer,
  plan: MailboxPlan,
  onProgress?: (done: number, total: number) => void,
): Promise<WrittenMailbox> {
  const root = maildirRoot(server, plan.user);
  const used = new Set(plan.messages.map((spec) => spec.folder));
  const folders = FOLDERS.map((folder) => folder.path).filter((path) => used.has(path));
  // Sent and Trash are created by the server anyway (auto = subscribe); create them here too.
  for (const path of ['Sent', 'Trash']) if (!folders.includes(path)) folders.push(path);
  prepareFolder(root, true);
  for (const folder of folders)
    if (folder !== 'INBOX') prepareFolder(folderDir(server, plan.user, folder), false);
  const written: WrittenMailbox = {
    user: plan.user,
    messages: [],
    lfBytes: 0,
    crlfBytes: 0,
    folders,
  };
  const dirs = new Map(folders.map((folder) => [folder, folderDir(server, plan.user, folder)]));
  plan.messages.forEach((spec: MailSpec, i) => {
    const raw = renderMessage(plan, spec);
    const dir = dirs.get(spec.folder);
    if (!dir) throw new Error(`no folder ${spec.folder}`);
    const message = writeMessageFile(dir, spec.folder, raw, spec.flags, spec.internalDate);
    written.messages.push(message);
    written.lfBytes += message.lfSize;
    written.crlfBytes += message.crlfSize;
    if (onProgress && (i + 1) % 1000 === 0) onProgress(i + 1, plan.messages.length);
  });
  await settleMaildir(server, plan.user, folders);
  return written;
}
