// A sealing worker (see sealer.ts): compresses and seals the plaintexts it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { serveRequests } from '../../workers/worker-pool.js';
import { seal } from '../crypto/aead.js';
import { encodePayload } from '../payload.js';
import type { SealRequest } from './sealer.js';

const key = Buffer.from((workerData as { key: Uint8Array }).key);

serveRequests<SealRequest, ArrayBuffer[]>(parentPort, (request) => {
  const sealed = request.plaintexts.map((plaintext, i) => {
    const out = seal(
      key,
      encodePayload(new Uint8Array(plaintext), true),
      new Uint8Array(request.ids[i] as ArrayBuffer),
    );
    // A Buffer may share a pooled allocation with others: hand back a buffer of its own.
    return new Uint8Array(out).buffer;
  });
  return { reply: sealed, transfer: sealed };
});
