import { createHash } from 'node:crypto';
import type { Storage } from '../storage/storage.js';

/** Bytes a pack is read in at most (one object more when an object is longer). */
const WINDOW_BYTES = 4 * 1024 * 1024;

/** Where a sealed object lies in its pack. */
export interface PackSpan {
  offset: number;
  length: number;
}

/**
 * Reads a pack from its first byte to its last, a window at a time, and hands on the sealed bytes
 * of each of `objects` (sorted by offset) as soon as they are all read: memory stays at a window
 * and an object, whatever the pack's size. Returns the SHA-256 of the whole pack (hex), to
 * compare with its name. An object reaching past the pack's end is never handed on.
 */
export async function readPackInOrder<T extends PackSpan>(
  storage: Storage,
  pack: string,
  size: number,
  objects: readonly T[],
  visit: (object: T, sealed: Buffer) => void | Promise<void>,
): Promise<string> {
  const hash = createHash('sha256');
  let next = 0;
  let position = 0;
  /** Bytes read but not yet handed on (the start of an object), and where they start. */
  let carry = Buffer.alloc(0);
  let carryStart = 0;
  while (position < size) {
    const length = Math.min(WINDOW_BYTES, size - position);
    const window = await storage.load({ kind: 'data', name: pack }, { offset: position, length });
    if (window.length !== length) throw new Error(`pack ${pack}: read ended before its size`);
    hash.update(window);
    const buffer = carry.length > 0 ? Buffer.concat([carry, window]) : window;
    position += length;
    for (let object = objects[next]; object; object = objects[next]) {
      if (object.offset + object.length > position) break;
      if (object.offset >= carryStart)
        await visit(
          object,
          buffer.subarray(object.offset - carryStart, object.offset - carryStart + object.length),
        );
      next++;
    }
    const keepFrom = Math.max(objects[next]?.offset ?? position, carryStart);
    // A copy: what is kept must not hold on to the whole window.
    carry = Buffer.from(buffer.subarray(Math.min(keepFrom, position) - carryStart));
    carryStart = Math.min(keepFrom, position);
  }
  return hash.digest('hex');
}
