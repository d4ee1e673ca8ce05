// Export, checked by other readers: an account holding every corpus message Dovecot accepts,
// in nested folders with flags and dates, backed up, then exported as mbox (read back by
// Python's mailbox module), Maildir (names, flags and mtimes against what Dovecot holds), .eml
// files and a .zip (read by Python's zipfile), and every version ever seen with its manifest.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusMessages, heldByDovecot, servedByDovecot } from '../support/corpus.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import {
  fillMailbox,
  readAccount,
  withImap,
  type AccountState,
  type FixtureMessage,
} from '../support/imap-fixture.js';
import { createWorkspace, type CliResult, type Workspace } from '../support/workspace.js';

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const havePython = spawnSync('python3', ['--version']).status === 0;

const FOLDERS = ['INBOX', 'Sent', 'Archive/2023', 'Archive/2024', 'Résumé & Co', 'Projects/A/B'];
const FLAG_SETS = [
  [],
  ['\\Seen'],
  ['\\Seen', '\\Answered'],
  ['\\Flagged'],
  ['\\Seen', '$Forwarded'],
  ['\\Draft', '$Label1', 'NonJunk'],
  ['\\Seen', '\\Deleted'],
];

interface ExportJson {
  totals: { messages: number; folders: number; bytes: number; failed: number };
  manifest: { json: string; csv: string } | null;
}

interface ManifestItem {
  item: string;
  folder: string;
  firstSeen: string;
  lastSeen: string | null;
  goneSince: string | null;
  flags: string[];
  flagsHistory: Array<{ from: string; until: string | null; flags: string[] }>;
  size: number;
  sha256: string;
  file: string | null;
}

