import { createHash } from 'node:crypto';
import type { Chunker } from '../chunking/fastcdc.js';
import { summarizeHeader, type HeaderSummary } from '../mime/header-summary.js';
import {
  encodeBase64Lines,
  segmentBytes,
  splitMessage,
  type Segment,
} from '../mime/message-layout.js';
import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { Recipe, RecipePart, SealedRef } from './assembly/recipe.js';
import { checkVersion } from './tree-version.js';

/**
 * How one message is stored. Its header block is one data object (it is what differs between
 * copies of the same mail delivered to many mailboxes). Its body is a tree object listing
 * segments: small structural bytes inline, and each larger part's content as content-defined
 * chunks, base64 parts decoded (with what it takes to re-encode them exactly), so that the same
 * attachment forwarded many times is stored once. The manifest ties them together with the
 * message's size, SHA-256 and a summary for browsing.
 */
export interface MessageManifest {
  v: 1;
  size: number;
  sha256: string;
  header: string;
  body: string | null;
  summary: HeaderSummary;
}

export type BodySegment =
  | { t: 'l'; b: string }
  | { t: 'c'; size: number; chunks: string[] }
  | { t: 'b'; size: number; chunks: string[]; line: number; eol: 'crlf' | 'lf'; trailer: string };

export interface BodyManifest {
  v: 1;
  segments: BodySegment[];
}

/** Parts smaller than this stay inline in the body tree: an object of their own would cost more than it saves. */
export const INLINE_LIMIT = 2048;
/** Parts at least this large are cut by content-defined chunking; smaller ones are one object. */
export const CHUNKING_THRESHOLD = 1024 * 1024;
/** The header object holds at most this much; the rest of an oversized "header" is body content. */
export const HEADER_LIMIT = 256 * 1024;

export interface StoredMessage {
  manifest: string;
  sha256: string;
  summary: HeaderSummary;
}

export class MessageIntegrityError extends Error {
  constructor(what: string) {
    super(what);
    this.name = 'MessageIntegrityError';
  }
}

/** Stores a message; the bytes it adds to the repository reach `tally` once they are sealed. */
export async function storeMessage(
  objects: ObjectWriter,
  chunker: Chunker,
  raw: Buffer,
  tally?: ByteTally,
): Promise<StoredMessage> {
  const writer = {
    save: (type: 'data' | 'tree', bytes: Uint8Array) => objects.save(type, bytes, tally),
  };
  const sha256 = createHash('sha256').update(raw).digest('hex');
  // splitMessage checks that its layout gives back exactly these bytes (and keeps the body whole
  // when it would not), so what is stored below reassembles byte for byte.
  let layout = splitMessage(raw);
  const summary = summarizeHeader(layout.header);
  if (layout.header.length > HEADER_LIMIT) {
    // A message without a blank line is all header to a parser; keep objects of a sane size.
    const header = layout.header;
    layout = {
      header: header.subarray(0, HEADER_LIMIT),
      body: [{ kind: 'content', bytes: header.subarray(HEADER_LIMIT) }, ...layout.body],
    };
  }
  const header = await writer.save('data', layout.header);
  const segments: BodySegment[] = [];
  for (const segment of layout.body) segments.push(await storeSegment(writer, chunker, segment));
  return saveManifest(writer, {
    size: raw.length,
    sha256,
    header: header.id.toString('hex'),
    segments,
    summary,
  });
}

/**
 * Writes a message's body tree (literals merged) and its manifest: the last step of storing a
 * message, whether it was held in memory or spooled (spooled-message-store.ts).
 */
