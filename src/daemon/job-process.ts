/**
 * A scheduled job runs as a mailvault command in a child process, as an administrator would run
 * it by hand: the same code, the same exit codes, the same run history in the catalog; its memory
 * goes back to the system when it ends; and stopping it (SIGTERM) is what stopping the command by
 * hand is, which the repository is built to survive at any moment.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI's entry point beside this module's package (dist/daemon -> bin). */
const BIN = fileURLToPath(new URL('../../bin/mailvault.js', import.meta.url));

export interface JobOutcome {
  kind: string;
  args: string[];
  started: Date;
  finished: Date;
  /** Null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The command's --json report, when it printed one. */
  report: unknown;
  /** The last lines of its error output: what went wrong, in its words. */
  errorText: string;
}

export interface RunningJob {
  kind: string;
  started: Date;
  pid: number | undefined;
  /** Asks the command to stop (SIGTERM); the promise settles when it has. */
  stop(): void;
  finished: Promise<JobOutcome>;
}

const KEPT_ERROR_BYTES = 8 * 1024;

export function startJob(configFile: string, kind: string, args: readonly string[]): RunningJob {
  const started = new Date();
  const argv = [BIN, '--config', configFile, '--no-progress', '--json', ...args];
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => {
    err = (err + chunk.toString('utf8')).slice(-KEPT_ERROR_BYTES);
  });
  const finished = new Promise<JobOutcome>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null, failure?: Error): void => {
      let report: unknown = null;
      try {
        report = JSON.parse(Buffer.concat(out).toString('utf8'));
      } catch {
        // No report: the command failed before it had one, and said why on stderr.
      }
      resolve({
        kind,
        args: [...args],
        started,
        finished: new Date(),
        code,
        signal,
        report,
        errorText: (failure ? `${failure.message}\n${err}` : err).trim(),
      });
    };
    child.on('error', (error) => done(null, null, error));
    child.on('close', (code, signal) => done(code, signal));
  });
  return {
    kind,
    started,
    pid: child.pid,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    finished,
  };
}
