import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import { configPath } from '../config/loaded-config.js';
import type { Notice, NoticeOutcome } from '../notify/notice.js';
import type { CliContext } from './context.js';
import { readSecretFile } from './passphrase.js';
import { describeError } from './run-command.js';

/** --notify ADDRESS on a restore or export command. */
export function addNotifyOption(command: Command): Command {
  return command.option(
    '--notify <address>',
    'e-mail this address (and the configured admins) when it starts and when it ends',
    (value: string) => {
      if (!/^[^\s@,;<>]+@[^\s@,;<>]+\.[^\s@,;<>]+$/.test(value))
        throw new InvalidArgumentError('give one e-mail address, such as alice@example.com');
      return value;
    },
  );
}

function requestedBy(): string {
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user} on ${hostname()}`;
}

export interface NotifiedOperation<T> {
  kind: Notice['kind'];
  title: string;
  initiator: string | undefined;
  parameters: Record<string, string>;
  work: () => Promise<T>;
  outcome: (result: T) => { outcome: NoticeOutcome; report: unknown };
}

/**
 * Runs an operation between its 'started' and 'finished' (or 'failed') notices to the initiator
 * and the configured admins. A notice that cannot go out is a warning, never the operation's
 * failure; a --notify without SMTP settings stops the operation before it starts (exit 2).
 */
export async function notified<T>(
  context: CliContext,
  operation: NotifiedOperation<T>,
): Promise<T> {
  const { createNotifier } = await import('../notify/notifier.js');
  const loaded = await context.config();
  const notifier = createNotifier(
    loaded.config.notify,
    (path) => readSecretFile(configPath(loaded, path), 'notify.smtp.passwordFile'),
    context.log,
  );
  const base: Omit<Notice, 'phase'> = {
    kind: operation.kind,
    title: operation.title,
    operationId: randomUUID(),
    initiator: operation.initiator,
    parameters: { ...operation.parameters, 'Requested by': requestedBy() },
    startedAt: new Date(),
  };
  const tell = async (notice: Notice): Promise<void> => {
    const result = await notifier.send(notice);
    if (result.warning) context.output.warn(result.warning);
  };
  await tell({ ...base, phase: 'started' });
  let result: T;
  try {
    result = await operation.work();
  } catch (error) {
    await tell({ ...base, phase: 'failed', finishedAt: new Date(), error: describeError(error) });
    throw error;
  }
  await tell({ ...base, phase: 'finished', finishedAt: new Date(), ...operation.outcome(result) });
  return result;
}
