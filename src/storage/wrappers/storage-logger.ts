/**
 * The part of a pino logger the wrappers use (the CLI's logger is one), so storage does not
 * depend on how the program logs. Fields come first, then the message, as pino takes them.
 */
export interface StorageLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

export const silentLogger: StorageLogger = {
  debug: () => undefined,
  warn: () => undefined,
};

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
