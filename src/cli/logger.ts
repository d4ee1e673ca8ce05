import pino, { type Logger } from 'pino';

/**
 * Diagnostics for administrators: JSON lines to the configured log file, or with --verbose on
 * stderr. Without either the logger is silent: the command's own output says what matters.
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
    },
    destination,
  );
}
