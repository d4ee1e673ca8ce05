import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CommandFailedError,
  exitedCleanly,
  startShell,
  type CommandExit,
  type CommandTimeout,
} from '../../sources/commands/shell-command.js';

/** A `commands:` entry of the configuration, as far as its restore is concerned. */
export interface RestoreCommand {
  name: string;
  /** The command line that reads the stored output on its standard input. */
  restore: string;
  /** The set's timeout: a restore that hangs is stopped like a dump that hangs. */
  timeout?: CommandTimeout;
}

export interface RestoreCommandOptions {
  cwd?: string;
  /** Pass the command's standard output on to mailvault's error output (default: discard it). */
  showOutput?: boolean;
  /** Bytes handed to the command so far. */
  onBytes?: (bytes: number) => void;
}

export interface RestoreCommandOutcome {
  exit: CommandExit;
  /** Bytes the command was given. */
  bytes: number;
  /**
   * The command exited (cleanly) before it had read all of its input: its exit code decides, but
   * the operator should know.
   */
  stoppedReading: boolean;
}

/** The input could not be read to the end: the command was stopped before it saw an end of file. */
export class RestoreInputError extends Error {
  constructor(
    readonly command: string,
    cause: unknown,
    /** How the stopped command ended, when it did. */
    readonly exit: CommandExit | null,
    /** Bytes the command had been given. */
    readonly bytes: number,
  ) {
    super(
      `reading the stored output of ${command} failed after ${bytes} bytes, and its restore command was stopped before the end of its input: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = 'RestoreInputError';
  }
}

/**
 * Feeds `input` to the restore command's standard input (`/bin/sh -c`, in a process group of its
 * own), as fast as the command reads it; its exit code decides success.
 *
 * When the input fails halfway (a damaged or unreachable repository), or the command outlives
 * its timeout, the whole process group is stopped (SIGTERM, then SIGKILL) *before* the pipe is
 * closed: a command that saw a clean end of file could take a truncated dump for a whole one
 * (psql with --single-transaction would commit it). Signals that end mailvault itself (SIGINT,
 * SIGTERM, SIGHUP) stop the group the same way.
 */
export async function pipeIntoRestoreCommand(
  command: RestoreCommand,
  input: AsyncIterable<Uint8Array>,
  options: RestoreCommandOptions = {},
): Promise<RestoreCommandOutcome> {
  const what = `restore command of ${command.name}`;
  const { child, exited, stop } = startShell(command.restore, {
    name: command.name,
    what,
    cwd: options.cwd,
    stdio: ['pipe', options.showOutput ? 2 : 'ignore', 'pipe'],
    timeout: command.timeout,
  });
  let exit: CommandExit | null = null;
  exited.then((value) => (exit = value)).catch(() => undefined);

  let bytes = 0;
  let inputFailure: { error: unknown } | null = null;
  async function* guarded(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of input) {
        yield chunk;
        bytes += chunk.length;
        options.onBytes?.(bytes);
      }
    } catch (error) {
      inputFailure = { error };
      // Stopped while the pipe is still open: the command never sees a clean end of file.
      await stop();
      throw error;
    }
  }

  let pipeError: unknown = null;
  try {
    try {
      await pipeline(guarded(), child.stdin as Writable);
    } catch (error) {
      pipeError = error;
    }
    const failure = inputFailure as { error: unknown } | null;
    if (failure) throw new RestoreInputError(command.name, failure.error, exit, bytes);
    const ended = await exited;
    if (!exitedCleanly(ended)) throw new CommandFailedError(what, ended);
    const closedEarly = isBrokenPipe(pipeError);
    if (pipeError && !closedEarly) throw pipeError;
    return { exit: ended, bytes, stoppedReading: closedEarly };
  } catch (error) {
    await stop();
    throw error;
  }
}

function isBrokenPipe(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || code === 'ECONNRESET';
}
