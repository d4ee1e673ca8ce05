import { createHash } from 'node:crypto';
import { chunkStream } from '../chunking/fastcdc.js';
import type { ByteTally, ObjectWriter } from './object-writer.js';
import type { Repository } from './repository.js';

/**
 * A stream of any length stored as content-defined chunks: a file, a database dump, a large
 * calendar item. Only chunks the repository lacks are written, so a large file or a daily dump
 * that changed a little costs little more than what changed.
 */
export interface StoredStream {
  /** Bytes in the stream. */
  size: number;
  /** SHA-256 of the whole stream, hex: checked again when it is read back. */
  sha256: string;
  /** Hex ids of the data objects holding its chunks, in order. */
  chunks: string[];
}

/**
 * Stores a stream; returns once every chunk is queued with the writer (the snapshot that refers
 * to them must be written after the writer's next flush). Holds one chunk at a time.
 */
export async function storeStream(
  repository: Repository,
  writer: ObjectWriter,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  tally?: ByteTally,
): Promise<StoredStream & { newChunks: number }> {
  const hash = createHash('sha256');
  const chunks: string[] = [];
  let size = 0;
  let newChunks = 0;
  for await (const chunk of chunkStream(source, repository.chunker)) {
    hash.update(chunk);
    size += chunk.length;
    const saved = await writer.save('data', chunk, tally);
    chunks.push(saved.id.toString('hex'));
    if (saved.added) newChunks++;
  }
  return { size, sha256: hash.digest('hex'), chunks, newChunks };
}

export class StreamIntegrityError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'StreamIntegrityError';
  }
}

/**
 * Reads a stored stream back, chunk by chunk. The SHA-256 is checked at the end: a consumer that
 * must not act on damaged data (a file restored in place, a dump fed to a database) should write
 * to a temporary place and commit only once the iteration has finished without error.
 */
export async function* readStream(
  repository: Repository,
  stream: StoredStream,
): AsyncGenerator<Buffer> {
  const hash = createHash('sha256');
  let size = 0;
  for (const chunk of stream.chunks) {
    const bytes = await repository.readObject(Buffer.from(chunk, 'hex'));
    hash.update(bytes);
    size += bytes.length;
    yield bytes;
  }
  const sha256 = hash.digest('hex');
  if (size !== stream.size || sha256 !== stream.sha256) {
    throw new StreamIntegrityError(
      `stored stream does not match what was backed up (${size} bytes, SHA-256 ${sha256}; expected ${stream.size} bytes, ${stream.sha256})`,
    );
  }
}

/** A whole small stream in memory (calendar items, contacts): at most `limit` bytes. */
export async function readStreamBytes(
  repository: Repository,
  stream: StoredStream,
  limit = 64 * 1024 * 1024,
): Promise<Buffer> {
  if (stream.size > limit)
    throw new Error(`stream of ${stream.size} bytes is larger than ${limit} bytes`);
  const parts: Buffer[] = [];
  for await (const part of readStream(repository, stream)) parts.push(part);
  return Buffer.concat(parts);
}
