import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createAssembler } from '../mailbox/assembly/message-assembler.js';
import type { MessageEntry } from '../mailbox/folder-listing.js';
import { storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import { isStreamedLiteral } from '../targets/imap/command-channel.js';
import { restoreMessages } from './folder-restore.js';
import type { AppendMessage, RestoreTarget } from './restore-target.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** An empty target folder that records each APPEND's messages, their bytes read as it would. */
function recordingTarget(): {
  target: RestoreTarget;
  appends: Array<Array<Buffer | 'streamed'>>;
  bytes: Buffer[];
} {
  const appends: Array<Array<Buffer | 'streamed'>> = [];
  const bytes: Buffer[] = [];
  const target = {
    appendsInFlight: 1,
    present: async () => [],
    append: async (_path: string, messages: readonly AppendMessage[]) => {
      const batch: Array<Buffer | 'streamed'> = [];
      for (const message of messages) {
        if (isStreamedLiteral(message.raw)) {
          const pieces: Buffer[] = [];
          for await (const piece of message.raw.pieces()) pieces.push(piece);
          bytes.push(Buffer.concat(pieces));
          batch.push('streamed');
        } else {
          const raw = Buffer.isBuffer(message.raw) ? message.raw : Buffer.concat(message.raw);
          bytes.push(raw);
          batch.push(raw);
        }
      }
      appends.push(batch);
      return { uids: null };
    },
  } as unknown as RestoreTarget;
  return { target, appends, bytes };
}

describe('restoring a folder', () => {
  it('sends each large message streamed, in an APPEND of its own, and the others batched', async () => {
    const { repository, remove } = await temporaryRepository();
    cleanup = remove;
    const small = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\nsmall ${n}\r\n`);
    const large = (n: number): Buffer =>
      Buffer.concat([Buffer.from(`Subject: large ${n}\r\n\r\n`), randomBytes(300_000)]);
    const raws = [small(1), large(2), small(3), small(4), large(5), large(6), small(7)];
    const writer = repository.writer();
    const entries: MessageEntry[] = [];
    for (const [i, raw] of raws.entries()) {
      const stored = await storeMessage(writer, repository.chunker, raw);
      entries.push({
        uid: i + 1,
        flags: [],
        date: new Date(0).toISOString(),
        size: raw.length,
        sha256: stored.sha256,
        manifest: stored.manifest,
      });
    }
    await writer.flush();
    const { target, appends, bytes } = recordingTarget();
    const assembler = createAssembler(repository.key.encryption, 0);
    const outcome = await restoreMessages(
      {
        repository,
        assembler,
        target,
        log: pino({ enabled: false }),
        batchSize: 100,
        largeMessageBytes: 100_000,
      },
      entries,
      'INBOX',
      'INBOX',
    );
    await assembler.close();
    expect(outcome.restored).toBe(7);
    expect(
      appends.map((batch) => batch.map((m) => (m === 'streamed' ? 'L' : 's')).join('')),
    ).toEqual(['s', 'L', 'ss', 'L', 'L', 's']);
    expect(bytes.map((b, i) => b.equals(raws[i] as Buffer))).toEqual(raws.map(() => true));
  });
});
