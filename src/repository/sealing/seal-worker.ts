// A sealing worker (see sealer.ts): compresses and seals the plaintexts it is sent.
import { parentPort, workerData } from 'node:worker_threads';
import { seal } from '../crypto/aead.js';
import { encodePayload } from '../payload.js';

const key = Buffer.from((workerData as { key: Uint8Array }).key);

parentPort?.on(
  'message',
  (request: { sequence: number; ids: ArrayBuffer[]; plaintexts: ArrayBuffer[] }) => {
    try {
      const sealed = request.plaintexts.map((plaintext, i) => {
        const out = seal(
          key,
          encodePayload(new Uint8Array(plaintext), true),
          new Uint8Array(request.ids[i] as ArrayBuffer),
        );
        // A Buffer may share a pooled allocation with others: hand back a buffer of its own.
        return new Uint8Array(out).buffer;
      });
      parentPort?.postMessage({ sequence: request.sequence, sealed }, sealed);
    } catch (error) {
      parentPort?.postMessage({
        sequence: request.sequence,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  },
);
