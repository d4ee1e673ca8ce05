import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandTree } from '../command-output/command-tree.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { storeStream, StreamIntegrityError } from '../repository/stream-store.js';
import { RestoreInputError } from '../targets/commands/restore-command.js';
import { restoreCommandOutput } from './command-restore.js';

let repository: Repository;
let remove: () => void;
let dir: string;
const bytes = randomBytes(3 * 1024 * 1024);
beforeEach(async () => {
  ({ repository, remove } = await temporaryRepository());
  dir = mkdtempSync(join(tmpdir(), 'mailvault-command-restore-'));
});
afterEach(() => {
  remove();
  rmSync(dir, { recursive: true, force: true });
});

async function storedTree(): Promise<CommandTree> {
  const writer = repository.writer({ workers: 0 });
  async function* source(): AsyncGenerator<Buffer> {
    for (let at = 0; at < bytes.length; at += 65536) yield bytes.subarray(at, at + 65536);
  }
  const stored = await storeStream(repository, writer, source());
  await writer.flush();
  await writer.close();
  return {
    v: 1,
    command: 'dump',
    exitCode: 0,
    started: new Date().toISOString(),
    finished: new Date().toISOString(),
    stream: { size: stored.size, sha256: stored.sha256, chunks: stored.chunks },
    stderrTail: '',
    stderrBytes: 0,
  };
}

/** A restore command that records whether it ever saw the end of its input. */
function recorder() {
  const out = join(dir, 'restored');
  const marker = join(dir, 'saw-end-of-file');
  return {
    out,
    marker,
    command: { name: 'db', restore: `cat > ${out} && touch ${marker}` },
  };
}

describe('restoring a command output', () => {
  it('feeds the exact bytes to the restore command, verified first', async () => {
    const tree = await storedTree();
    const { out, marker, command } = recorder();
    const phases = new Set<string>();
    const outcome = await restoreCommandOutput({
      repository,
      tree,
      target: { kind: 'command', command },
      verifyFirst: true,
      onProgress: (phase) => phases.add(phase),
    });
    expect(outcome).toMatchObject({
      bytes: bytes.length,
      sha256: tree.stream.sha256,
      verifiedFirst: true,
      stoppedReading: false,
    });
    expect(outcome.exit?.code).toBe(0);
    expect(readFileSync(out).equals(bytes)).toBe(true);
    expect(existsSync(marker)).toBe(true);
    expect([...phases]).toEqual(['verify', 'restore']);
  });

  it('never starts the restore command when the stored output is damaged', async () => {
    const tree = await storedTree();
    const middle = Math.floor(tree.stream.chunks.length / 2);
    const damaged = structuredClone(tree);
    damaged.stream.chunks[middle] = randomBytes(32).toString('hex');
    const { out, command } = recorder();
    await expect(
      restoreCommandOutput({
        repository,
        tree: damaged,
        target: { kind: 'command', command },
        verifyFirst: true,
      }),
    ).rejects.toThrow(/is not in the repository index/);
    expect(existsSync(out)).toBe(false);

    const wrongSum = { ...tree, stream: { ...tree.stream, sha256: '0'.repeat(64) } };
    await expect(
      restoreCommandOutput({
        repository,
        tree: wrongSum,
        target: { kind: 'command', command },
        verifyFirst: true,
      }),
    ).rejects.toBeInstanceOf(StreamIntegrityError);
    expect(existsSync(out)).toBe(false);
  });

  it('without the first pass, stops the command (no end of file) when damage is reached', async () => {
    const tree = await storedTree();
    const wrongSum = { ...tree, stream: { ...tree.stream, sha256: '0'.repeat(64) } };
    const { marker, command } = recorder();
    const failure = await restoreCommandOutput({
      repository,
      tree: wrongSum,
      target: { kind: 'command', command },
      verifyFirst: false,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RestoreInputError);
    expect((failure as Error).cause).toBeInstanceOf(StreamIntegrityError);
    expect(existsSync(marker)).toBe(false);
  });

  it('writes a file whole, or not at all', async () => {
    const tree = await storedTree();
    const path = join(dir, 'db.dump');
    const outcome = await restoreCommandOutput({
      repository,
      tree,
      target: { kind: 'file', path },
      verifyFirst: false,
    });
    expect(outcome).toMatchObject({ bytes: bytes.length, exit: null, verifiedFirst: false });
    expect(readFileSync(path).equals(bytes)).toBe(true);

    const other = join(dir, 'damaged.dump');
    await expect(
      restoreCommandOutput({
        repository,
        tree: { ...tree, stream: { ...tree.stream, sha256: '0'.repeat(64) } },
        target: { kind: 'file', path: other },
        verifyFirst: false,
      }),
    ).rejects.toBeInstanceOf(StreamIntegrityError);
    expect(existsSync(other)).toBe(false);
  });
});
