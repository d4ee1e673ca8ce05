import { afterEach, describe, expect, it } from 'vitest';
import { corpusMessages } from '../../../test/support/corpus.js';
import { messageRecipe, storeMessage } from '../message-store.js';
import { temporaryRepository } from '../test-repository.test-helper.js';
import { assembleRecipe, RecipeIntegrityError } from './recipe.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('message recipes', () => {
  it('put every corpus message back together byte for byte, away from the repository', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const corpus = corpusMessages().slice(0, 400);
    const stored = [];
    for (const message of corpus)
      stored.push({
        raw: message.raw,
        manifest: (await storeMessage(writer, repository.chunker, message.raw)).manifest,
      });
    await writer.flush();
    const fresh = await reopen();
    for (const { raw, manifest } of stored) {
      const recipe = await messageRecipe(fresh, manifest);
      expect(assembleRecipe(fresh.key.encryption, recipe).equals(raw)).toBe(true);
    }
  });

  it('refuse a damaged piece, and a result that does not match the backup checksum', async () => {
    const { repository, reopen, remove } = await temporaryRepository();
    cleanup = remove;
    const writer = repository.writer();
    const raw =
      corpusMessages().find((message) => message.raw.length > 5000)?.raw ?? Buffer.alloc(0);
    const { manifest } = await storeMessage(writer, repository.chunker, raw);
    await writer.flush();
    const fresh = await reopen();
    const damaged = await messageRecipe(fresh, manifest);
    const first = damaged.parts.find((part) => part.t === 'o');
    if (first?.t !== 'o' || !first.objects[0]) throw new Error('no data object');
    const bytes = new Uint8Array(first.objects[0].sealed);
    bytes[30] = (bytes[30] ?? 0) ^ 1;
    expect(() => assembleRecipe(fresh.key.encryption, damaged)).toThrow(/failed authentication/);
    const wrong = await messageRecipe(fresh, manifest);
    wrong.sha256 = '0'.repeat(64);
    expect(() => assembleRecipe(fresh.key.encryption, wrong)).toThrow(RecipeIntegrityError);
  });
});
