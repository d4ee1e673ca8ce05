import { createHash } from 'node:crypto';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readCommandTree } from '../command-output/command-tree.js';
import { temporaryRepository } from '../mailbox/test-repository.test-helper.js';
import type { Repository } from '../repository/repository.js';
import { readStreamBytes } from '../repository/stream-store.js';
import { commandJob } from './command-job.js';
import { SetFailedError } from './set-job.js';

let repository: Repository;
let reopen: () => Promise<Repository>;
let remove: () => void;
beforeEach(async () => {
  ({ repository, reopen, remove } = await temporaryRepository());
});
afterEach(() => remove());

const log = pino({ level: 'silent' });

/** Runs a job as the backup run does: the tree is usable once the writer has flushed. */
async function backup(line: string, timeout: string | number = '6h') {
  const writer = repository.writer({ workers: 0 });
  try {
    const result = await commandJob({ name: 'db', backup: line, timeout }, null, {
      index: 2,
    }).backup({
      repository,
      writer,
      log,
    });
    await writer.flush();
    return { result, stats: { ...writer.stats } };
  } finally {
    await writer.close();
  }
}

/** A few MB of "dump" whose lines change with `day`, deterministic. */
function dumpCommand(lines: number, changed: number): string {
  return `awk 'BEGIN { for (i = 0; i < ${lines}; i++) printf "%d\\tcustomer %d\\t%s\\n", i, i * 7919 % 100003, (i == ${changed} ? "changed" : "row data that fills the line up a little") }'`;
}

describe('the backup of a command', () => {
  it('stores the output as a chunked stream and returns its tree', async () => {
    const { result } = await backup(dumpCommand(100_000, -1));
    const fresh = await reopen();
    const tree = await readCommandTree(fresh, result.tree);
    expect(tree.command).toBe(dumpCommand(100_000, -1));
    expect(tree.exitCode).toBe(0);
    expect(Date.parse(tree.finished)).toBeGreaterThanOrEqual(Date.parse(tree.started));
    expect(result.time.toISOString()).toBe(tree.started);
    const bytes = await readStreamBytes(fresh, tree.stream);
    expect(bytes.length).toBe(tree.stream.size);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(tree.stream.sha256);
    expect(bytes.toString().split('\n')[1]).toBe(
      '1\tcustomer 7919\trow data that fills the line up a little',
    );
    expect(tree.stream.chunks.length).toBeGreaterThan(10);
    expect(result.summary).toMatchObject({
      items: 1,
      bytes: tree.stream.size,
      bytesRead: tree.stream.size,
      newItems: 1,
      chunks: tree.stream.chunks.length,
      newChunks: tree.stream.chunks.length,
    });
    expect(result.added.bytes).toBeGreaterThan(0);
    expect(result.failures).toEqual([]);
  });

  it('stores little more than what changed in the next dump', async () => {
    const first = await backup(dumpCommand(100_000, -1));
    const second = await backup(dumpCommand(100_000, 50_000));
    expect(second.result.summary.newChunks).toBeLessThanOrEqual(2);
    expect(second.stats.rawBytesAdded).toBeLessThan(first.stats.rawBytesAdded / 4);
  });

  it('keeps the error output of a command that succeeded', async () => {
    const { result } = await backup('echo dump; echo "pg_dump: warning: careful" >&2');
    const tree = await readCommandTree(repository, result.tree);
    expect(tree.stderrTail).toBe('pg_dump: warning: careful\n');
    expect(tree.stderrBytes).toBe(26);
  });

  it('fails the set when the command fails, naming the exit code and the error output', async () => {
    const failure = await backup('echo half a dump; echo "out of memory" >&2; exit 3').catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SetFailedError);
    expect((failure as Error).message).toBe('command db exited with code 3: out of memory');
  });

  it('stores an empty output as an empty stream', async () => {
    const { result } = await backup('true');
    const tree = await readCommandTree(repository, result.tree);
    expect(tree.stream).toMatchObject({ size: 0, chunks: [] });
    expect(result.summary).toMatchObject({ items: 1, bytes: 0, newItems: 0 });
  });

  it('keeps the parent for information', () => {
    const job = commandJob(
      { name: 'db', backup: 'true', timeout: '6h' },
      { id: 'abc', tree: 'def' },
    );
    expect(job).toMatchObject({ kind: 'command', source: 'commands', name: 'db', parent: 'abc' });
  });

  it('fails the set when the command outlives its timeout, naming the setting', async () => {
    const started = Date.now();
    const failure = await backup('echo "half a dump"; sleep 30', '1s').catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(SetFailedError);
    expect((failure as Error).message).toBe(
      'command db timed out after 1s (commands[2].timeout) and was stopped (no error output)',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