export async function saveManifest(
  writer: Saver,
  parts: {
    size: number;
    sha256: string;
    header: string;
    segments: BodySegment[];
    summary: HeaderSummary;
  },
): Promise<StoredMessage> {
  const { size, sha256, header, segments, summary } = parts;
  let body: string | null = null;
  if (segments.length > 0) {
    const tree: BodyManifest = { v: 1, segments: mergeLiterals(segments) };
    body = (await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id.toString('hex');
  }
  const manifest: MessageManifest = { v: 1, size, sha256, header, body, summary };
  const saved = await writer.save('tree', Buffer.from(JSON.stringify(manifest)));
  return { manifest: saved.id.toString('hex'), sha256, summary };
}

export function inline(bytes: Uint8Array): BodySegment {
  return { t: 'l', b: Buffer.from(bytes).toString('base64') };
}

export type Saver = Pick<ObjectWriter, 'save'>;

async function storeSegment(
  writer: Saver,
  chunker: Chunker,
  segment: Segment,
): Promise<BodySegment> {
  if (segment.kind === 'literal') return inline(segment.bytes);
  if (segment.kind === 'content') {
    if (segment.bytes.length < INLINE_LIMIT) return inline(segment.bytes);
    return {
      t: 'c',
      size: segment.bytes.length,
      chunks: await saveChunks(writer, chunker, segment.bytes),
    };
  }
  if (segment.decoded.length < INLINE_LIMIT) return inline(segmentBytes(segment));
  return {
    t: 'b',
    size: segment.decoded.length,
    chunks: await saveChunks(writer, chunker, segment.decoded),
    line: segment.lineLength,
    eol: segment.eol,
    trailer: Buffer.from(segment.trailer).toString('base64'),
  };
}

async function saveChunks(writer: Saver, chunker: Chunker, bytes: Uint8Array): Promise<string[]> {
  const ids: string[] = [];
  // A mail part is immutable: the same attachment comes back whole, not edited. Content-defined
  // chunking only pays for large parts (and keeps objects small); smaller ones are one object.
  const chunks = bytes.length < CHUNKING_THRESHOLD ? [bytes] : chunker.split(bytes);
  for (const chunk of chunks) ids.push((await writer.save('data', chunk)).id.toString('hex'));
  return ids;
}

function mergeLiterals(segments: BodySegment[]): BodySegment[] {
  const merged: BodySegment[] = [];
  for (const segment of segments) {
    const last = merged[merged.length - 1];
    if (segment.t === 'l' && last?.t === 'l') {
      last.b = Buffer.concat([
        Buffer.from(last.b, 'base64'),
        Buffer.from(segment.b, 'base64'),
      ]).toString('base64');
    } else {
      merged.push(segment);
    }
  }
  return merged;
}

export async function readManifest(
  repository: Repository,
  manifest: string,
): Promise<MessageManifest> {
  return checkVersion(
    await repository.readTree<MessageManifest>(Buffer.from(manifest, 'hex')),
    'message manifest',
    manifest,
  );
}

export async function readBody(repository: Repository, id: string): Promise<BodyManifest> {
  return checkVersion(
    await repository.readTree<BodyManifest>(Buffer.from(id, 'hex')),
    'body manifest',
    id,
  );
}

/** Every object a message needs, manifest first: what check and prune follow. */
export async function messageObjects(
  repository: Repository,
  manifestId: string,
): Promise<string[]> {
  const manifest = await readManifest(repository, manifestId);
  const ids = [manifestId, manifest.header];
  if (manifest.body) {
    ids.push(manifest.body);
    const body = await readBody(repository, manifest.body);
    for (const segment of body.segments) if (segment.t !== 'l') ids.push(...segment.chunks);
  }
  return ids;
}

/** Reassembles a message's exact bytes and checks them against the SHA-256 taken at backup. */
export async function loadMessage(repository: Repository, manifestId: string): Promise<Buffer> {
  const parts = await loadMessageParts(repository, manifestId);
  return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
}

/**
 * The first `limit` bytes of a message (all of it when shorter), reading only the objects they
 * come from: what the search index reads of a large message. Unlike loadMessage, nothing checks
 * them against the message's SHA-256 (that takes every byte).
 */
export async function loadMessagePrefix(
  repository: Repository,
  manifestId: string,
  limit: number,
): Promise<Buffer> {
  const manifest = await readManifest(repository, manifestId);
  const parts: Buffer[] = [await repository.readObject(Buffer.from(manifest.header, 'hex'))];
  let size = parts[0]?.length ?? 0;
  if (manifest.body && size < limit) {
    const body = await readBody(repository, manifest.body);
    for (const segment of body.segments) {
      if (size >= limit) break;
      const part = await loadSegmentPrefix(repository, segment, limit - size);
      parts.push(part);
      size += part.length;
    }
  }
  const whole = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  return whole.subarray(0, limit);
}

/** At least the first `want` bytes of a segment as stored in a message (all of it if shorter). */
async function loadSegmentPrefix(
  repository: Repository,
  segment: BodySegment,
  want: number,
): Promise<Buffer> {
  if (segment.t === 'l') return Buffer.from(segment.b, 'base64');
  // Decoded bytes needed: 3 for every 4 characters, with a group to spare for the line breaks
  // counted in `want`; a base64 prefix of whole groups encodes as the start of the whole.
  const need = segment.t === 'c' ? want : Math.ceil(want / 4) * 3 + 3;
  const chunks: Buffer[] = [];
  let have = 0;
  for (const id of segment.chunks) {
    if (have >= need) break;
    const chunk = await repository.readObject(Buffer.from(id, 'hex'));
    chunks.push(chunk);
    have += chunk.length;
  }
  const content = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  if (segment.t === 'c') return content;
  if (content.length >= segment.size) {
    const parts: Buffer[] = [];
    await loadSegment(repository, { ...segment, chunks: [] }, parts, content);
    return Buffer.concat(parts);
  }
  const whole = content.subarray(0, content.length - (content.length % 3));
  const encoded = encodeBase64Lines(whole, segment.line, segment.eol);
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/**
 * The same, as the pieces the message is made of, for whoever writes them out without needing
 * them in one buffer (a restore's APPEND): one copy of every message less.
 */
export async function loadMessageParts(
  repository: Repository,
  manifestId: string,
): Promise<Buffer[]> {
  const manifest = await readManifest(repository, manifestId);
  const parts: Buffer[] = [await repository.readObject(Buffer.from(manifest.header, 'hex'))];
  if (manifest.body) {
    const body = await readBody(repository, manifest.body);
    for (const segment of body.segments) await loadSegment(repository, segment, parts);
  }
  const hash = createHash('sha256');
  let size = 0;
  for (const part of parts) {
    hash.update(part);
    size += part.length;
  }
  if (size !== manifest.size || hash.digest('hex') !== manifest.sha256) {
    throw new MessageIntegrityError(
      `message ${manifest.sha256} does not match the checksum taken at backup`,
    );
  }
  return parts;
}

async function loadSegment(
  repository: Repository,
  segment: BodySegment,
  parts: Buffer[],
  /** A base64 segment's decoded bytes when already read. */
  read?: Buffer,
): Promise<void> {
  if (segment.t === 'l') {
    parts.push(Buffer.from(segment.b, 'base64'));
    return;
  }
  const chunks: Buffer[] = read ? [read] : [];
  for (const id of segment.chunks) chunks.push(await repository.readObject(Buffer.from(id, 'hex')));
  if (segment.t === 'c') {
    parts.push(...chunks);
    return;
  }
  const content = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  const encoded = encodeBase64Lines(content, segment.line, segment.eol);
  parts.push(Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength));
  if (segment.trailer) parts.push(Buffer.from(segment.trailer, 'base64'));
}

/** Copies bytes into an ArrayBuffer of their own, which can move to a worker thread. */
function own(bytes: Uint8Array): ArrayBuffer {
  return new Uint8Array(bytes).buffer;
}

/**
 * A message's recipe (see assembly/recipe.ts): its trees read and parsed here, its data objects
 * gathered still sealed, for an assembler to open and join elsewhere.
 */
export async function messageRecipe(repository: Repository, manifestId: string): Promise<Recipe> {
  const manifest = await readManifest(repository, manifestId);
  const sealed = async (id: string): Promise<SealedRef> => {
    const bytes = Buffer.from(id, 'hex');
    return { id: own(bytes), sealed: own(await repository.readSealed(bytes)) };
  };
  const parts: RecipePart[] = [{ t: 'o', objects: [await sealed(manifest.header)] }];
  if (manifest.body) {
    for (const segment of (await readBody(repository, manifest.body)).segments) {
      if (segment.t === 'l') parts.push({ t: 'l', bytes: own(Buffer.from(segment.b, 'base64')) });
      else {
        const objects = await Promise.all(segment.chunks.map(sealed));
        if (segment.t === 'c') parts.push({ t: 'o', objects });
        else
          parts.push({
            t: 'b',
            objects,
            line: segment.line,
            eol: segment.eol,
            trailer: own(Buffer.from(segment.trailer, 'base64')),
          });
      }
    }
  }
  return { parts, size: manifest.size, sha256: manifest.sha256 };
}
