import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import pino, { type Logger } from 'pino';
import { configPath, type LoadedConfig } from '../../config/loaded-config.js';
import type { DaemonPlan } from '../../daemon/daemon.js';
import { settleJob, type JobVerdict } from '../../daemon/job-history.js';
import { startJob, type JobOutcome } from '../../daemon/job-process.js';
import type { RunHistory } from '../../catalog/run-history.js';
import { ExitCode, UsageError } from '../exit-codes.js';
import { logFileDestination } from '../../app/logger.js';
import type { CommandRunner } from '../main.js';
import { readSecretFile } from '../passphrase.js';

/** The kinds of job `serve` knows how to run, with the command each runs. */
const JOB_COMMANDS: Readonly<Record<string, (loaded: LoadedConfig) => string[]>> = {
  backup: () => ['backup'],
  check: (loaded) => {
    const subset = loaded.config.serve?.checkReadDataSubset;
    return ['check', ...(subset ? ['--read-data-subset', subset] : [])];
  },
  forget: () => ['forget'],
  prune: () => ['prune'],
};

/** How long the health endpoint reuses the status it read (each read runs `status`). */
const STATUS_TTL_MS = 15_000;

export function registerServe(program: Command, run: CommandRunner): void {
  program
    .command('serve')
    .description(
      'run the schedules of the configuration (schedule:), one job at a time, until stopped (SIGTERM); SIGHUP reloads the configuration',
    )
    .action(async () =>
      run(async (context) => {
        const { Daemon } = await import('../../daemon/daemon.js');
        const { readSchedule, nextRuns, ScheduleError } =
          await import('../../scheduler/schedule.js');
        const { createNotifier } = await import('../../notify/notifier.js');
        const { loadConfig } = await import('../../config/load-config.js');
        const loaded = await context.config();
        const configFile = resolve(loaded.path);
        const log = daemonLogger(loaded);

        /** The plan for a configuration; refused (with the key named) if a line cannot be read. */
        const planFor = (config: LoadedConfig): DaemonPlan => {
          const schedule = readSchedule(config.config.schedule);
          const jobs = schedule.jobs.filter((job) => {
            if (JOB_COMMANDS[job.kind]) return true;
            log.warn(
              { kind: job.kind },
              `schedule.${job.kind} is not a kind of job (backup, check, forget, prune)`,
            );
            return false;
          });
          for (const job of jobs) {
            try {
              nextRuns(job, schedule.timezone, new Date(), 1);
            } catch (error) {
              // A ScheduleError names its key already (schedule.backup, or schedule.timezone).
              if (error instanceof ScheduleError)
                throw new UsageError(`${config.path}: ${error.message}`);
              throw error;
            }
          }
          const notifier = createNotifier(
            config.config.notify,
            (path) => readSecretFile(configPath(config, path), 'notify.smtp.passwordFile'),
            log,
          );
          return {
            schedule: { ...schedule, jobs },
            log,
            start: (kind) => startJob(configFile, kind, JOB_COMMANDS[kind]?.(config) ?? [kind]),
            lastRuns: () => lastRuns(config),
            ended: async (outcome) => {
              const verdict = await settled(config, outcome, log);
              const seconds = (outcome.finished.getTime() - outcome.started.getTime()) / 1000;
              const fields = {
                kind: outcome.kind,
                code: outcome.code,
                signal: outcome.signal,
                seconds,
                run: verdict.run,
                ...(verdict.error ? { error: verdict.error } : {}),
              };
              if (verdict.state === 'ok') log.info(fields, `${outcome.kind} finished`);
              else if (verdict.state === 'interrupted')
                log.warn(fields, `${outcome.kind} interrupted`);
              else log.error(fields, `${outcome.kind} failed`);
              // Stopped by the daemon itself (SIGTERM at shutdown): not a failure to mail about.
              if (verdict.state === 'ok' || outcome.signal === 'SIGTERM') return;
              await notifier.send({
                kind: 'job-failure',
                phase: 'failed',
                title: `scheduled ${outcome.kind}`,
                parameters: {
                  command: `mailvault ${outcome.args.join(' ')}`,
                  exit: exitText(outcome),
                },
                startedAt: outcome.started,
                finishedAt: outcome.finished,
                error: verdict.error ?? exitText(outcome),
                report: outcome.report,
              });
            },
          };
        };

        const daemon = new Daemon(planFor(loaded));
        const health = await startHealth(loaded, daemon, configFile, log);
        log.info(
          { config: configFile, jobs: daemon.state().next, health: health?.port ?? null },
          'mailvault serve started',
        );
        // The handlers go in before the daemon starts: its first job (a missed run) may start
        // at once, and a SIGTERM then must stop it, not kill the daemon outright.
        const stopped = new Promise<void>((resolve) => {
          const reload = (): void => {
            loadConfig(configFile)
              .then((fresh) => daemon.reload(planFor(fresh)))
              .catch((error: unknown) =>
                log.error(
                  { err: error },
                  'the configuration could not be reloaded; the previous one stays in force',
                ),
              );
          };
          const stop = (signal: NodeJS.Signals): void => {
            process.off('SIGHUP', reload);
            log.info({ signal }, 'stopping');
            void daemon
              .stop()
              .then(
                () =>
                  new Promise<void>((done) =>
                    health ? health.server.close(() => done()) : done(),
                  ),
              )
              .then(resolve);
          };
          process.on('SIGHUP', reload);
          process.once('SIGTERM', stop);
          process.once('SIGINT', stop);
        });
        await daemon.start();
        await stopped;
        log.info('mailvault serve stopped');
        await new Promise<void>((done) => log.flush(() => done()));
        return ExitCode.Ok;
      }),
    );
}

