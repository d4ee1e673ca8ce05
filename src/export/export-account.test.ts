import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { exportAccount } from './export-account.js';
import { planExport } from './export-plan.js';
import type { ExportSource, SourceMessage } from './export-source.js';
import type { ExportDescription } from './export-writer.js';
import { flagsFromInfo } from './maildir-flags.js';
import { unquoteFromLines } from './mboxrd.js';
import { OutputError } from './output-place.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const description: ExportDescription = {
  format: 'test',
  layout: 'test',
  account: 'alice',
  source: 'mail1',
  snapshot: null,
  snapshotTime: null,
  allVersions: false,
  exported: new Date(0).toISOString(),
};

const MESSAGES: Record<string, string[]> = {
  INBOX: [
    'From: Alice <alice@example.com>\r\nSubject: First\r\n\r\nFrom the top\r\n>From quoted\r\n',
    'Return-Path: <bounces@example.org>\r\nSubject: Second\r\n\r\nno final line end',
  ],
  'Archive/2023': ['Subject: Old\r\n\r\nold\r\n'],
};

/** Stores the messages and returns a source over them, as a snapshot would give them. */
async function setup(): Promise<{ repository: Repository; source: ExportSource; dir: string }> {
  const { repository, remove } = await temporaryRepository();
  const base = mkdtempSync(join(tmpdir(), 'mailvault-export-'));
  cleanup = () => {
    remove();
    rmSync(base, { recursive: true, force: true });
  };
  const writer = repository.writer();
  const byFolder = new Map<string, SourceMessage[]>();
  let uid = 0;
  for (const [folder, texts] of Object.entries(MESSAGES)) {
    const list: SourceMessage[] = [];
    for (const text of texts) {
      const raw = Buffer.from(text);
      const stored = await storeMessage(writer, repository.chunker, raw);
      uid++;
      list.push({
        folder,
        uid,
        flags: uid % 2 ? ['\\Seen', '$Forwarded', 'NonJunk'] : [],
        internalDate: new Date(Date.UTC(2020, 0, uid, 12, 0, 0)),
        size: raw.length,
        sha256: stored.sha256,
        manifest: stored.manifest,
      });
    }
    byFolder.set(folder, list);
  }
  await writer.flush();
  const source: ExportSource = {
    folders: [...byFolder.keys()].map((path) => ({ path, delimiter: '/' })),
    async *messages(folder) {
      yield* byFolder.get(folder.path) ?? [];
    },
  };
  return { repository, source, dir: base };
}

const run = (
  repository: Repository,
  source: ExportSource,
  format: string,
  output: string,
  extra: { force?: boolean; folders?: string[]; allVersions?: boolean } = {},
) =>
  exportAccount({
    repository,
    plan: planExport(format, output, extra.folders ?? [], Boolean(extra.allVersions)),
    force: Boolean(extra.force),
    source,
    description,
    workers: 0,
  });

/** Python's mailbox.mbox reading: split before "From " lines, drop the blank line before. */
function readMbox(text: Buffer): Buffer[] {
  const starts: number[] = [];
  for (let at = 0; at < text.length; at = text.indexOf(10, at) + 1 || text.length) {
    if (text.subarray(at, at + 5).toString() === 'From ') starts.push(at);
  }
  return starts.map((start, i) => {
    const body = text.indexOf(10, start) + 1;
    const end = (starts[i + 1] ?? text.length) - 1;
    return unquoteFromLines(text.subarray(body, end));
  });
}

