// Storing a message that is not held in memory (a spool file, read through a ByteSource): the
// same layout (planMessage, the splitter's one walk) and the same objects and manifest as
// storeMessage() writes for the same bytes in memory, with memory bounded by a few pages, a
// base64 block and one chunk, whatever the message's size.
import { createHash, type Hash } from 'node:crypto';
import { chunkStream, type Chunker } from '../chunking/fastcdc.js';
import { decodedBlocks } from '../mime/base64-lines.js';
import type { ByteSource } from '../mime/byte-source.js';
import { summarizeHeader } from '../mime/header-summary.js';
import type { Piece } from '../mime/segment-builder.js';
import { planMessage } from '../mime/split-message.js';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import {
  CHUNKING_THRESHOLD,
  HEADER_LIMIT,
  INLINE_LIMIT,
  MessageIntegrityError,
  inline,
  saveManifest,
  type BodySegment,
  type Saver,
  type StoredMessage,
} from './message-store.js';

/** Bytes of a content piece read at a time on their way to the chunker. */
const WINDOW = 64 * 1024;

/**
 * Stores the message `source` holds, whose SHA-256 (taken as its bytes arrived) is `sha256`.
 * Every byte is read back once more on the way into objects and hashed again: a message whose
 * bytes do not come back as they went in (a damaged spool) fails before its manifest is written.
 */
export async function storeMessageFrom(
  objects: ObjectWriter,
  chunker: Chunker,
  source: ByteSource,
  sha256: string,
  tally?: ByteTally,
): Promise<StoredMessage> {
  const writer: Saver = {
    save: (type: 'data' | 'tree', bytes: Uint8Array) => objects.save(type, bytes, tally),
  };
  const plan = planMessage(source);
  // The summary reads the whole header block, as storeMessage does: only a message with no blank
  // line has one larger than a few KiB, and its summary must be the same too.
  const headerBlock = source.bytes(0, plan.headerEnd);
  const summary = summarizeHeader(headerBlock);
  const hash = createHash('sha256');
  let pieces = plan.body;
  let headerBytes = headerBlock;
  if (plan.headerEnd > HEADER_LIMIT) {
    headerBytes = headerBlock.subarray(0, HEADER_LIMIT);
    pieces = [{ kind: 'content', start: HEADER_LIMIT, end: plan.headerEnd }, ...pieces];
  }
  hash.update(headerBytes);
  const header = (await writer.save('data', headerBytes)).id.toString('hex');
  const segments: BodySegment[] = [];
  for (const piece of pieces) segments.push(await storePiece(writer, chunker, source, piece, hash));
  if (hash.digest('hex') !== sha256)
    throw new MessageIntegrityError(
      `message ${sha256} read back from its spool file does not match the bytes received`,
    );
  return saveManifest(writer, { size: source.length, sha256, header, segments, summary });
}

async function storePiece(
  writer: Saver,
  chunker: Chunker,
  source: ByteSource,
  piece: Piece,
  hash: Hash,
): Promise<BodySegment> {
  const size = piece.end - piece.start;
  // Inline as storeMessage does: a literal always, content below INLINE_LIMIT, base64 whose
  // decoded bytes are below it re-encoded, which is its own bytes (matchBase64 checked that).
  const small =
    piece.kind === 'literal' ||
    (piece.kind === 'base64' ? piece.shape.decodedLength : size) < INLINE_LIMIT;
  if (small) {
    const bytes = source.bytes(piece.start, piece.end);
    hash.update(bytes);
    return inline(bytes);
  }
  if (piece.kind !== 'base64') {
    const chunks = await saveChunks(writer, chunker, size, windows(source, piece, hash));
    return { t: 'c', size, chunks };
  }
  const { shape } = piece;
  const decoded = (function* () {
    for (const block of decodedBlocks(source, piece.start, shape)) {
      hash.update(block.raw);
      yield block.decoded;
    }
  })();
  const chunks = await saveChunks(writer, chunker, shape.decodedLength, decoded);
  const trailer = source.bytes(shape.dataEnd, piece.end);
  hash.update(trailer);
  return {
    t: 'b',
    size: shape.decodedLength,
    chunks,
    line: shape.lineLength,
    eol: shape.eol,
    trailer: trailer.toString('base64'),
  };
}

function* windows(source: ByteSource, piece: Piece, hash: Hash): Generator<Buffer> {
  for (let at = piece.start; at < piece.end; at += WINDOW) {
    const bytes = source.bytes(at, Math.min(piece.end, at + WINDOW));
    hash.update(bytes);
    yield bytes;
  }
}

/** saveChunks() of message-store.ts over bytes that arrive in pieces: the same objects. */
async function saveChunks(
  writer: Saver,
  chunker: Chunker,
  size: number,
  pieces: Iterable<Buffer>,
): Promise<string[]> {
  const ids: string[] = [];
  if (size < CHUNKING_THRESHOLD) {
    const parts = [...pieces];
    const whole = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    ids.push((await writer.save('data', whole)).id.toString('hex'));
    return ids;
  }
  for await (const chunk of chunkStream(pieces, chunker))
    ids.push((await writer.save('data', chunk)).id.toString('hex'));
  return ids;
}
