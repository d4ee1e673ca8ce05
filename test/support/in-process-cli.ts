// The CLI run inside the test's own process: the built bundle's main() (what bin/mailvault.js
// calls), given a terminal of its own, so that its output is captured and its environment is
// the one a spawned CLI would get. A process costs about 0.4 s of CPU to start and load the
// bundle; a suite runs the CLI over a thousand times. Tests that concern the process itself
// (signals, kills, exit within a deadline, memory, its environment) still spawn it.
import { Readable, Writable } from 'node:stream';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Terminal } from '../../src/cli/terminal.js';

type Main = (argv: string[], terminal: Terminal) => Promise<number>;

let loaded: Promise<Main> | undefined;

function bundledMain(checkout: string): Promise<Main> {
  loaded ??= (async () => {
    // The bundle, as the binary loads it: vitest.config.ts keeps dist/bundle out of its transform.
    const url = pathToFileURL(join(checkout, 'dist', 'bundle', 'main.js')).href;
    const bundle = (await import(/* @vite-ignore */ url)) as { main: Main };
    return bundle.main;
  })();
  return loaded;
}

/** A stream that keeps what is written to it. */
class Collected extends Writable {
  readonly isTTY = false;
  private readonly pieces: Buffer[] = [];

  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.pieces.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }

  text(): string {
    return Buffer.concat(this.pieces).toString('utf8');
  }
}

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runInProcess(
  checkout: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<InProcessRun> {
  const main = await bundledMain(checkout);
  const stdout = new Collected();
  const stderr = new Collected();
  // Nobody at it: no input, output to collectors, the environment a spawned CLI would get.
  const terminal: Terminal = {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env,
    cwd: process.cwd(),
    ownsStderr: false,
  };
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`mailvault ${args.join(' ')} did not end within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const stray = captureStrayOutput(stdout, stderr);
  try {
    const code = await Promise.race([main(args, terminal), late]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    clearTimeout(timer);
    stray.restore();
  }
}

/**
 * Whatever the run writes past its terminal, straight to this process's stdout or stderr, would
 * have been on the spawned CLI's: it is counted as the run's, so that a test asserting what a
 * command prints cannot pass because something went around the terminal. (Warnings Node prints
 * itself go through the console; the test of a clean stderr runs its CLI as a process.)
 */
const capturing = new Set<{ stdout: Collected; stderr: Collected }>();
let originalWrites: { stdout: typeof process.stdout.write; stderr: typeof process.stderr.write };

function captureStrayOutput(stdout: Collected, stderr: Collected): { restore(): void } {
  const run = { stdout, stderr };
  if (capturing.size === 0) {
    originalWrites = { stdout: process.stdout.write, stderr: process.stderr.write };
    for (const name of ['stdout', 'stderr'] as const) {
      const stream = process[name];
      const original = originalWrites[name];
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        for (const active of capturing)
          active[name].write(typeof chunk === 'string' ? chunk : Buffer.from(chunk));
        return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
    }
  }
  capturing.add(run);
  return {
    restore: () => {
      capturing.delete(run);
      if (capturing.size > 0) return;
      process.stdout.write = originalWrites.stdout;
      process.stderr.write = originalWrites.stderr;
    },
  };
}
