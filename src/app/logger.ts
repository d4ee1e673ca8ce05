import pino, { type DestinationStream, type Logger } from 'pino';
import {
  ensurePrivateFile,
  PRIVATE_FILE_MODE,
  warnOnStderr,
  type PrivacyWarn,
} from '../storage/private-files.js';
import { terminalSafeJson } from '../text/printable.js';

/**
 * The configured log file (logging.file), appended to. Log lines name accounts, folders and
 * subjects of failed items, so the file is its owner's alone: created 0600 (its missing folders
 * 0700), and an older one readable by others tightened with a warning.
 */
export function logFileDestination(
  path: string,
  options: { sync?: boolean; warn?: PrivacyWarn } = {},
): DestinationStream {
  ensurePrivateFile(path, 'the log file', options.warn ?? warnOnStderr);
  return pino.destination({
    dest: path,
    append: true,
    sync: options.sync ?? false,
    // Used again if the file is reopened after a rotation moved it away.
    mode: PRIVATE_FILE_MODE,
  });
}

/**
 * Diagnostics for administrators: JSON lines to the configured log file, or with --verbose on
 * stderr. Without either the logger is silent: the command's own output says what matters.
 * Names from servers in a record are escaped as JSON escapes them, and the controls JSON leaves
 * raw (C1, DEL, bidirectional) too, so a log read on a terminal cannot rewrite it.
 */
export function createLogger(options: {
  verbose: boolean;
  quiet: boolean;
  file?: string;
  level?: string;
  /** Where --verbose writes when it is not this process's own stderr (file descriptor 2). */
  stderr?: NodeJS.WritableStream;
  /** Hears that an existing log file was readable by others and has been tightened. */
  warn?: PrivacyWarn;
}): { log: Logger; close(): Promise<void> } {
  const level = options.verbose ? 'debug' : options.file ? (options.level ?? 'info') : 'silent';
  const destination = options.file
    ? logFileDestination(options.file, { warn: options.warn })
    : (options.stderr ?? pino.destination(2));
  const log = pino(
    {
      level,
      base: { program: 'mailvault' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['password', '*.password', 'pass', '*.pass'],
      hooks: { streamWrite: terminalSafeJson },
    },
    destination,
  );
  // A log file is written asynchronously: everything is on disk, and the file closed, before the
  // command is over (a process running many commands would otherwise keep a descriptor per run).
  const close = async (): Promise<void> => {
    if (!options.file) return;
    const file = destination as ReturnType<typeof pino.destination>;
    await new Promise<void>((resolve) => {
      file.once('close', () => resolve());
      file.once('error', () => resolve());
      file.end();
    });
  };
  return { log, close };
}