/** JSON lines to the configured log file, or to stdout: a daemon's log is its output. */
function daemonLogger(loaded: LoadedConfig): Logger {
  const file = loaded.config.logging?.file;
  return pino(
    {
      level: loaded.config.logging?.level ?? 'info',
      base: { program: 'mailvault serve' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    file ? logFileDestination(configPath(loaded, file)) : pino.destination(1),
  );
}

/**
 * How a job went, by its exit and by its own record in the run history (see settleJob); the
 * history is written where the job could not write it. When the catalog cannot be read, the
 * exit alone says.
 */
async function settled(
  loaded: LoadedConfig,
  outcome: JobOutcome,
  log: Logger,
): Promise<JobVerdict> {
  const errorLine = lastLine(outcome.errorText);
  try {
    return await withHistory(loaded, (history) => settleJob(history, outcome, errorLine));
  } catch (error) {
    log.warn(
      { err: error, kind: outcome.kind },
      'the job could not be looked up in the run history',
    );
    const state = outcome.signal !== null ? 'interrupted' : outcome.code === 0 ? 'ok' : 'failed';
    return { state, error: state === 'ok' ? null : errorLine || exitText(outcome), run: null };
  }
}

/**
 * When each kind last ran to its end (from the run history in the catalog), for catching up
 * missed runs: an interrupted run did not run, so the one it interrupted is caught up.
 */
async function lastRuns(loaded: LoadedConfig): Promise<Map<string, Date>> {
  return withHistory(loaded, (history) => history.lastEnded());
}

async function withHistory<T>(
  loaded: LoadedConfig,
  work: (history: RunHistory) => Promise<T>,
): Promise<T> {
  const { Catalog } = await import('../../catalog/catalog.js');
  const catalog = await Catalog.open(configPath(loaded, loaded.config.catalog.url));
  try {
    return await work(catalog.runs);
  } finally {
    await catalog.close();
  }
}

interface Health {
  server: Server;
  port: number;
}

/**
 * GET /health on 127.0.0.1: the daemon's state (the job in hand, the queue, the next runs) and
 * `mailvault status`; 200 when all is well, 503 when something needs a look.
 */
async function startHealth(
  loaded: LoadedConfig,
  daemon: { state(): unknown },
  configFile: string,
  log: Logger,
): Promise<Health | null> {
  const port = loaded.config.serve?.healthPort;
  if (port === undefined) return null;
  let cached: { at: number; status: Promise<unknown> } | null = null;
  const status = (): Promise<unknown> => {
    if (!cached || Date.now() - cached.at > STATUS_TTL_MS) {
      cached = {
        at: Date.now(),
        status: startJob(configFile, 'status', ['status']).finished.then(
          (outcome) =>
            outcome.report ?? { healthy: false, problems: [lastLine(outcome.errorText)] },
        ),
      };
    }
    return cached.status;
  };
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/health') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: 'GET /health' }));
      return;
    }
    status()
      .then((current) => {
        const healthy = (current as { healthy?: boolean }).healthy === true;
        response.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ healthy, daemon: daemon.state(), status: current }, null, 2));
      })
      .catch((error: unknown) => {
        response.writeHead(503, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ healthy: false, error: String(error) }));
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(new UsageError(`serve.healthPort ${port}: ${error.message}`)),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  log.info({ url: `http://127.0.0.1:${port}/health` }, 'health endpoint listening');
  return { server, port };
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .at(-1)
      ?.replace(/^mailvault: (error: )?/, '') ?? ''
  );
}

function exitText(outcome: JobOutcome): string {
  return outcome.signal ? `stopped by ${outcome.signal}` : `exit code ${String(outcome.code)}`;
}
