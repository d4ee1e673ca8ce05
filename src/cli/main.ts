import { Command, CommanderError, Option } from 'commander';
import { registerAccounts } from './commands/accounts.js';
import { registerBackup } from './commands/backup.js';
import { registerCatalog } from './commands/catalog.js';
import { registerCheck } from './commands/check.js';
import { registerCopy } from './commands/copy.js';
import { registerExport } from './commands/export.js';
import { registerForget } from './commands/forget.js';
import { registerInit } from './commands/init.js';
import { registerKey } from './commands/key.js';
import { registerLs } from './commands/ls.js';
import { registerRestore } from './commands/restore.js';
import { registerPrune } from './commands/prune.js';
import { registerSearch } from './commands/search.js';
import { registerServe } from './commands/serve.js';
import { registerShow } from './commands/show.js';
import { registerSnapshots } from './commands/snapshots.js';
import { registerStats } from './commands/stats.js';
import { registerStatus } from './commands/status.js';
import { registerSupportBundle } from './commands/support-bundle.js';
import type { GlobalOptions } from './context.js';
import { ExitCode } from './exit-codes.js';
import { outputKindOf } from './output/command-kinds.js';
import { PROGRAM } from './program-name.js';
import { runCommand } from './run-command.js';
import { processTerminal, type Terminal } from './terminal.js';

/** Runs a command's action and records its exit code. */
export type CommandRunner = (action: Parameters<typeof runCommand>[1]) => Promise<void>;

export function buildProgram(
  setExitCode: (code: ExitCode) => void,
  terminal: Terminal = processTerminal(),
): Command {
  const program = new Command('mailvault')
    .description('Point-in-time backup and restore for mail servers')
    .version(PROGRAM.split(' ')[1] ?? '0.0.0')
    .option('--config <file>', 'configuration file (default ./mailvault.yml or $MAILVAULT_CONFIG)')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--progress', 'show progress bars'))
    .addOption(new Option('--no-progress', 'no progress bars'))
    .option('--verbose', 'log details on stderr')
    .option(
      '--quiet',
      'print only what matters: listings asked for, problems and warnings, not reports',
    )
    .showHelpAfterError()
    // Help, usage errors and the version go to the command's terminal, like everything else; the
    // subcommands registered below inherit it.
    .configureOutput({
      writeOut: (text) => void terminal.stdout.write(text),
      writeErr: (text) => void terminal.stderr.write(text),
      getOutHelpWidth: () => terminal.stdout.columns ?? 80,
      getErrHelpWidth: () => terminal.stderr.columns ?? 80,
    })
    .exitOverride();
  // The command being run, so that its output knows what it is (see command-kinds.ts).
  let running: Command | undefined;
  program.hook('preAction', (_program, command) => {
    running = command;
  });
  const run: CommandRunner = async (action) => {
    const kind = running ? outputKindOf(commandWords(running), running.opts()) : 'listing';
    setExitCode(await runCommand(program.opts<GlobalOptions>(), action, kind, terminal));
  };
  for (const register of [
    registerInit,
    registerBackup,
    registerSnapshots,
    registerAccounts,
    registerLs,
    registerSearch,
    registerShow,
    registerRestore,
    registerExport,
    registerCheck,
    registerForget,
    registerPrune,
    registerServe,
    registerCatalog,
    registerStats,
    registerStatus,
    registerSupportBundle,
    registerCopy,
    registerKey,
  ]) {
    register(program, run);
  }
  program.commands.forEach((command) => command.exitOverride());
  return program;
}

/** A command's words below the program: `restore account`, `key list`. */
export function commandWords(command: Command): string {
  const words: string[] = [];
  for (let at: Command | null = command; at?.parent; at = at.parent) words.unshift(at.name());
  return words.join(' ');
}

/**
 * Runs one command line and returns its exit code. It prints through `terminal` (the process's
 * own by default) and never exits the process: the caller decides what an exit code means.
 */
export async function main(
  argv: string[],
  terminal: Terminal = processTerminal(),
): Promise<number> {
  let exitCode: ExitCode = ExitCode.Ok;
  const program = buildProgram((code) => (exitCode = code), terminal);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; everything else commander refuses is bad usage.
      return error.exitCode === 0 ||
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version'
        ? ExitCode.Ok
        : ExitCode.Usage;
    }
    throw error;
  }
  return exitCode;
}