/** Runs a Python program and returns its stdout parsed as JSON. */
function python<T>(program: string, ...args: string[]): T {
  const result = spawnSync('python3', ['-c', program, ...args], { maxBuffer: 256 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr.toString()}`);
  return JSON.parse(result.stdout.toString()) as T;
}

/**
 * Python's mailbox reads the mbox; an mboxrd reader removes one '>' from each >+From line. Each
 * message comes back with its flag fields (Status, X-Status, X-Keywords) and its bytes without
 * them and without the other fields of an mbox store's bookkeeping (stripBookkeeping below).
 */
const READ_MBOX = `
import calendar, hashlib, json, mailbox, re, sys, time
FIELDS = rb'(?im)^(?:status|x-status|x-keywords|x-imap|x-imapbase|x-uid)[ \\t]*:.*\\n(?:[ \\t].*\\n)*'
box = mailbox.mbox(sys.argv[1], create=False)
out = []
for key in box.iterkeys():
    raw = re.sub(rb'(?m)^>(>*From )', rb'\\1', box.get_bytes(key))
    end = re.search(rb'\\r?\\n\\r?\\n', raw)
    cut = end.start() + (2 if raw[end.start()] == 13 else 1) if end else len(raw)
    header = raw[:cut].decode('latin1')
    field = lambda name: (re.search(r'(?im)^' + name + r':[ \\t]*(.*?)\\r?$', header) or [None, ''])[1]
    flags = [field('Status'), field('X-Status'), field('X-Keywords')]
    stripped = re.sub(FIELDS, b'', raw[:cut]) + raw[cut:]
    when = box.get_message(key).get_from().split(' ', 1)[1]
    seconds = calendar.timegm(time.strptime(when, '%a %b %d %H:%M:%S %Y'))
    out.append([hashlib.sha256(stripped).hexdigest(), seconds, flags])
print(json.dumps(out))
`;

/** A message without the header fields an mbox store keeps its bookkeeping in. */
function stripBookkeeping(bytes: Buffer): Buffer {
  const text = bytes.toString('latin1');
  const blank = /\r?\n\r?\n/.exec(text);
  const cut = blank ? blank.index + (text[blank.index] === '\r' ? 2 : 1) : text.length;
  const header = text
    .slice(0, cut)
    .replace(
      /^(?:status|x-status|x-keywords|x-imap|x-imapbase|x-uid)[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*/gim,
      '',
    );
  return Buffer.from(header + text.slice(cut), 'latin1');
}

/** The Status, X-Status and X-Keywords values mutt and Dovecot read as these flags. */
function mboxFlagFields(flags: readonly string[]): string[] {
  const has = (flag: string): boolean => flags.includes(flag);
  const xStatus = [
    ['\\Answered', 'A'],
    ['\\Flagged', 'F'],
    ['\\Draft', 'T'],
    ['\\Deleted', 'D'],
  ]
    .filter(([flag]) => has(flag as string))
    .map(([, letter]) => letter)
    .join('');
  const keywords = flags.filter((flag) => !flag.startsWith('\\'));
  return [has('\\Seen') ? 'RO' : 'O', xStatus, keywords.join(' ')];
}

const READ_ZIP = `
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps([[i.filename, hashlib.sha256(z.read(i)).hexdigest(), list(i.date_time)] for i in z.infolist()]))
`;

const READ_MAILDIR = `
import json, mailbox, sys
box = mailbox.Maildir(sys.argv[1], factory=None, create=False)
print(json.dumps({'INBOX': len(box), **{f: len(box.get_folder(f)) for f in box.list_folders()}}))
`;

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe.skipIf(!haveDovecot || !havePython)('export', () => {
  let server: DovecotServer;
  let ws: Workspace;
  let before: AccountState;
  let total = 0;
  /** sha256 of what Dovecot holds (NUL bytes read with BINARY) -> the bytes. */
  const served = new Map<string, Buffer>();

  const run = async (args: string[]): Promise<CliResult> => ws.run(args, { timeoutMs: 300_000 });
  const exported = async (args: string[]): Promise<ExportJson> => {
    const result = await run(['export', 'alice', ...args, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const json = result.json<ExportJson>();
    return json;
  };
  const folderOf = (path: string) => before.folders.find((f) => f.path === path);
  const seconds = (iso: string): number => Date.parse(iso) / 1000;

  beforeAll(async () => {
    server = await startDovecot();
    ws = await createWorkspace(server, { accounts: ['alice'] });
    const corpus = corpusMessages().filter((message) => servedByDovecot(message.raw) !== null);
    expect(corpus.length).toBeGreaterThan(1000);
    const folders: Record<string, FixtureMessage[]> = Object.fromEntries(
      FOLDERS.map((folder) => [folder, []]),
    );
    corpus.forEach((message, i) => {
      // readAccount gives the NUL bytes Dovecot holds where BINARY proves them, else 0x80.
      for (const bytes of [servedByDovecot(message.raw), heldByDovecot(message.raw)])
        if (bytes) served.set(sha256(bytes), bytes);
      folders[FOLDERS[i % FOLDERS.length] as string]?.push({
        raw: message.raw,
        flags: FLAG_SETS[i % FLAG_SETS.length],
        internalDate: new Date(
          Date.UTC(2015 + (i % 10), i % 12, 1 + (i % 28), i % 24, i % 60, i % 60),
        ),
      });
    });
    await fillMailbox(server, 'alice', folders);
    before = await readAccount(server, 'alice');
    total = before.folders.reduce((sum, f) => sum + f.messages.length, 0);
    expect(total).toBe(corpus.length);
    expect((await ws.run(['init', '--scrypt-cost', '12'])).code).toBe(0);
    const backup = await ws.run(['backup']);
    expect(backup.code, backup.stderr).toBe(0);
  }, 300_000);

  afterAll(async () => {
    await server?.stop();
    await ws?.remove();
  });

  it('writes mboxrd files that Python reads back as the messages Dovecot served', async () => {
    const output = join(ws.dir, 'mbox');
    const json = await exported(['--format', 'mbox', '--output', output]);
    expect(json.totals).toMatchObject({
      messages: total,
      folders: before.folders.length,
      failed: 0,
    });
    for (const folder of before.folders) {
      const read = python<Array<[string, number, string[]]>>(
        READ_MBOX,
        join(output, `${folder.path}.mbox`),
      );
      // The documented transformation: a message not ending in LF gets one (mbox lines end),
      // and its flags are fields at the end of its header.
      const expected = folder.messages.map((m) => {
        const bytes = stripBookkeeping(served.get(m.sha256) as Buffer);
        const ended =
          bytes[bytes.length - 1] === 0x0a ? bytes : Buffer.concat([bytes, Buffer.from('\n')]);
        return [sha256(ended), seconds(m.internalDate), mboxFlagFields(m.flags)];
      });
      const order = (a: unknown[], b: unknown[]): number =>
        JSON.stringify(a) < JSON.stringify(b) ? -1 : 1;
      expect(read.sort(order), folder.path).toEqual(expected.sort(order));
    }
    expect(files(join(output, 'Projects', 'A'))).toEqual(['B.mbox']);

    // One folder, one file.
    const single = join(ws.dir, 'sent.mbox');
    const one = await exported(['--format', 'mbox', '--output', single, '--folder', 'Sent']);
    expect(one.totals.messages).toBe(folderOf('Sent')?.messages.length);
    expect(python<unknown[]>(READ_MBOX, single)).toHaveLength(one.totals.messages);
  });

  it('writes a Maildir++ tree with flags in file names and INTERNALDATE as mtime', async () => {
    const output = join(ws.dir, 'maildir');
    await exported(['--format', 'maildir', '--output', output]);
    for (const folder of before.folders) {
      const dir =
        folder.path === 'INBOX' ? output : join(output, `.${folder.path.split('/').join('.')}`);
      const keywords = existsSync(join(dir, 'dovecot-keywords'))
        ? readFileSync(join(dir, 'dovecot-keywords'), 'utf8')
        : '';
      const names = new Map<string, string>();
      for (const line of keywords.split('\n')) {
        const m = /^(\d+) (.+)$/.exec(line);
        if (m) names.set('abcdefghijklmnopqrstuvwxyz'[Number(m[1])] ?? '', m[2] ?? '');
      }
      const letters: Record<string, string> = {
        D: '\\Draft',
        F: '\\Flagged',
        P: '$Forwarded',
        R: '\\Answered',
        S: '\\Seen',
        T: '\\Deleted',
      };
      expect(files(join(dir, 'new'))).toEqual([]);
      const messages = files(join(dir, 'cur')).map((name) => {
        const m = /^\d+\.M\d+U\d+\.mailvault,S=(\d+):2,([A-Za-z]*)$/.exec(name);
        expect(m, name).not.toBeNull();
        const info = m?.[2] ?? '';
        expect(info, 'letters in ASCII order').toBe([...info].sort().join(''));
        const path = join(dir, 'cur', name);
        const bytes = readFileSync(path);
        expect(Number(m?.[1])).toBe(bytes.length);
        return {
          sha256: sha256(bytes),
          size: bytes.length,
          flags: [...info].map((c) => letters[c] ?? names.get(c) ?? `?${c}`).sort(),
          internalDate: statSync(path).mtime.toISOString(),
        };
      });
      const sort = (list: typeof messages) =>
        [...list].sort(
          (a, b) =>
            a.sha256.localeCompare(b.sha256) || a.internalDate.localeCompare(b.internalDate),
        );
      expect(sort(messages), folder.path).toEqual(sort(folder.messages));
    }
    const counts = python<Record<string, number>>(READ_MAILDIR, output);
    expect(counts).toEqual(
      Object.fromEntries(
        before.folders.map((f) => [
          f.path === 'INBOX' ? 'INBOX' : f.path.split('/').join('.'),
          f.messages.length,
        ]),
      ),
    );
  });

  it('writes .eml files in a folder tree, and the same tree as a zip', async () => {
    const output = join(ws.dir, 'eml');
    await exported(['--format', 'eml', '--output', output]);
    const zip = join(ws.dir, 'eml.zip');
    await exported(['--format', 'eml', '--output', zip]);
    const entries = python<Array<[string, string, number[]]>>(READ_ZIP, zip);
    expect(entries).toHaveLength(total);
    for (const folder of before.folders) {
      const dir = join(output, ...folder.path.split('/'));
      const onDisk = files(dir)
        .filter((name) => name.endsWith('.eml'))
        .map((name) => {
          expect(name).toMatch(/^\d+(-[^/\\:*?"<>|]+)?\.eml$/);
          const path = join(dir, name);
          return [name, sha256(readFileSync(path)), statSync(path).mtime.toISOString()];
        });
      const expected = folder.messages.map((m) => [m.sha256, m.internalDate]).sort();
      expect(onDisk.map(([, sha, date]) => [sha, date]).sort(), folder.path).toEqual(expected);
      // The zip holds the same files under the same names, dated in local time (2 s steps).
      const prefix = `${folder.path}/`;
      const zipped = entries.filter(
        ([name]) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/'),
      );
      expect(zipped.map(([name, sha]) => [name.slice(prefix.length), sha]).sort()).toEqual(
        onDisk.map(([name, sha]) => [name, sha]).sort(),
      );
      for (const [name, , dateTime] of zipped) {
        const file = onDisk.find(([n]) => `${prefix}${n}` === name);
        const date = new Date(file?.[2] ?? '');
        expect(dateTime, name).toEqual([
          date.getFullYear(),
          date.getMonth() + 1,
          date.getDate(),
          date.getHours(),
          date.getMinutes(),
          date.getSeconds() - (date.getSeconds() % 2),
        ]);
      }
    }
  });

  it('exports every version ever seen, deleted ones too, with a manifest of their history', async () => {
    const inboxBefore = folderOf('INBOX')?.messages ?? [];
    const sentBefore = folderOf('Sent')?.messages ?? [];
    await withImap(server, 'alice', async (client) => {
      await client.mailboxOpen('INBOX');
      const uids = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageDelete(uids.slice(0, 7).join(','), { uid: true });
      await client.mailboxOpen('Sent');
      const sent = (await client.search({ all: true }, { uid: true })) || [];
      await client.messageFlagsAdd(sent.slice(0, 5).join(','), ['\\Flagged', '$Checked'], {
        uid: true,
      });
    });
    const after = await readAccount(server, 'alice');
    const backup = await run(['backup']);
    expect(backup.code, backup.stderr).toBe(0);
    const snapshots = (await run(['snapshots', '--json'])).json<Array<{ time: string }>>();
    expect(snapshots).toHaveLength(2);
    const [first, second] = snapshots.map((s) => new Date(s.time).toISOString());

    const remaining = [...(after.folders.find((f) => f.path === 'INBOX')?.messages ?? [])];
    const deleted = inboxBefore.filter((m) => {
      const at = remaining.findIndex((r) => r.sha256 === m.sha256);
      if (at < 0) return true;
      remaining.splice(at, 1);
      return false;
    });
    expect(deleted).toHaveLength(7);

    const output = join(ws.dir, 'all');
    const json = await exported(['--format', 'eml', '--output', output, '--all-versions']);
    expect(json.totals.messages).toBe(total);
    expect(json.manifest?.json).toBe(`${output}.manifest.json`);
    const manifest = JSON.parse(readFileSync(`${output}.manifest.json`, 'utf8')) as {
      items: ManifestItem[];
    };
    expect(manifest.items).toHaveLength(total);
    const csv = readFileSync(`${output}.manifest.csv`, 'utf8').trimEnd().split('\r\n');
    expect(csv[0]).toMatch(/^item,folder,uid,first_seen,last_seen,gone_since,flags,flags_history,/);

    const gone = manifest.items.filter((item) => item.lastSeen !== null);
    expect(gone.map((item) => item.sha256).sort()).toEqual(deleted.map((m) => m.sha256).sort());
    for (const item of gone) {
      expect(item).toMatchObject({
        folder: 'INBOX',
        firstSeen: first,
        lastSeen: first,
        goneSince: second,
      });
      expect(item.flagsHistory).toEqual([
        { from: first, until: second, flags: item.flags, uid: expect.any(Number) },
      ]);
      // The deleted message is in the export, byte for byte.
      expect(sha256(readFileSync(join(output, ...(item.file ?? '').split('/'))))).toBe(item.sha256);
    }
    const reflagged = manifest.items.filter((item) => item.flagsHistory.length > 1);
    expect(reflagged).toHaveLength(5);
    for (const item of reflagged) {
      expect(item.folder).toBe('Sent');
      const [old, now] = item.flagsHistory;
      expect(old).toMatchObject({ from: first, until: second });
      expect(now).toMatchObject({ from: second, until: null });
      const added = new Set([...(old?.flags ?? []), '$Checked', '\\Flagged']);
      expect([...(now?.flags ?? [])].sort()).toEqual([...added].sort());
      expect(item.flags).toEqual(now?.flags);
      expect(item.lastSeen).toBeNull();
    }
    expect(sentBefore.length).toBeGreaterThan(5);
    const still = manifest.items.filter(
      (item) => item.lastSeen === null && item.flagsHistory.length === 1,
    );
    expect(still).toHaveLength(total - 7 - 5);
    for (const item of still) expect(item.flagsHistory[0]?.until).toBeNull();
  });

  it('refuses bad input with exit 2 and writes nothing', async () => {
    const dir = join(ws.dir, 'bad');
    await mkdir(dir);
    const occupied = join(dir, 'occupied');
    await mkdir(occupied);
    await writeFile(join(occupied, 'keep.txt'), 'mine');
    const cases: Array<[string[], RegExp]> = [
      [['--format', 'mbox', '--output', occupied], /not empty/],
      [['--format', 'mbox', '--output', occupied, '--force'], /not an earlier mailvault export/],
      [['--format', 'pst', '--output', join(dir, 'x')], /unknown format/],
      [
        ['--format', 'ics', '--output', join(dir, 'x'), '--folder', 'calendar:Nope'],
        /no calendar Nope/,
      ],
      [
        ['--format', 'vcf', '--output', join(dir, 'x'), '--folder', 'contacts:Nope'],
        /no address book Nope/,
      ],
      [['--format', 'mbox', '--output', join(dir, 'x'), '--folder', 'Nope'], /no folder "Nope"/],
      [['--format', 'eml', '--output', join(dir, 'x'), '--at', '2001-01-01'], /first backup/],
      [
        ['--format', 'eml', '--output', join(dir, 'x'), '--at', 'yesterday-ish'],
        /cannot read the date/,
      ],
      [['--format', 'mbox', '--output', join(dir, 'x.mbox')], /one --folder/],
      [['--format', 'eml', '--output', join(dir, 'x'), '--all-versions', '--at', 'last'], /--at/],
      [['--format', 'maildir'], /--output/],
    ];
    for (const [args, message] of cases) {
      const result = await run(['export', 'alice', ...args]);
      expect(result.code, `${args.join(' ')}\n${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    const unknown = await run([
      'export',
      'mallory',
      '--format',
      'mbox',
      '--output',
      join(dir, 'y'),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown account mallory/);
    expect(files(dir)).toEqual(['occupied']);
    expect(files(occupied)).toEqual(['keep.txt']);
  });
});
