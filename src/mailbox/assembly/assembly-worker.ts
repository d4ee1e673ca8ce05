// A message assembling worker (see message-assembler.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { serveRequests } from '../../workers/worker-pool.js';
import { assembleRecipe, type Recipe } from './recipe.js';

const key = Buffer.from((workerData as { key: Uint8Array }).key);

serveRequests<Recipe, ArrayBuffer>(parentPort, (recipe) => {
  const message = assembleRecipe(key, recipe);
  // allocUnsafe may share a pooled allocation for small sizes: hand back a buffer of its own.
  const own =
    message.byteOffset === 0 && message.byteLength === message.buffer.byteLength
      ? (message.buffer as ArrayBuffer)
      : new Uint8Array(message).buffer;
  return { reply: own, transfer: [own] };
});
