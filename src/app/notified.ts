import { randomUUID } from 'node:crypto';
import { configPath } from '../config/loaded-config.js';
import type { Notice, NoticeOutcome } from '../notify/notice.js';
import { errorMessage } from './errors.js';
import { readSecretFile } from './secret-file.js';
import type { Session } from './session.js';

export interface NotifiedOperation<T> {
  kind: Notice['kind'];
  title: string;
  /** Who asked for the notices (an address), besides the configured admins. */
  initiator: string | undefined;
  /** Who started the operation, as the notices name them ("root on mail1", a console user). */
  requestedBy: string;
  parameters: Record<string, string>;
  work: () => Promise<T>;
  outcome: (result: T) => { outcome: NoticeOutcome; report: unknown };
}

/**
 * Runs an operation between its 'started' and 'finished' (or 'failed') notices to the initiator
 * and the configured admins. A notice that cannot go out is a warning, never the operation's
 * failure; an initiator without SMTP settings stops the operation before it starts (bad usage).
 */
export async function notified<T>(session: Session, operation: NotifiedOperation<T>): Promise<T> {
  const { createNotifier } = await import('../notify/notifier.js');
  const loaded = await session.config();
  const notifier = createNotifier(
    loaded.config.notify,
    (path) => readSecretFile(configPath(loaded, path), 'notify.smtp.passwordFile'),
    session.log,
  );
  const base: Omit<Notice, 'phase'> = {
    kind: operation.kind,
    title: operation.title,
    operationId: randomUUID(),
    initiator: operation.initiator,
    parameters: { ...operation.parameters, 'Requested by': operation.requestedBy },
    startedAt: new Date(),
  };
  const tell = async (notice: Notice): Promise<void> => {
    const result = await notifier.send(notice);
    if (result.warning) session.notices.warn(result.warning);
  };
  await tell({ ...base, phase: 'started' });
  let result: T;
  try {
    result = await operation.work();
  } catch (error) {
    await tell({ ...base, phase: 'failed', finishedAt: new Date(), error: errorMessage(error) });
    throw error;
  }
  await tell({ ...base, phase: 'finished', finishedAt: new Date(), ...operation.outcome(result) });
  return result;
}
