import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandFailedError } from '../../sources/commands/shell-command.js';
import { pipeIntoRestoreCommand, RestoreInputError } from './restore-command.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailvault-restore-command-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function* pieces(total: number, piece = 65536, fill = 0x61): AsyncGenerator<Buffer> {
  for (let at = 0; at < total; at += piece) yield Buffer.alloc(Math.min(piece, total - at), fill);
}

describe('a restore command', () => {
  it('gets the whole input on its standard input, with MAILVAULT_COMMAND set', async () => {
    const out = join(dir, 'out');
    const seen: number[] = [];
    const outcome = await pipeIntoRestoreCommand(
      { name: 'db', restore: `printf "%s" "$MAILVAULT_COMMAND" > ${out}.name; cat > ${out}` },
      pieces(5_000_000),
      { onBytes: (bytes) => seen.push(bytes) },
    );
    expect(outcome).toMatchObject({ bytes: 5_000_000, stoppedReading: false });
    expect(outcome.exit).toMatchObject({ code: 0, signal: null });
    expect(readFileSync(out).equals(Buffer.alloc(5_000_000, 0x61))).toBe(true);
    expect(readFileSync(`${out}.name`, 'utf8')).toBe('db');
    expect(seen.at(-1)).toBe(5_000_000);
  });

  it('fails on a non-zero exit, with the tail of its error output', async () => {
    const failure = await pipeIntoRestoreCommand(
      {
        name: 'db',
        restore: 'cat > /dev/null; echo "pg_restore: error: relation exists" >&2; exit 1',
      },
      pieces(100_000),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandFailedError);
    expect((failure as Error).message).toBe(
      'restore command of db exited with code 1: pg_restore: error: relation exists',
    );
  });

  it('fails with its own reason when it gives up before reading its input', async () => {
    const failure = await pipeIntoRestoreCommand(
      { name: 'db', restore: 'echo "could not connect" >&2; exit 2' },
      pieces(20_000_000),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandFailedError);
    expect((failure as Error).message).toBe(
      'restore command of db exited with code 2: could not connect',
    );
  });

  it('lets a command that stops reading and exits cleanly succeed, and says so', async () => {
    const outcome = await pipeIntoRestoreCommand(
      { name: 'db', restore: `head -c 10 > ${join(dir, 'head')}` },
      pieces(20_000_000),
    );
    expect(outcome.exit.code).toBe(0);
    expect(outcome.stoppedReading).toBe(true);
    expect(readFileSync(join(dir, 'head'), 'utf8')).toBe('aaaaaaaaaa');
  });

  it('is stopped, never given an end of file, when the input fails halfway', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield* pieces(1_000_000);
      throw new Error('object 1234 in pack 5678 is damaged');
    }
    const marker = join(dir, 'saw-end-of-file');
    const started = Date.now();
    const failure = await pipeIntoRestoreCommand(
      // A pipeline: stopping the shell alone would leave `cat` to see the end of its input.
      { name: 'db', restore: `cat | cat > ${join(dir, 'partial')}; touch ${marker}` },
      failing(),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RestoreInputError);
    const error = failure as RestoreInputError;
    expect(error.message).toBe(
      'reading the stored output of db failed after 1000000 bytes, and its restore command was stopped before the end of its input: object 1234 in pack 5678 is damaged',
    );
    expect(error.exit?.signal).toBe('SIGTERM');
    expect(existsSync(marker)).toBe(false);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('runs in the folder it is given', async () => {
    await pipeIntoRestoreCommand({ name: 'db', restore: 'cat > here' }, pieces(10), { cwd: dir });
    expect(readFileSync(join(dir, 'here'), 'utf8')).toBe('a'.repeat(10));
  });

  it('is stopped when it outlives its timeout, without an end of file, and fails saying so', async () => {
    const marker = join(dir, 'saw-end-of-file');
    const started = Date.now();
    const failure = await pipeIntoRestoreCommand(
      {
        name: 'db',
        // Waits for a lock, then would read the rest and take it for the whole dump.
        restore: `echo "waiting for a lock" >&2; sleep 30; cat > /dev/null; touch ${marker}`,
        timeout: { ms: 1_000, text: '1s', setting: 'commands[0].timeout' },
      },
      pieces(20_000_000),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandFailedError);
    expect((failure as Error).message).toBe(
      'restore command of db timed out after 1s (commands[0].timeout) and was stopped: waiting for a lock',
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(existsSync(marker)).toBe(false);
  });
});