describe('export', () => {
  it('writes one mbox per folder, nested, with nothing left under temporary names', async () => {
    const { repository, source, dir } = await setup();
    const output = join(dir, 'out');
    const outcome = await run(repository, source, 'mbox', output);
    expect(outcome.messages).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['out']);
    expect(readdirSync(output).sort()).toEqual(['.mailvault-export', 'Archive', 'INBOX.mbox']);
    const inbox = readMbox(readFileSync(join(output, 'INBOX.mbox')));
    // A new UIDVALIDITY: the moment the file was made.
    const uidValidity = Number(/X-IMAPbase: (\d+) /.exec(String(inbox[0]))?.[1]);
    expect(Math.abs(uidValidity - Date.now() / 1000)).toBeLessThan(60);
    // Each message with its flags as header fields at the end of its header; the first declares
    // the file's keywords for Dovecot.
    const flagged = (text: string | undefined, fields: string): string =>
      (text ?? '').replace('\r\n\r\n', `\r\n${fields}\r\n`);
    expect(inbox.map(String)).toEqual([
      flagged(
        MESSAGES.INBOX?.[0],
        `Status: RO\r\nX-IMAPbase: ${uidValidity} 0000000000 $Forwarded NonJunk\r\nX-Keywords: $Forwarded NonJunk\r\n`,
      ),
      `${flagged(MESSAGES.INBOX?.[1], 'Status: O\r\n')}\n`,
    ]);
    expect(readFileSync(join(output, 'INBOX.mbox'), 'latin1')).toMatch(
      /^From alice@example\.com Wed Jan {2}1 12:00:00 2020\n/,
    );
    const archive = readMbox(readFileSync(join(output, 'Archive', '2023.mbox')));
    const archiveValidity = Number(/X-IMAPbase: (\d+) /.exec(String(archive[0]))?.[1]);
    expect(Math.abs(archiveValidity - uidValidity)).toBeLessThan(60);
    expect(archive.map(String)).toEqual([
      flagged(
        MESSAGES['Archive/2023']?.[0],
        `Status: RO\r\nX-IMAPbase: ${archiveValidity} 0000000000 $Forwarded NonJunk\r\nX-Keywords: $Forwarded NonJunk\r\n`,
      ),
    ]);
  });

  it('refuses an existing output unless --force, and --force replaces only an earlier export', async () => {
    const { repository, source, dir } = await setup();
    const output = join(dir, 'out');
    await run(repository, source, 'eml', output);
    await expect(run(repository, source, 'eml', output)).rejects.toThrow(OutputError);
    await run(repository, source, 'maildir', output, { force: true });
    expect(readdirSync(output)).toContain('cur');
    expect(readdirSync(dir)).toEqual(['out']);

    const mine = join(dir, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'precious.txt'), 'keep me');
    await expect(run(repository, source, 'mbox', mine, { force: true })).rejects.toThrow(
      /not an earlier mailvault export/,
    );
    expect(readdirSync(mine)).toEqual(['precious.txt']);

    const file = join(dir, 'inbox.mbox');
    writeFileSync(file, 'old');
    await expect(run(repository, source, 'mbox', file, { folders: ['INBOX'] })).rejects.toThrow(
      /exists; add --force/,
    );
    expect(() => planExport('mbox', file, [], false)).toThrow(/one --folder/);
    expect(() => planExport('ics', file, [], false)).toThrow(/not available yet/);
    expect(() => planExport('pst', file, [], false)).toThrow(/unknown format/);
  });

  it('leaves nothing behind when it fails half-way', async () => {
    const { repository, source, dir } = await setup();
    const failing: ExportSource = {
      folders: source.folders,
      async *messages(folder) {
        yield* source.messages(folder);
        if (folder.path === 'Archive/2023') throw new Error('disk on fire');
      },
    };
    await expect(run(repository, failing, 'eml', join(dir, 'out.zip'))).rejects.toThrow(
      'disk on fire',
    );
    await expect(run(repository, failing, 'maildir', join(dir, 'md'))).rejects.toThrow(
      'disk on fire',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a message it cannot read and exports the others', async () => {
    const { repository, source, dir } = await setup();
    const damaged: ExportSource = {
      folders: source.folders,
      async *messages(folder) {
        for await (const message of source.messages(folder))
          yield message.uid === 2 ? { ...message, manifest: 'ab'.repeat(32) } : message;
      },
    };
    const outcome = await run(repository, damaged, 'maildir', join(dir, 'md'), {
      allVersions: true,
    });
    expect(outcome.messages).toBe(2);
    expect(outcome.failures).toEqual([
      expect.objectContaining({ folder: 'INBOX', uid: 2, item: null }),
    ]);
    const manifest = JSON.parse(readFileSync(join(dir, 'md.manifest.json'), 'utf8')) as {
      account: string;
      items: Array<{ uid: number; file: string | null; error: string | null }>;
    };
    expect(manifest.account).toBe('alice');
    expect(
      manifest.items.map((item) => [item.uid, item.file === null, item.error === null]),
    ).toEqual([
      [1, false, true],
      [2, true, false],
      [3, false, true],
    ]);
    expect(readFileSync(join(dir, 'md.manifest.csv'), 'utf8').trim().split('\r\n')).toHaveLength(4);
  });

  it('writes Maildir++ with flags in names, keywords beside, and INTERNALDATE as mtime', async () => {
    const { repository, source, dir } = await setup();
    const output = join(dir, 'md');
    await run(repository, source, 'maildir', output);
    expect(readdirSync(output).sort()).toEqual([
      '.Archive.2023',
      '.mailvault-export',
      'cur',
      'dovecot-keywords',
      'new',
      'tmp',
    ]);
    const names = readdirSync(join(output, 'cur')).sort();
    expect(names).toEqual([
      `1577880000.M1U1.mailvault,S=${Buffer.byteLength(MESSAGES.INBOX?.[0] ?? '')}:2,PSa`,
      `1577966400.M2U2.mailvault,S=${Buffer.byteLength(MESSAGES.INBOX?.[1] ?? '')}:2,`,
    ]);
    const keywords = readFileSync(join(output, 'dovecot-keywords'), 'utf8');
    expect(flagsFromInfo('2,PSa', keywords)).toEqual(['$Forwarded', 'NonJunk', '\\Seen']);
    expect(statSync(join(output, 'cur', names[0] ?? '')).mtime.toISOString()).toBe(
      '2020-01-01T12:00:00.000Z',
    );
    expect(readFileSync(join(output, 'cur', names[1] ?? ''), 'utf8')).toBe(MESSAGES.INBOX?.[1]);
    expect(readdirSync(join(output, '.Archive.2023')).sort()).toEqual([
      'cur',
      'dovecot-keywords',
      'maildirfolder',
      'new',
      'tmp',
    ]);
  });

  it('writes .eml files in a folder tree, with their dates', async () => {
    const { repository, source, dir } = await setup();
    const output = join(dir, 'eml');
    await run(repository, source, 'eml', output);
    expect(readdirSync(join(output, 'INBOX')).sort()).toEqual(['1-First.eml', '2-Second.eml']);
    expect(readdirSync(join(output, 'Archive', '2023'))).toEqual(['3-Old.eml']);
    const file = join(output, 'Archive', '2023', '3-Old.eml');
    expect(readFileSync(file, 'utf8')).toBe(MESSAGES['Archive/2023']?.[0]);
    expect(statSync(file).mtime.toISOString()).toBe('2020-01-03T12:00:00.000Z');
    const zip = join(dir, 'all.zip');
    await run(repository, source, 'eml', zip);
    expect(readFileSync(zip).subarray(0, 4).toString('latin1')).toBe('PK\x03\x04');
  });
});
