import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { seal } from '../crypto/aead.js';
import { encodePayload } from '../payload.js';

/**
 * Compressing and sealing objects is most of a backup's work. A sealer does it for the object
 * writer, in worker threads where there are cores to spare, so that reading mail from the server
 * and sealing it run side by side.
 */
export interface SealJob {
  id: Buffer;
  plaintext: Uint8Array;
}

export interface Sealer {
  /** Sealed forms of the jobs' plaintexts, in job order. */
  seal(jobs: readonly SealJob[]): Promise<Buffer[]>;
  close(): Promise<void>;
}

/** Seals in the calling thread. */
export class InlineSealer implements Sealer {
  constructor(private readonly key: Buffer) {}

  seal(jobs: readonly SealJob[]): Promise<Buffer[]> {
    return Promise.resolve(
      jobs.map((job) => seal(this.key, encodePayload(job.plaintext, true), job.id)),
    );
  }

  async close(): Promise<void> {}
}

interface Request {
  resolve: (sealed: Buffer[]) => void;
  reject: (error: Error) => void;
}

/** Seals in a pool of worker threads, batches handed out in turn. */
export class WorkerSealer implements Sealer {
  private readonly workers: Worker[] = [];
  private readonly requests = new Map<number, Request>();
  private next = 0;
  private sequence = 0;
  private failure: Error | null = null;

  constructor(key: Buffer, count: number, script: URL) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(script, { workerData: { key: new Uint8Array(key) } });
      worker.on(
        'message',
        (reply: { sequence: number; sealed?: ArrayBuffer[]; error?: string }) => {
          const request = this.requests.get(reply.sequence);
          this.requests.delete(reply.sequence);
          if (!request) return;
          if (reply.error !== undefined || !reply.sealed)
            request.reject(new Error(`sealing failed: ${reply.error ?? 'no result'}`));
          else request.resolve(reply.sealed.map((buffer) => Buffer.from(buffer)));
        },
      );
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.fail(new Error(`a sealing worker stopped with code ${code}`));
      });
      this.workers.push(worker);
    }
  }

  seal(jobs: readonly SealJob[]): Promise<Buffer[]> {
    if (this.failure) return Promise.reject(this.failure);
    const sequence = this.sequence++;
    const worker = this.workers[this.next++ % this.workers.length] as Worker;
    // Objects are often views into a larger buffer (the message): copy each into a buffer of its
    // own, which can then be handed over without copying again.
    const plaintexts = jobs.map((job) => new Uint8Array(job.plaintext).buffer);
    const ids = jobs.map((job) => new Uint8Array(job.id).buffer);
    return new Promise((resolve, reject) => {
      this.requests.set(sequence, { resolve, reject });
      worker.postMessage({ sequence, ids, plaintexts }, [...plaintexts, ...ids]);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.requests.values()) request.reject(error);
    this.requests.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }
}

/**
 * A sealer for this machine: `workers` threads (default: one per core), or the calling thread
 * when there is no compiled worker script (tests that run the TypeScript sources directly).
 */
export function createSealer(key: Buffer, workers = availableParallelism()): Sealer {
  const script = new URL('./seal-worker.js', import.meta.url);
  if (workers < 1 || !existsSync(fileURLToPath(script))) return new InlineSealer(key);
  return new WorkerSealer(key, Math.min(workers, 8), script);
}
