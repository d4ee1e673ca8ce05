import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker, type MessagePort } from 'node:worker_threads';

/**
 * A few worker threads sharing the CPU-heavy part of a job stream (sealing objects, assembling
 * messages), requests handed out in turn. Requests and replies carry ArrayBuffers that move
 * between threads without being copied.
 *
 * Threads start on demand: the first request starts one, and another starts only when a request
 * arrives while every running thread is busy, up to `count`. A thread costs tens of milliseconds
 * of CPU to start (it loads its own copy of the code), which a command that seals a handful of
 * objects, or none (a run that finds nothing changed), should not pay for idle threads.
 */
export class WorkerPool<Request, Reply> {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<
    number,
    { resolve: (reply: Reply) => void; reject: (error: Error) => void; worker: number }
  >();
  private next = 0;
  private sequence = 0;
  private failure: Error | null = null;

  constructor(
    private readonly script: URL,
    private readonly count: number,
    private readonly workerData: unknown,
  ) {}

  /** Threads started so far. */
  get started(): number {
    return this.workers.length;
  }

  private start(): number {
    const index = this.workers.length;
    const worker = new Worker(this.script, { workerData: this.workerData });
    worker.on('message', (message: { sequence: number; reply?: Reply; error?: string }) => {
      const request = this.pending.get(message.sequence);
      this.pending.delete(message.sequence);
      if (!request) return;
      (this.workers[request.worker] as { busy: number }).busy--;
      if (message.error !== undefined) request.reject(new Error(message.error));
      else request.resolve(message.reply as Reply);
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => {
      if (code !== 0) this.fail(new Error(`a worker thread stopped with code ${code}`));
    });
    this.workers.push({ worker, busy: 0 });
    return index;
  }

  /** An idle thread, else a new one while there is room, else the next in turn. */
  private pick(): number {
    const idle = this.workers.findIndex((entry) => entry.busy === 0);
    if (idle >= 0) return idle;
    if (this.workers.length < this.count) return this.start();
    return this.next++ % this.workers.length;
  }

  run(request: Request, transfer: ArrayBuffer[]): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const sequence = this.sequence++;
    const index = this.pick();
    const entry = this.workers[index] as { worker: Worker; busy: number };
    entry.busy++;
    return new Promise((resolve, reject) => {
      this.pending.set(sequence, { resolve, reject, worker: index });
      entry.worker.postMessage({ sequence, request }, transfer);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((entry) => entry.worker.terminate()));
  }
}

/**
 * How many workers to start for a compiled worker script: `wanted` (default one per core, at most
 * eight), or none when the script is not there (tests running the TypeScript sources directly).
 */
export function workerCount(script: URL, wanted = availableParallelism()): number {
  return wanted >= 1 && existsSync(fileURLToPath(script)) ? Math.min(wanted, 8) : 0;
}

/** The worker side: answers each request with `handle`'s reply and the buffers to hand back. */
export function serveRequests<Request, Reply>(
  port: MessagePort | null,
  handle: (request: Request) => { reply: Reply; transfer: ArrayBuffer[] },
): void {
  port?.on('message', ({ sequence, request }: { sequence: number; request: Request }) => {
    try {
      const { reply, transfer } = handle(request);
      port.postMessage({ sequence, reply }, transfer);
    } catch (error) {
      port.postMessage({ sequence, error: error instanceof Error ? error.message : String(error) });
    }
  });
}
