import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

/**
 * A configured command line (a database dump, or the restore that reads it back) run by
 * `/bin/sh -c`, as the administrator wrote it in the configuration: pipes, redirections and
 * environment variables work as they would in a shell script.
 */

/** How much of a command's error output is kept: its last lines say why it failed. */
export const STDERR_TAIL_BYTES = 8 * 1024;

/** Lines of the kept tail quoted in an error message (all of it stays in the report). */
const MESSAGE_LINES = 20;
const MESSAGE_CHARS = 2_000;

/** Keeps the last STDERR_TAIL_BYTES bytes of a stream, however long it runs. */
export class OutputTail {
  private parts: Buffer[] = [];
  private kept = 0;
  /** Bytes seen in all. */
  total = 0;

  push(chunk: Buffer): void {
    this.total += chunk.length;
    this.parts.push(chunk);
    this.kept += chunk.length;
    for (let first = this.parts[0]; first && this.kept - first.length >= STDERR_TAIL_BYTES;) {
      this.parts.shift();
      this.kept -= first.length;
      first = this.parts[0];
    }
  }

  /** The kept bytes as text; a character cut in two at the start is dropped. */
  text(): string {
    let bytes = Buffer.concat(this.parts);
    if (bytes.length > STDERR_TAIL_BYTES) {
      bytes = bytes.subarray(bytes.length - STDERR_TAIL_BYTES);
      let start = 0;
      while (start < 4 && start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
      bytes = bytes.subarray(start);
    }
    return bytes.toString('utf8');
  }
}

/** How long a command may run before it is taken to hang and stopped. */
export interface CommandTimeout {
  ms: number;
  /** As configured, for messages: "6h". */
  text: string;
  /** Where it is configured, for messages: "commands[0].timeout". */
  setting?: string;
}

/** How a command ended. */
export interface CommandExit {
  /** Exit status, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The timeout that stopped it, when it ran too long. */
  timedOut: CommandTimeout | null;
  /** The last STDERR_TAIL_BYTES bytes of its error output. */
  stderrTail: string;
  /** Bytes of error output in all. */
  stderrBytes: number;
  started: Date;
  finished: Date;
}

/**
 * A command stopped by its timeout has failed even when it exits 0 on SIGTERM: its output is
 * whatever it had written by then.
 */
export function exitedCleanly(exit: CommandExit): boolean {
  return exit.code === 0 && exit.signal === null && exit.timedOut === null;
}

/** The last lines of an error output, for a message. */
export function lastLines(text: string): string[] {
  const lines = text.replace(/\s+$/, '').split(/\r?\n/);
  const kept = lines.slice(-MESSAGE_LINES);
  let chars = 0;
  let from = kept.length;
  while (from > 0 && chars + (kept[from - 1]?.length ?? 0) <= MESSAGE_CHARS) {
    chars += (kept[from - 1]?.length ?? 0) + 1;
    from--;
  }
  const result = kept.slice(from);
  // A single line longer than the limit: its end.
  if (result.length === 0 && kept.length > 0)
    return [`…${(kept.at(-1) ?? '').slice(-MESSAGE_CHARS)}`];
  return result.filter((line, i) => line !== '' || i > 0);
}

/** "command db exited with code 3: pg_dump: error: …", with the error output's last lines. */
export function describeExit(what: string, exit: CommandExit): string {
  const how = exit.timedOut ? describeTimeout(exit.timedOut, exit) : describeEnd(exit);
  const lines = lastLines(exit.stderrTail);
  if (lines.length === 0) return `${what} ${how} (no error output)`;
  if (lines.length === 1) return `${what} ${how}: ${lines[0] ?? ''}`;
  return `${what} ${how}; its error output ends with:\n    ${lines.join('\n    ')}`;
}

function describeEnd(exit: CommandExit): string {
  return exit.signal !== null
    ? `was killed by ${exit.signal}`
    : `exited with code ${String(exit.code)}`;
}

/** "timed out after 6h (commands[0].timeout) and was stopped". */
function describeTimeout(timeout: CommandTimeout, exit: CommandExit): string {
  const stopped =
    exit.signal === 'SIGKILL' ? 'was killed (it did not stop on SIGTERM)' : 'was stopped';
  const setting = timeout.setting ? ` (${timeout.setting})` : '';
  return `timed out after ${timeout.text}${setting} and ${stopped}`;
}

/** A command exited with a non-zero status or was killed: the message names it and says why. */
export class CommandFailedError extends Error {
  constructor(
    /** Who failed, for the message: "command db", "restore command of db". */
    readonly what: string,
    readonly exit: CommandExit,
  ) {
    super(describeExit(what, exit));
    this.name = 'CommandFailedError';
  }
}

/** The command could not be started at all (no /bin/sh, a working directory that is gone). */
export class CommandStartError extends Error {
  constructor(what: string, cause: Error) {
    super(`${what} could not be started: ${cause.message}`);
    this.name = 'CommandStartError';
  }
}

/**
 * The environment a command runs in: mailvault's own, with MAILVAULT_COMMAND naming the command
 * set, and without the repository passphrase, which no dump needs.
 */
export function commandEnvironment(name?: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (name !== undefined) env.MAILVAULT_COMMAND = name;
  delete env.MAILVAULT_PASSWORD;
  return env;
}

export interface ShellOptions {
  /** The command set's name (MAILVAULT_COMMAND; a hook has none). */
  name?: string;
  /** What the messages call it: "command db". */
  what: string;
  cwd?: string;
  stdio: StdioOptions;
  /** Stop the command after this long (none when absent or 0). */
  timeout?: CommandTimeout;
  /** Variables added to its environment (a hook's MAILVAULT_RUN_ID...). */
  env?: Readonly<Record<string, string>>;
}

export interface ShellProcess {
  child: ChildProcess;
  /** Resolves once the command has exited and its output streams are closed. */
  exited: Promise<CommandExit>;
  /**
   * Stops the command and everything it started (SIGTERM to its process group, SIGKILL a few
   * seconds later if it is still there); resolves once it has exited.
   */
  stop(): Promise<void>;
}

/** How long a stopped command has to clean up after SIGTERM before it gets SIGKILL. */
export const STOP_GRACE_MS = 5_000;

/** Node fires a longer timer at once; the configuration allows no more than this anyway. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/** Signals that end mailvault: the command is stopped with it, not left behind. */
const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Starts `/bin/sh -c line` in a process group of its own, so that a pipeline (`pg_dump | gzip`)
 * can be stopped as a whole, keeping the tail of its error output. Being in its own group, it
 * does not get the terminal's Ctrl-C: the signals that end mailvault are passed on to it.
 */
export function startShell(line: string, options: ShellOptions): ShellProcess {
  const started = new Date();
  const child = spawn('/bin/sh', ['-c', line], {
    cwd: options.cwd,
    env: { ...commandEnvironment(options.name), ...options.env },
    stdio: options.stdio,
    detached: true,
  });
  let ended = false;
  let timedOut: CommandTimeout | null = null;
  const tail = new OutputTail();
  child.stderr?.on('data', (chunk: Buffer) => tail.push(chunk));
  const exited = new Promise<CommandExit>((resolve, reject) => {
    child.once('error', (error) => reject(new CommandStartError(options.what, error)));
    child.once('close', (code, signal) =>
      resolve({
        code,
        signal,
        timedOut,
        stderrTail: tail.text(),
        stderrBytes: tail.total,
        started,
        finished: new Date(),
      }),
    );
  });
  // Whoever awaits `exited` sees a start failure; nobody else must see it as unhandled.
  exited.catch(() => undefined);

  const stop = async (): Promise<void> => {
    if (ended || child.pid === undefined) return;
    signalGroup(child.pid, 'SIGTERM');
    const pid = child.pid;
    const kill = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS);
    await exited.catch(() => undefined);
    clearTimeout(kill);
  };
  const timeout = options.timeout;
  const timer =
    timeout && timeout.ms > 0
      ? setTimeout(
          () => {
            timedOut = timeout;
            void stop();
          },
          Math.min(timeout.ms, LONGEST_TIMER_MS),
        )
      : null;
  const stopWithMailvault = forwardEndingSignals(child);
  const finish = (): void => {
    ended = true;
    if (timer) clearTimeout(timer);
    stopWithMailvault();
  };
  exited.then(finish, finish);
  return { child, exited, stop };
}

/**
 * While the command runs, a signal that ends mailvault stops the command's group first, then
 * ends mailvault as it would have without the handler. Returns what removes the handlers.
 */
function forwardEndingSignals(child: ChildProcess): () => void {
  const handlers = ENDING_SIGNALS.map((signal) => {
    const handler = (): void => {
      if (child.pid !== undefined) signalGroup(child.pid, 'SIGTERM');
      remove();
      process.kill(process.pid, signal);
    };
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  const remove = (): void => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  };
  return remove;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}
