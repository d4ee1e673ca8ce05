import type { ByteTally, ObjectWriter } from '../repository/object-writer.js';
import type { Repository } from '../repository/repository.js';
import type { StoredStream } from '../repository/stream-store.js';

/**
 * The root tree of a 'command' snapshot: what a backup command wrote on its standard output (a
 * database dump, say), stored as a chunked stream, with how the command ran. Only clean runs
 * (exit code 0) become snapshots, so a failed dump never replaces the last good one.
 */
export interface CommandTree {
  v: 1;
  /** The backup command line as configured, run by /bin/sh -c. */
  command: string;
  /** Always 0 in a stored snapshot; recorded so that a reader need not assume it. */
  exitCode: number;
  /** When the command started and finished (ISO 8601, UTC). */
  started: string;
  finished: string;
  /** Its standard output. */
  stream: StoredStream;
  /** The last 8 KiB or so of its error output (warnings of a run that succeeded). */
  stderrTail: string;
  /** Bytes of error output in all (more than the tail holds when it was cut). */
  stderrBytes: number;
}

export async function writeCommandTree(
  writer: ObjectWriter,
  tree: CommandTree,
  tally?: ByteTally,
): Promise<string> {
  const saved = await writer.save('tree', Buffer.from(JSON.stringify(tree)), tally);
  return saved.id.toString('hex');
}

const HEX_ID = /^[0-9a-f]{64}$/;

/** Reads and checks a command tree; one of a newer version is refused, not misread. */
export async function readCommandTree(repository: Repository, id: string): Promise<CommandTree> {
  const tree = await repository.readTree<Partial<CommandTree>>(Buffer.from(id, 'hex'));
  if (tree.v !== 1)
    throw new Error(
      `command tree ${id}: unsupported version ${String(tree.v)} (upgrade mailvault)`,
    );
  const stream = tree.stream;
  const malformed = (what: string): Error => new Error(`command tree ${id} is malformed: ${what}`);
  if (typeof tree.command !== 'string') throw malformed('no command');
  if (!stream || typeof stream !== 'object') throw malformed('no stream');
  if (!Number.isSafeInteger(stream.size) || stream.size < 0) throw malformed('bad stream size');
  if (typeof stream.sha256 !== 'string' || !HEX_ID.test(stream.sha256))
    throw malformed('bad stream SHA-256');
  if (!Array.isArray(stream.chunks) || !stream.chunks.every((chunk) => HEX_ID.test(chunk)))
    throw malformed('bad chunk list');
  return {
    v: 1,
    command: tree.command,
    exitCode: typeof tree.exitCode === 'number' ? tree.exitCode : 0,
    started: typeof tree.started === 'string' ? tree.started : '',
    finished: typeof tree.finished === 'string' ? tree.finished : '',
    stream: { size: stream.size, sha256: stream.sha256, chunks: stream.chunks },
    stderrTail: typeof tree.stderrTail === 'string' ? tree.stderrTail : '',
    stderrBytes: typeof tree.stderrBytes === 'number' ? tree.stderrBytes : 0,
  };
}

/**
 * The data objects a command tree references (each chunk id once): what `check` must find in the
 * index and `prune` must keep for this snapshot.
 */
export function commandTreeObjects(tree: CommandTree): string[] {
  return [...new Set(tree.stream.chunks)];
}
