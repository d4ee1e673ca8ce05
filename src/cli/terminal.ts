/** An output stream as a command uses it: written to, and asked whether a person watches it. */
export type TerminalStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/**
 * Where a command meets the world that started it: its streams, its environment and its working
 * folder. The CLI gets the process's own (`processTerminal`); anything that runs commands inside
 * a longer-lived process (the test harness, later the server) gives its own, so that no command
 * reaches for `process.stdout` or `process.env` behind its caller's back.
 */
export interface Terminal {
  readonly stdout: TerminalStream;
  readonly stderr: TerminalStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** True when stderr is the process's own (file descriptor 2), which pino writes to directly. */
  readonly ownsStderr: boolean;
}

export function processTerminal(): Terminal {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    ownsStderr: true,
  };
}
