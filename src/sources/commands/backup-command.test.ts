import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withBackupCommand } from './backup-command.js';
import { CommandFailedError, CommandStartError } from './shell-command.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailvault-command-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function collect(output: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of output) parts.push(part);
  return Buffer.concat(parts);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a backup command', () => {
  it('yields its standard output exactly, through the shell, with MAILVAULT_COMMAND set', async () => {
    const { value, exit } = await withBackupCommand(
      {
        name: 'db',
        backup: 'printf "%s|" "$MAILVAULT_COMMAND"; head -c 300000 /dev/zero | tr "\\0" x',
      },
      collect,
    );
    expect(value.toString('latin1')).toBe(`db|${'x'.repeat(300_000)}`);
    expect(exit).toMatchObject({ code: 0, signal: null, stderrTail: '', stderrBytes: 0 });
    expect(exit.finished.getTime()).toBeGreaterThanOrEqual(exit.started.getTime());
  });

  it('does not pass the repository passphrase on', async () => {
    process.env.MAILVAULT_PASSWORD = 'secret';
    try {
      const { value } = await withBackupCommand(
        { name: 'env', backup: 'printf "[%s]" "${MAILVAULT_PASSWORD-unset}"' },
        collect,
      );
      expect(value.toString()).toBe('[unset]');
    } finally {
      delete process.env.MAILVAULT_PASSWORD;
    }
  });

  it('runs in the folder it is given, with /dev/null as its input', async () => {
    const { value } = await withBackupCommand({ name: 'here', backup: 'pwd; wc -c' }, collect, {
      cwd: dir,
    });
    expect(
      value
        .toString()
        .split('\n')
        .map((line) => line.trim()),
    ).toEqual([dir, '0', '']);
  });

  it('fails with the exit code and the tail of its error output, after its output was read', async () => {
    let read = 0;
    const failure = await withBackupCommand(
      {
        name: 'db',
        backup:
          'echo partial; echo "first line" >&2; echo "pg_dump: error: connection refused" >&2; exit 3',
      },
      async (output) => {
        read = (await collect(output)).length;
      },
    ).catch((error: unknown) => error);
    expect(read).toBe('partial\n'.length);
    expect(failure).toBeInstanceOf(CommandFailedError);
    const error = failure as CommandFailedError;
    expect(error.exit.code).toBe(3);
    expect(error.message).toBe(
      'command db exited with code 3; its error output ends with:\n    first line\n    pg_dump: error: connection refused',
    );
  });

  it('says so when a failed command wrote no error output, and names a signal', async () => {
    await expect(withBackupCommand({ name: 'quiet', backup: 'exit 7' }, collect)).rejects.toThrow(
      'command quiet exited with code 7 (no error output)',
    );
    await expect(
      withBackupCommand({ name: 'killed', backup: 'echo dying >&2; kill -9 $$' }, collect),
    ).rejects.toThrow('command killed was killed by SIGKILL: dying');
  });

  it('keeps only the last 8 KiB of a long error output', async () => {
    const failure = (await withBackupCommand(
      {
        name: 'noisy',
        backup:
          'i=0; while [ $i -lt 2000 ]; do echo "warning number $i" >&2; i=$((i+1)); done; exit 1',
      },
      collect,
    ).catch((error: unknown) => error)) as CommandFailedError;
    expect(failure.exit.stderrBytes).toBeGreaterThan(30_000);
    expect(Buffer.byteLength(failure.exit.stderrTail)).toBeLessThanOrEqual(8 * 1024);
    expect(failure.exit.stderrTail.endsWith('warning number 1999\n')).toBe(true);
    // The message quotes the last lines, not all 8 KiB.
    expect(failure.message.split('\n').length).toBeLessThanOrEqual(21);
    expect(failure.message).toContain('warning number 1999');
  });

  it('waits in its write while the consumer is busy, so nothing piles up in memory', async () => {
    const marker = join(dir, 'finished');
    const { value } = await withBackupCommand(
      { name: 'big', backup: `head -c 20000000 /dev/zero; touch ${marker}` },
      async (output) => {
        const hash = createHash('sha256');
        let bytes = 0;
        let paused = false;
        for await (const part of output) {
          hash.update(part);
          bytes += part.length;
          if (!paused) {
            paused = true;
            // The repository is busy: the command cannot get far ahead of what was read.
            await sleep(300);
            expect(existsSync(marker)).toBe(false);
          }
        }
        return { bytes, sha256: hash.digest('hex') };
      },
    );
    expect(value.bytes).toBe(20_000_000);
    expect(value.sha256).toBe(createHash('sha256').update(Buffer.alloc(20_000_000)).digest('hex'));
    expect(existsSync(marker)).toBe(true);
  });

  it('stops the command when the output cannot be stored, and passes the error on', async () => {
    const started = Date.now();
    const failure = await withBackupCommand(
      { name: 'endless', backup: 'yes mailvault' },
      async (output) => {
        for await (const part of output) {
          void part;
          throw new Error('repository full');
        }
      },
    ).catch((error: unknown) => error);
    expect((failure as Error).message).toBe('repository full');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('reports a command that cannot be started', async () => {
    const failure = await withBackupCommand({ name: 'lost', backup: 'true' }, collect, {
      cwd: join(dir, 'missing'),
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(CommandStartError);
    expect((failure as Error).message).toMatch(/^command lost could not be started: /);
  });

  it('gives an empty output as an empty stream', async () => {
    const { value } = await withBackupCommand({ name: 'nothing', backup: 'true' }, collect);
    expect(value.length).toBe(0);
  });

  describe('that outlives its timeout', () => {
    const second = { ms: 1_000, text: '1s', setting: 'commands[0].timeout' };

    it('is stopped with everything it started, and fails saying so', async () => {
      const marker = join(dir, 'finished');
      const started = Date.now();
      let read = '';
      const failure = await withBackupCommand(
        {
          name: 'hangs',
          backup: `echo "part of a dump"; echo "waiting for a lock" >&2; sleep 30 | cat; touch ${marker}`,
          timeout: second,
        },
        async (output) => {
          read = (await collect(output)).toString();
        },
      ).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(CommandFailedError);
      expect((failure as Error).message).toBe(
        'command hangs timed out after 1s (commands[0].timeout) and was stopped: waiting for a lock',
      );
      expect((failure as CommandFailedError).exit.timedOut).toEqual(second);
      expect(read).toBe('part of a dump\n');
      expect(Date.now() - started).toBeLessThan(5_000);
      await sleep(200);
      expect(existsSync(marker)).toBe(false);
    });

    it('fails even when it exits 0 on SIGTERM', async () => {
      await expect(
        withBackupCommand(
          { name: 'polite', backup: 'trap "exit 0" TERM; sleep 30 & wait', timeout: second },
          collect,
        ),
      ).rejects.toThrow('command polite timed out after 1s (commands[0].timeout) and was stopped');
    });

    it('is killed when it ignores SIGTERM', async () => {
      const failure = await withBackupCommand(
        { name: 'stubborn', backup: 'trap "" TERM; sleep 30', timeout: { ms: 500, text: '500ms' } },
        collect,
      ).catch((error: unknown) => error);
      expect((failure as Error).message).toBe(
        'command stubborn timed out after 500ms and was killed (it did not stop on SIGTERM) (no error output)',
      );
    }, 15_000);

    it('runs as long as it needs with a timeout of 0', async () => {
      const { value } = await withBackupCommand(
        { name: 'slow', backup: 'sleep 1; echo done', timeout: { ms: 0, text: '0' } },
        collect,
      );
      expect(value.toString()).toBe('done\n');
    });
  });
});
