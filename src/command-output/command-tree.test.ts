import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import {
  commandTreeObjects,
  readCommandTree,
  writeCommandTree,
  type CommandTree,
} from './command-tree.js';

let repository: Repository;
let remove: () => void;
beforeEach(async () => {
  ({ repository, remove } = await temporaryRepository());
});
afterEach(() => remove());

async function saveTree(content: unknown): Promise<string> {
  const writer = repository.writer({ workers: 0 });
  const id = (await writer.save('tree', Buffer.from(JSON.stringify(content)))).id.toString('hex');
  await writer.flush();
  await writer.close();
  return id;
}

const tree: CommandTree = {
  v: 1,
  command: 'pg_dump -Fc groupware',
  exitCode: 0,
  started: '2026-11-22T01:00:00.000Z',
  finished: '2026-11-22T01:00:42.000Z',
  stream: {
    size: 0,
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    chunks: [],
  },
  stderrTail: 'pg_dump: warning: something\n',
  stderrBytes: 29,
};

describe('command trees', () => {
  it('are written and read back as they were', async () => {
    const writer = repository.writer({ workers: 0 });
    const tally = { bytes: 0 };
    const id = await writeCommandTree(writer, tree, tally);
    await writer.flush();
    await writer.close();
    expect(tally.bytes).toBeGreaterThan(0);
    expect(await readCommandTree(repository, id)).toEqual(tree);
  });

  it('refuse a newer version instead of misreading it', async () => {
    const id = await saveTree({ ...tree, v: 2 });
    await expect(readCommandTree(repository, id)).rejects.toThrow(
      `command tree ${id}: unsupported version 2 (upgrade mailvault)`,
    );
  });

  it('refuse a tree without a usable stream', async () => {
    const id = await saveTree({ ...tree, stream: { size: 3, sha256: 'x', chunks: [] } });
    await expect(readCommandTree(repository, id)).rejects.toThrow(/malformed: bad stream SHA-256/);
    const other = await saveTree({ ...tree, stream: { ...tree.stream, chunks: ['zz'] } });
    await expect(readCommandTree(repository, other)).rejects.toThrow(/malformed: bad chunk list/);
  });

  it('ignore members they do not know', async () => {
    const id = await saveTree({ ...tree, futureMember: { anything: true } });
    expect(await readCommandTree(repository, id)).toEqual(tree);
  });

  it('name the chunks they reference, each once', () => {
    const a = 'a'.repeat(64);
    const b = 'b'.repeat(64);
    expect(commandTreeObjects({ ...tree, stream: { ...tree.stream, chunks: [a, b, a] } })).toEqual([
      a,
      b,
    ]);
  });
});
