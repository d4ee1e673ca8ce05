import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { zipEntries } from '../../test/support/zip-entries.js';
import { ZipSink } from './zip-sink.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('zip entries from a stream', () => {
  it('holds the pieces in order, read only when the zip comes to the entry', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailvault-zip-'));
    const zip = new ZipSink(join(dir, 'out.zip'));
    const read: string[] = [];
    await zip.add('a.eml', Buffer.from('first'), new Date(0));
    await zip.addStream(
      'b.eml',
      12,
      async function* () {
        read.push('b');
        yield Buffer.from('second');
        yield Buffer.from(' part');
        yield Buffer.from('!');
      },
      new Date(0),
    );
    expect(read).toEqual([]);
    await zip.close();
    expect(read).toEqual(['b']);
    const entries = zipEntries(join(dir, 'out.zip'));
    expect(entries.get('b.eml')?.toString()).toBe('second part!');
    expect(entries.get('a.eml')?.toString()).toBe('first');
  });

  it('fails the zip, without hanging, when the pieces fail', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailvault-zip-'));
    const zip = new ZipSink(join(dir, 'out.zip'));
    await zip.addStream(
      'b.eml',
      12,
      async function* () {
        yield Buffer.from('second');
        throw new Error('the repository gave other bytes');
      },
      new Date(0),
    );
    await expect(zip.close()).rejects.toThrow(/other bytes/);
    await zip.abort();
  });
});
