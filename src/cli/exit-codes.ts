/** The exit codes of the CLI contract. */
export const ExitCode = {
  Ok: 0,
  /** The operation failed. */
  Failed: 1,
  /** Bad usage or configuration. */
  Usage: 2,
  /** Finished, but some items could not be processed (each is listed). */
  Partial: 3,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A mistake on the command line (exit 2): the application's own, shared with the server. */
export { UsageError } from '../app/errors.js';
