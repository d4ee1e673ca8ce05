// Node sets file times from seconds in a double, and libuv truncates them to the microsecond on
// their way to utimensat (nodejs/node#50859, libuv/libuv#4841): no fs function of Node 20, 22 or
// 24 can set a backed-up time to the nanosecond. GNU touch can (`-d @SECONDS.NANOSECONDS` goes to
// utimensat as written), so the entries whose time has nanoseconds below the microsecond are
// given to it at the end of a restore: one xargs process for all of them, which runs touch for
// each entry without a shell (paths travel NUL-separated, never through a shell's parsing). What
// still differs afterwards (no touch here, a file system without nanoseconds) keeps the
// microsecond Node set, and is said.
import { spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';

const NS_PER_SECOND = 1_000_000_000n;

/** Whether Node alone sets this time exactly: it has nothing below the microsecond. */
export function settableByNode(ns: bigint): boolean {
  return ns % 1000n === 0n;
}

/** `@SECONDS.NANOSECONDS`, as touch -d reads it (times before 1970 are left to Node). */
export function touchTime(ns: bigint): string {
  const fraction = String(ns % NS_PER_SECOND).padStart(9, '0');
  return `@${ns / NS_PER_SECOND}.${fraction}`;
}

/**
 * Sets each path's access and modification times (not following a symlink) to its time in
 * nanoseconds. Returns the paths whose time still differs, with why.
 */
export async function setExactTimes(
  entries: ReadonlyArray<{ path: string; mtimeNs: bigint }>,
): Promise<{ inexact: string[]; reason: string | null }> {
  const wanted = entries.filter((entry) => entry.mtimeNs > 0n && !settableByNode(entry.mtimeNs));
  if (wanted.length === 0) return { inexact: [], reason: null };
  const reason = await runTouch(wanted);
  const inexact: string[] = [];
  for (const entry of wanted) {
    const stats = await lstat(entry.path, { bigint: true }).catch(() => null);
    if (stats && stats.mtimeNs !== entry.mtimeNs) inexact.push(entry.path);
  }
  return { inexact, reason: inexact.length > 0 ? (reason ?? 'touch left them') : null };
}

/** Runs `touch -h -c -d TIME -- PATH` for each entry through one xargs; returns what failed. */
function runTouch(
  entries: ReadonlyArray<{ path: string; mtimeNs: bigint }>,
): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('xargs', ['-0', '-n', '4', 'touch', '-h', '-c'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      if (stderr.length < 2000) stderr += text;
    });
    child.on('error', (error) => resolve(`xargs and touch cannot be run: ${error.message}`));
    child.on('close', (code) => {
      const first = stderr.trim().split('\n')[0] ?? '';
      resolve(code === 0 ? null : `touch failed${first ? `: ${first}` : ` (exit ${code})`}`);
    });
    child.stdin.on('error', () => undefined); // a child that died is reported by 'close'
    for (const entry of entries)
      child.stdin.write(`-d\0${touchTime(entry.mtimeNs)}\0--\0${entry.path}\0`);
    child.stdin.end();
  });
}
