import { seal } from '../crypto/aead.js';
import { encodePayload } from '../payload.js';
import { WorkerPool, workerCount } from '../../workers/worker-pool.js';

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

export interface SealRequest {
  ids: ArrayBuffer[];
  plaintexts: ArrayBuffer[];
}

/** Seals in a pool of worker threads (seal-worker.ts). */
export class WorkerSealer implements Sealer {
  private readonly pool: WorkerPool<SealRequest, ArrayBuffer[]>;

  constructor(key: Buffer, count: number, script: URL = SEAL_WORKER) {
    this.pool = new WorkerPool(script, count, { key: new Uint8Array(key) });
  }

  async seal(jobs: readonly SealJob[]): Promise<Buffer[]> {
    // Objects are often views into a larger buffer (the message): copy each into a buffer of its
    // own, which can then be handed over without copying again.
    const plaintexts = jobs.map((job) => new Uint8Array(job.plaintext).buffer);
    const ids = jobs.map((job) => new Uint8Array(job.id).buffer);
    const sealed = await this.pool.run({ ids, plaintexts }, [...plaintexts, ...ids]);
    return sealed.map((buffer) => Buffer.from(buffer));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const SEAL_WORKER = new URL('./seal-worker.js', import.meta.url);

/** A sealer for this machine: `workers` threads (default one per core), or the calling thread. */
export function createSealer(key: Buffer, workers?: number): Sealer {
  const count = workerCount(SEAL_WORKER, workers);
  return count > 0 ? new WorkerSealer(key, count) : new InlineSealer(key);
}
