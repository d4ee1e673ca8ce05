import { parseAt } from '../../dates/at-spec.js';
import type { ImapCounters } from '../../imap/connect.js';
import { ImapError } from '../../imap/imap-error.js';
import { readAccountTree } from '../../mailbox/account-tree.js';
import type { AccountRestoreOutcome } from '../../restore/account-restore.js';
import { openJustProvisioned } from '../../restore/login-patience.js';
import type { RestoreReport } from '../../restore/restore-report.js';
import { formatTime } from '../../text/format.js';
import { resolveAccount } from '../account-resolution.js';
import { notified } from '../notified.js';
import { NO_PROGRESS, type ProgressSink, type WorkPart } from '../progress.js';
import type { Session } from '../session.js';
import { accountSnapshotAt } from '../snapshot-at.js';
import {
  collectionsOfTree,
  kindsOf,
  mergeOutcome,
  restoreCollectionsInto,
  type RestorePart,
} from './collection-target.js';
import { createAccount } from './provision.js';
import { buildReport } from './reports.js';
import { restoreOutcome } from './restore-outcome.js';
import { openTarget } from './restore-target.js';

export interface AccountRestoreRequest {
  /** The backed-up account, and its server when the name exists on several. */
  account: string;
  source?: string;
  /** As it was at this date, or in this snapshot (its id): `last`, a date, an id. */
  at: string;
  /** Only these folders (with their subfolders). */
  folders?: string[];
  /** Below this folder instead of merging. */
  intoFolder?: string;
  /** Into another account, on another server; created first through provisioning. */
  toAccount?: string;
  toServer?: string;
  createAccount?: boolean;
  /** Mail, calendars, contacts: which of them. */
  parts: ReadonlySet<RestorePart>;
  /** Who asked (named in the notices), and who else hears of it (an address). */
  requestedBy: string;
  notify?: string;
}

/**
 * An account as it was at a date, merged into itself or another account: missing folders and
 * messages are added, nothing is deleted; its calendars and address books likewise. Notices go
 * out when it starts and ends. Items that fail are in the report, not thrown.
 */
export async function restoreAccountAt(
  session: Session,
  request: AccountRestoreRequest,
  progress: ProgressSink = NO_PROGRESS,
): Promise<RestoreReport> {
  const { restoreAccount } = await import('../../restore/account-restore.js');
  const at = parseAt(request.at);
  const loaded = await session.config();
  const repository = await session.repository();
  const catalog = await session.catalog();
  const account = await resolveAccount(catalog, request.account, request.source);
  const snapshot = await accountSnapshotAt(catalog, account, at);
  if (!snapshot)
    throw new Error(`no backup of ${request.account} at ${request.at}: its first backup is later`);
  const targetAccount = request.toAccount ?? account.name;
  const targetServer = request.toServer ?? account.source;
  const target: WorkPart = { kind: 'account', source: targetServer, name: targetAccount };
  return notified(session, {
    kind: 'restore',
    title: `restore of ${account.name}`,
    initiator: request.notify,
    requestedBy: request.requestedBy,
    parameters: {
      Account: `${account.source}/${account.name}`,
      Target: `${targetServer}/${targetAccount}`,
      'As of': `${formatTime(snapshot.time)} (snapshot ${snapshot.id.slice(0, 12)})`,
      ...(request.folders ? { Folders: request.folders.join(', ') } : {}),
      ...(request.parts.size < 3 ? { Only: [...request.parts].join(',') } : {}),
    },
    outcome: (report: RestoreReport) => ({ outcome: restoreOutcome(report), report }),
    work: async () => {
      if (request.createAccount) await createAccount(session, targetServer, targetAccount);
      const tree = await readAccountTree(repository, snapshot.tree);
      progress({ type: 'started', operation: 'restore', parts: null });
      progress({ type: 'part-started', part: target });
      const outcome: AccountRestoreOutcome = { folders: [], failures: [], bytes: 0 };
      if (request.parts.has('mail')) {
        const counters: ImapCounters = { commands: 0 };
        const open = () => openTarget(session, targetServer, targetAccount, counters);
        const { target: imap } = request.createAccount
          ? await openJustProvisioned(open)
          : await open().catch((error: unknown) => {
              throw withCreateAccountHint(error, targetAccount !== account.name);
            });
        try {
          mergeOutcome(
            outcome,
            await restoreAccount({
              repository,
              tree,
              target: imap,
              log: session.log,
              batchSize: loaded.config.restore.batchSize,
              workers: loaded.config.restore.workers,
              folders: request.folders,
              intoFolder: request.intoFolder,
              onFolder: (folder) => progress({ type: 'folder', part: target, folder }),
              onMessages: (items, bytes) => progress({ type: 'items', items, bytes }),
            }),
          );
        } finally {
          await imap.close();
        }
      }
      await restoreCollectionsInto(
        session,
        { server: targetServer, account: targetAccount },
        await collectionsOfTree(repository, tree, kindsOf(request.parts)),
        outcome,
        progress,
      );
      const report = buildReport(
        {
          account: `${account.source}/${account.name}`,
          target: `${targetServer}/${targetAccount}`,
          snapshot: snapshot.id,
          snapshotTime: snapshot.time.toISOString(),
        },
        outcome,
      );
      progress({ type: 'part-finished', part: target, ok: report.totals.failed === 0 });
      progress({ type: 'finished', outcome: report.totals.failed > 0 ? 'partial' : 'ok' });
      return report;
    },
  });
}

/**
 * A login refused for another account may mean the account does not exist yet: say what creates
 * it. (Into the account itself, the backup's own account, a refusal is about the credentials.)
 */
function withCreateAccountHint(error: unknown, intoAnother: boolean): unknown {
  if (intoAnother && error instanceof ImapError && error.kind === 'auth')
    error.message += '; if the account does not exist yet, --create-account creates it first';
  return error;
}
