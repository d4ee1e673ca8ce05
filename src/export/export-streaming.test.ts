import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zipEntries } from '../../test/support/zip-entries.js';
import { storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { exportAccount } from './export-account.js';
import { planExport } from './export-plan.js';
import type { ExportSource, SourceMessage } from './export-source.js';
import type { ExportDescription } from './export-writer.js';

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

/** Lines an mbox reader looks at, many of them, in a part large enough to be cut into chunks. */
function fromLines(length: number): string {
  const words = ['From ', '>', '>>From ', '\n', '\r\n', 'From', 'x', 'From x\r\n'];
  let text = '';
  while (text.length < length) text += words[Math.floor(Math.random() * words.length)];
  return text;
}

function messages(): Array<{ folder: string; raw: Buffer }> {
  const attachment = randomBytes(2_500_000).toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    {
      folder: 'INBOX',
      raw: Buffer.from(
        `Return-Path: <a@example.com>\r\nFrom: A <a@example.com>\r\nSubject: big\r\nStatus: RO\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n${fromLines(1_500_000)}\r\n--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b--\r\n`,
        'latin1',
      ),
    },
    { folder: 'INBOX', raw: Buffer.from('Subject: small\r\n\r\nFrom here\r\n') },
    {
      folder: 'Archive/2023',
      raw: Buffer.from(
        `From: b@example.com\nSubject: unended\n\n${fromLines(1_200_000)}x`,
        'latin1',
      ),
    },
    // CR-only: an mbox entry needs it whole, the others stream it.
    {
      folder: 'Archive/2023',
      raw: Buffer.from(`Subject: mac\r\r${fromLines(30_000).replace(/\n/g, '')}`, 'latin1'),
    },
  ];
}

async function setup(): Promise<{ repository: Repository; source: ExportSource; dir: string }> {
  const { repository, remove } = await temporaryRepository();
  const dir = mkdtempSync(join(tmpdir(), 'mailvault-export-'));
  cleanup = () => {
    remove();
    rmSync(dir, { recursive: true, force: true });
  };
  const writer = repository.writer();
  const byFolder = new Map<string, SourceMessage[]>();
  let uid = 0;
  for (const { folder, raw } of messages()) {
    const stored = await storeMessage(writer, repository.chunker, raw);
    uid++;
    const list = byFolder.get(folder) ?? [];
    list.push({
      folder,
      uid,
      flags: uid % 2 ? ['\\Seen', '$Forwarded'] : [],
      internalDate: new Date(Date.UTC(2020, 0, uid, 12, 0, 0)),
      size: raw.length,
      sha256: stored.sha256,
      manifest: stored.manifest,
    });
    byFolder.set(folder, list);
  }
  await writer.flush();
  return {
    repository,
    dir,
    source: {
      folders: [...byFolder.keys()].map((path) => ({ path, delimiter: '/' })),
      async *messages(folder) {
        yield* byFolder.get(folder.path) ?? [];
      },
    },
  };
}

/** Every file below `root` (or every entry of a zip) with its bytes and, for files, its mtime. */
function contents(root: string): Map<string, string> {
  if (root.endsWith('.zip')) {
    const entries = zipEntries(root);
    return new Map([...entries].map(([name, bytes]) => [name, bytes.toString('latin1')]));
  }
  const files = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        files.set(
          relative(root, path),
          // The UIDVALIDITY an mbox declares is the moment of the export.
          // Message files carry the INTERNALDATE; the others (marker, keywords) the export's time.
          `${statSync(path).mtimeMs < Date.UTC(2021, 0) ? statSync(path).mtimeMs : 'now'} ${readFileSync(path, 'latin1').replace(/X-IMAPbase: \d+/g, 'X-IMAPbase: T')}`,
        );
    }
  };
  walk(root);
  return files;
}

describe('export of large messages as a stream', () => {
  it.each([
    ['mbox', 'out'],
    ['maildir', 'out'],
    ['eml', 'out'],
    ['eml', 'out.zip'],
  ])('%s to %s: byte for byte what the buffered export writes', async (format, name) => {
    const { repository, source, dir } = await setup();
    const outputs: Array<Map<string, string>> = [];
    for (const [i, largeMessageBytes] of [undefined, 1000].entries()) {
      const output = join(dir, `${i}-${name}`);
      const outcome = await exportAccount({
        repository,
        plan: planExport(format, output, [], false),
        force: false,
        source,
        description,
        workers: 0,
        largeMessageBytes,
      });
      expect(outcome.messages).toBe(4);
      expect(outcome.failures).toEqual([]);
      outputs.push(contents(output));
    }
    expect(outputs[0]?.size).toBeGreaterThan(0);
    expect(outputs[1]).toEqual(outputs[0]);
  });
});
