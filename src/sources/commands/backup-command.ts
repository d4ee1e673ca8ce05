import type { Readable } from 'node:stream';
import {
  CommandFailedError,
  exitedCleanly,
  startShell,
  type CommandExit,
  type CommandTimeout,
} from './shell-command.js';

/** A `commands:` entry of the configuration, as far as its backup is concerned. */
export interface BackupCommand {
  name: string;
  /** The command line whose standard output is backed up. */
  backup: string;
  /** How long it may run; a dump that hangs is stopped and fails. */
  timeout?: CommandTimeout;
}

export interface BackupCommandOptions {
  /** Where the command runs (default: mailvault's working directory). */
  cwd?: string;
}

/**
 * Runs a backup command and hands its standard output to `consume` as a stream, read as fast as
 * `consume` reads it: while the repository is busy the pipe fills and the command waits in its
 * write, so nothing is buffered beyond the pipe. The command's standard input is /dev/null.
 *
 * Resolves with what `consume` returned and how the command ended, once it has exited cleanly.
 * A non-zero exit or a signal rejects with a CommandFailedError naming the command, the exit
 * code and the tail of its error output, after `consume` has read the whole output (whatever it
 * did with it stays harmless: chunks stored for a failed dump are reused by the next one). If
 * `consume` throws, the command is stopped, and the error is passed on. A command that outlives
 * its timeout is stopped, which ends its output, and fails the same way, saying it timed out.
 */
export async function withBackupCommand<T>(
  command: BackupCommand,
  consume: (output: AsyncIterable<Buffer>) => Promise<T>,
  options: BackupCommandOptions = {},
): Promise<{ value: T; exit: CommandExit }> {
  const what = `command ${command.name}`;
  const { child, exited, stop } = startShell(command.backup, {
    name: command.name,
    what,
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: command.timeout,
  });
  const stdout = child.stdout as Readable;
  let value: T;
  try {
    value = await consume(stdout);
  } catch (error) {
    // Closing the pipe ends a writer with SIGPIPE; the signal makes sure of the rest.
    stdout.destroy();
    await stop();
    throw error;
  }
  // Output left unread (a consumer that stopped early) must not hold the command in its write.
  if (!stdout.readableEnded) stdout.resume();
  const exit = await exited;
  if (!exitedCleanly(exit)) throw new CommandFailedError(what, exit);
  return { value, exit };
}
