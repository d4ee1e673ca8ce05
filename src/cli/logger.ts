import pino, { type Logger } from 'pino';

/**
 * Diagnostics for administrators: JSON lines on stderr (or the configured file). Quiet by default
 * on the command line, where the human output says what matters; --verbose shows info and debug.
 */
export function createLogger(options: {
  verbose: boolean;
  quiet: boolean;
  file?: string;
  level?: string;
}): Logger {
  const level = options.verbose ? 'debug' : options.quiet ? 'error' : (options.level ?? 'warn');
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
