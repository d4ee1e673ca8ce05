import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { open } from '../crypto/aead.js';
import { decodePayload } from '../payload.js';
import { InlineSealer, WorkerSealer, type SealJob } from './sealer.js';

// The worker runs compiled JavaScript: `npm test` builds dist/ before the tests.
const workerScript = new URL('../../../dist/repository/sealing/seal-worker.js', import.meta.url);

function jobs(): SealJob[] {
  const message = Buffer.concat([
    Buffer.from('Subject: x\r\n\r\n'.repeat(200)),
    randomBytes(50_000),
  ]);
  // Views into one buffer, as the objects of a message are.
  return [0, 3_000, 20_000].map((start, i) => ({
    id: randomBytes(32),
    plaintext: message.subarray(start, start + 10_000 + i * 7_000),
  }));
}

describe('sealers', () => {
  it('seal in the calling thread what opens with the same key and id', async () => {
    const key = randomBytes(32);
    const input = jobs();
    const sealed = await new InlineSealer(key).seal(input);
    sealed.forEach((box, i) =>
      expect(
        decodePayload(open(key, box, input[i]?.id ?? Buffer.alloc(0)), 'x').equals(
          input[i]?.plaintext ?? Buffer.alloc(0),
        ),
      ).toBe(true),
    );
  });

  it.skipIf(!existsSync(fileURLToPath(workerScript)) && process.env.CI !== 'true')(
    'seal the same in worker threads, batches in order, and can be closed',
    async () => {
      const key = randomBytes(32);
      const sealer = new WorkerSealer(key, 2, workerScript);
      try {
        const batches = [jobs(), jobs(), jobs()];
        const results = await Promise.all(batches.map((batch) => sealer.seal(batch)));
        results.forEach((sealed, b) =>
          sealed.forEach((box, i) => {
            const job = batches[b]?.[i] as SealJob;
            expect(decodePayload(open(key, box, job.id), 'x').equals(job.plaintext)).toBe(true);
          }),
        );
      } finally {
        await sealer.close();
      }
    },
  );
});
