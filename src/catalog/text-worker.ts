// A text extracting worker (see text-index.ts): the readable text of the messages it is sent.
import { parentPort } from 'node:worker_threads';
import { extractText } from '../mime/text-extract.js';
import { serveRequests } from '../workers/worker-pool.js';

serveRequests<ArrayBuffer[], string[]>(parentPort, (messages) => ({
  reply: messages.map((raw) => extractText(new Uint8Array(raw))),
  transfer: [],
}));
