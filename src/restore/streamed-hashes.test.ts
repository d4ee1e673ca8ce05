import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import { servedSha256 } from '../imap/nul-bytes.js';
import { storeMessage } from '../mailbox/message-store.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import { looseSha256 } from '../targets/imap/imap-target-reader.js';
import { streamedWholeHashes } from './streamed-hashes.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('whole-message hashes taken as a stream', () => {
  it('equal looseSha256 and servedSha256 of the whole message', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    // CR and NUL bytes everywhere, in a part large enough to be cut into several chunks.
    const noisy = randomBytes(3_000_000).map((byte) =>
      byte % 7 === 0 ? 0x0d : byte % 11 === 0 ? 0 : byte,
    );
    const raws = [
      ...corpusMessages()
        .slice(0, 300)
        .map((message) => message.raw),
      Buffer.concat([Buffer.from('Subject: noisy\r\n\r\n'), Buffer.from(noisy)]),
    ];
    const manifests: string[] = [];
    for (const raw of raws)
      manifests.push((await storeMessage(writer, repository.chunker, raw)).manifest);
    await writer.flush();
    const fresh = await reopen();
    for (const [i, manifest] of manifests.entries()) {
      const raw = raws[i] as Buffer;
      expect(await streamedWholeHashes(fresh, manifest)).toEqual({
        loose: looseSha256(raw),
        served: servedSha256(raw),
      });
    }
  });
});
