import { createHash } from 'node:crypto';
import { DamagedObjectError, type Repository } from '../repository/repository.js';
import { Base64LineEncoder } from './assembly/base64-line-encoder.js';
import { LARGE_MESSAGE_BYTES } from './large-message.js';
import {
  MessageIntegrityError,
  readBody,
  readManifest,
  type MessageManifest,
} from './message-store.js';

/** Whether a message of this size is written out as a stream rather than put together whole. */
export function isLargeMessage(size: number, threshold = LARGE_MESSAGE_BYTES): boolean {
  return size >= threshold;
}

/**
 * A message whose stored objects were all read, opened and found to give back exactly the bytes
 * taken at backup (size and SHA-256), none of them kept. `pieces()` reads them again, one object
 * at a time, for whoever writes them out.
 */
export interface VerifiedMessage {
  size: number;
  sha256: string;
  /** Whether a NUL byte occurs: such a message needs BINARY to travel over IMAP. */
  holdsNul: boolean;
  /**
   * The message's bytes in order, checked again as they go: should the repository give other
   * bytes this time, MessageIntegrityError is thrown before the last piece is handed out, so
   * whoever writes the pieces never completes a wrong message.
   */
  pieces(): AsyncIterable<Buffer>;
}

/**
 * The verifying pass over a large message: every piece is hashed and dropped (and shown to
 * `observe`, for other hashes in the same pass). A mismatch throws MessageIntegrityError, as
 * loadMessage does, before anything reaches a server or a file.
 */
export async function verifyMessage(
  repository: Repository,
  manifestId: string,
  observe?: (piece: Buffer) => void,
): Promise<VerifiedMessage> {
  const manifest = await readManifest(repository, manifestId);
  const check = new Check(manifest);
  let holdsNul = false;
  for await (const piece of messagePieces(repository, manifest)) {
    check.add(piece);
    if (!holdsNul && piece.includes(0)) holdsNul = true;
    observe?.(piece);
  }
  check.end();
  return {
    size: manifest.size,
    sha256: manifest.sha256,
    holdsNul,
    pieces: () => checkedPieces(repository, manifest),
  };
}

/** The writing pass (see VerifiedMessage.pieces). */
export async function* checkedPieces(
  repository: Repository,
  manifest: MessageManifest,
): AsyncGenerator<Buffer> {
  const check = new Check(manifest);
  // One piece is held back until the next is read: the last leaves only once the whole is checked.
  let held: Buffer | null = null;
  for await (const piece of messagePieces(repository, manifest)) {
    check.add(piece);
    if (held) yield held;
    held = piece;
  }
  check.end();
  if (held) yield held;
}

/** The running size and SHA-256 of a message's pieces against its manifest. */
class Check {
  private readonly hash = createHash('sha256');
  private size = 0;

  constructor(private readonly manifest: MessageManifest) {}

  add(piece: Buffer): void {
    this.hash.update(piece);
    this.size += piece.length;
    // More bytes than the manifest says would overrun an IMAP literal of the stated length.
    if (this.size > this.manifest.size) this.fail();
  }

  end(): void {
    if (this.size !== this.manifest.size || this.hash.digest('hex') !== this.manifest.sha256)
      this.fail();
  }

  private fail(): never {
    throw new MessageIntegrityError(
      `message ${this.manifest.sha256} does not match the checksum taken at backup`,
    );
  }
}

/**
 * A message's bytes as its objects give them, unchecked: the header object, then each body
 * segment (inline bytes; content chunks as they are; base64 content re-encoded chunk by chunk).
 * One data object is read and opened at a time.
 */
export async function* messagePieces(
  repository: Repository,
  manifest: MessageManifest,
): AsyncGenerator<Buffer> {
  const read = (id: string): Promise<Buffer> => readOnce(repository, Buffer.from(id, 'hex'));
  yield await read(manifest.header);
  if (!manifest.body) return;
  for (const segment of (await readBody(repository, manifest.body)).segments) {
    if (segment.t === 'l') {
      yield Buffer.from(segment.b, 'base64');
    } else if (segment.t === 'c') {
      for (const id of segment.chunks) yield await read(id);
    } else {
      const encoder = new Base64LineEncoder(segment.line, segment.eol);
      for (const id of segment.chunks) {
        const lines = encoder.push(await read(id));
        if (lines.length > 0) yield lines;
      }
      yield encoder.end();
      if (segment.trailer) yield Buffer.from(segment.trailer, 'base64');
    }
  }
}

/**
 * Reads one object of a large message by its own range of its pack, past the pack cache: the
 * cache keeps whole packs (up to 64 MiB) for the many small messages of a restore, but a large
 * message's packs hold little else, are read once per pass, and would keep that much memory in
 * use for nothing. As repository.readObject does, a damaged local copy of a remote pack is
 * dropped and the original read before the object is called damaged.
 */
async function readOnce(repository: Repository, id: Buffer): Promise<Buffer> {
  // An object the loaded index does not know yet (written since): the repository finds it.
  if (!repository.index.has(id)) return repository.readObject(id);
  const location = repository.locate(id);
  const file = { kind: 'data' as const, name: location.pack };
  const range = { offset: location.offset, length: location.length };
  try {
    return repository.openObject(id, location, await repository.storage.load(file, range));
  } catch (error) {
    if (!(error instanceof DamagedObjectError && (await repository.storage.dropLocalCopy?.(file))))
      throw error;
    return repository.openObject(id, location, await repository.storage.load(file, range));
  }
}
