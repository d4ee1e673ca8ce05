import { CommanderError } from 'commander';
import { CatalogError } from '../catalog/catalog-error.js';
import { ConfigError } from '../config/config-error.js';
import { DateError } from '../dates/parse-date.js';
import { ImapError } from '../imap/imap-error.js';
import { WrongPassphraseError } from '../repository/crypto/key-file.js';
import { RepositoryUrlError } from '../storage/repository-url.js';
import { StorageError } from '../storage/storage.js';
import { CliContext, type GlobalOptions } from './context.js';
import { ExitCode, UsageError } from './exit-codes.js';
import type { OutputKind } from './output/command-kinds.js';
import { printableLines, terminalSafeJson } from './output/printable.js';

/** Maps what went wrong to the exit codes of the CLI contract. */
export function exitCodeOf(error: unknown): ExitCode {
  if (
    error instanceof UsageError ||
    error instanceof ConfigError ||
    error instanceof DateError ||
    error instanceof CatalogError ||
    // A URL given on the command line (--repo, --to) that cannot be a repository's.
    error instanceof RepositoryUrlError
  )
    return ExitCode.Usage;
  if (error instanceof CommanderError) return ExitCode.Usage;
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
  kind: OutputKind = 'listing',
): Promise<ExitCode> {
  const context = new CliContext(globals);
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
    process.stderr.write(
      `mailvault: ${code === ExitCode.Usage ? '' : 'error: '}${printableLines(describeError(error))}\n`,
    );
    if (globals.verbose && error instanceof Error && error.stack)
      process.stderr.write(`${printableLines(error.stack)}\n`);
    if (context.output.json)
      process.stdout.write(
        `${terminalSafeJson(JSON.stringify({ error: describeError(error), exitCode: code }))}\n`,
      );
    return code;
  } finally {
    await context.close().catch(() => undefined);
  }
}
