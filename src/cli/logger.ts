import pino, { type Logger } from 'pino';
import { terminalSafeJson } from './output/printable.js';

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
}): Logger {
  const level = options.verbose ? 'debug' : options.file ? (options.level ?? 'info') : 'silent';
  const destination = options.file
    ? pino.destination({ dest: options.file, append: true, mkdir: true, sync: false })
    : pino.destination(2);
  return pino(
    {
      level,
      base: { program: 'mailvault' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: ['password', '*.password', 'pass', '*.pass'],
      hooks: { streamWrite: terminalSafeJson },
    },
    destination,
  );
}
