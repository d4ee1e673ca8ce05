// fetchToSpool against a fake client that answers partial FETCHes from a buffer (or not at all).
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImapFlow } from 'imapflow';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mayHideNul } from '../../imap/nul-bytes.js';
import { fetchToSpool } from './spooled-fetch.js';

interface RangeQuery {
  source: { start: number; maxLength: number };
}

/** A client holding message `uid` as `bytes` until `expungeAfter` ranges were served. */
function fakeClient(
  uid: number,
  bytes: Buffer,
  expungeAfter = Infinity,
): { client: ImapFlow; asked: number[] } {
  const asked: number[] = [];
  const client = {
    async *fetch(_set: string, query: RangeQuery) {
      asked.push(query.source.start);
      if (asked.length > expungeAfter) return;
      const { start, maxLength } = query.source;
      yield {
        uid,
        flags: new Set(['\\Seen']),
        internalDate: new Date('2026-03-05T10:00:00Z'),
        source: bytes.subarray(start, start + maxLength),
      };
    },
  };
  return { client: client as unknown as ImapFlow, asked };
}

describe('fetchToSpool', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mailvault-spooled-fetch-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads range after range until a short one, and judges NUL stand-ins on the way', async () => {
    for (const [length, stray] of [
      [10_000, -1],
      [4096 * 3, 5000],
      [4096 * 3 + 1, 4095],
    ] as const) {
      const bytes = Buffer.alloc(length, 0x61);
      if (stray >= 0) bytes[stray] = 0x80;
      const { client, asked } = fakeClient(7, bytes);
      const fetched = await fetchToSpool(client, 7, { dir, rangeBytes: 4096 });
      expect(fetched).not.toBeNull();
      if (!fetched) continue;
      try {
        expect(fetched.spool.readSync(0, length).equals(bytes)).toBe(true);
        expect(fetched.spool.length).toBe(length);
        expect(fetched.mayHideNul).toBe(mayHideNul(bytes));
        expect(fetched.flags).toEqual(['\\Seen']);
        expect(fetched.date).toBe('2026-03-05T10:00:00.000Z');
        // An exact multiple takes one more (empty) range to know it ended.
        expect(asked).toHaveLength(Math.floor(length / 4096) + 1);
      } finally {
        await fetched.spool.close();
      }
    }
  });

  it('gives null for a message expunged while it was read, and leaves no spool file', async () => {
    const { client } = fakeClient(7, Buffer.alloc(20_000, 0x61), 2);
    expect(await fetchToSpool(client, 7, { dir, rangeBytes: 4096 })).toBeNull();
    expect(await readdir(dir)).toEqual([]);
  });
});
