import { Session, type Passphrase } from '../app/session.js';
import { DEFAULT_CONFIG_PATH } from '../config/loaded-config.js';
import { Output } from './output/output.js';
import { readPassphrase } from './passphrase.js';
import { processTerminal, type Terminal } from './terminal.js';

export { pendingUploadsMessage, type AccountRef } from '../app/session.js';

export interface GlobalOptions {
  config?: string;
  json?: boolean;
  progress?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

/**
 * A command's session (the configuration, repository, catalog and logger it opens on first use
 * and closes at the end) with what the command line adds: the terminal it prints to and reads a
 * passphrase from, and its output, where the session's warnings and notes go too.
 */
export class CliContext extends Session {
  readonly output: Output;

  constructor(
    readonly globals: GlobalOptions,
    readonly terminal: Terminal = processTerminal(),
  ) {
    const json = Boolean(globals.json);
    const progress = globals.progress ?? (Boolean(terminal.stderr.isTTY) && !globals.quiet);
    const output = new Output(json, Boolean(globals.quiet), progress, terminal);
    super({
      configPath: globals.config ?? terminal.env.MAILVAULT_CONFIG ?? DEFAULT_CONFIG_PATH,
      notices: { warn: (text) => output.warn(text), note: (text) => output.note(text) },
      passphrase: (file, options): Promise<Passphrase> => readPassphrase(terminal, file, options),
      logging: {
        verbose: Boolean(globals.verbose),
        quiet: Boolean(globals.quiet),
        stderr: terminal.ownsStderr ? undefined : terminal.stderr,
      },
      // What a command finds in the catalog is not shown before the key proves right.
      onUnlocking: (unlocked) => output.hold(unlocked),
    });
    this.output = output;
  }
}
