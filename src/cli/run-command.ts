import { CommanderError } from 'commander';
import { isBadRequest } from '../app/errors.js';
import { ImapError } from '../imap/imap-error.js';
import { WrongPassphraseError } from '../repository/crypto/key-file.js';
import { StorageError } from '../storage/storage.js';
import { CliContext, type GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';
import type { OutputKind } from './output/command-kinds.js';
import { printableLines, terminalSafeJson } from '../text/printable.js';
import type { Terminal } from './terminal.js';

/** Maps what went wrong to the exit codes of the CLI contract. */
export function exitCodeOf(error: unknown): ExitCode {
  if (isBadRequest(error) || error instanceof CommanderError) return ExitCode.Usage;
  return ExitCode.Failed;
}

export function describeError(error: unknown): string {
  if (
    error instanceof WrongPassphraseError ||
    error instanceof ImapError ||
    error instanceof StorageError
  )
    return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** A command's work; it may return an exit code (nothing means success). */
export type CommandAction = (context: CliContext) => Promise<unknown>;

/**
 * Runs a command's action with a context, prints a failure as one line on stderr (the stack only
 * with --verbose), and sets the exit code.
 */
export async function runCommand(
  globals: GlobalOptions,
  action: CommandAction,
  kind: OutputKind,
  terminal: Terminal,
): Promise<ExitCode> {
  const context = new CliContext(globals, terminal);
  context.output.setKind(kind);
  try {
    const code = await action(context);
    await context.output.settled();
    return typeof code === 'number' ? (code as ExitCode) : ExitCode.Ok;
  } catch (error) {
    // A run the command recorded as started is recorded as failed with this, when it closes.
    context.noteFailure(error);
    // What the command said before it failed, unless the repository key itself was refused.
    await context.output.settled().catch(() => undefined);
    const code = exitCodeOf(error);
    // An error may carry a name from a server (a folder, a server's own words): made printable.
    terminal.stderr.write(
      `mailvault: ${code === ExitCode.Usage ? '' : 'error: '}${printableLines(describeError(error))}\n`,
    );
    if (globals.verbose && error instanceof Error && error.stack)
      terminal.stderr.write(`${printableLines(error.stack)}\n`);
    if (context.output.json)
      terminal.stdout.write(
        `${terminalSafeJson(JSON.stringify({ error: describeError(error), exitCode: code }))}\n`,
      );
    return code;
  } finally {
    await context.close().catch(() => undefined);
  }
}
