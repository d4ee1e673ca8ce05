import { WorkerPool, workerCount } from '../../workers/worker-pool.js';
import { assembleRecipe, recipeBuffers, type Recipe } from './recipe.js';

/**
 * Puts messages together from their recipes: decrypting, decompressing, re-encoding base64 and
 * checking the result is most of a restore's work, done in worker threads where there are cores
 * to spare, while the main thread talks to the server.
 */
export interface MessageAssembler {
  assemble(recipe: Recipe): Promise<Buffer>;
  close(): Promise<void>;
}

class InlineAssembler implements MessageAssembler {
  constructor(private readonly key: Buffer) {}

  assemble(recipe: Recipe): Promise<Buffer> {
    try {
      return Promise.resolve(assembleRecipe(this.key, recipe));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {}
}

class WorkerAssembler implements MessageAssembler {
  private readonly pool: WorkerPool<Recipe, ArrayBuffer>;

  constructor(key: Buffer, count: number) {
    this.pool = new WorkerPool(ASSEMBLY_WORKER, count, { key: new Uint8Array(key) });
  }

  async assemble(recipe: Recipe): Promise<Buffer> {
    return Buffer.from(await this.pool.run(recipe, recipeBuffers(recipe)));
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

const ASSEMBLY_WORKER = new URL('./assembly-worker.js', import.meta.url);

export function createAssembler(key: Buffer, workers?: number): MessageAssembler {
  const count = workerCount(ASSEMBLY_WORKER, workers);
  return count > 0 ? new WorkerAssembler(key, count) : new InlineAssembler(key);
}
