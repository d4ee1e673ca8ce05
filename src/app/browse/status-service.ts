import type { ConfiguredAccounts, Status } from '../../status/collect-status.js';
import type { Session } from '../session.js';

/**
 * Is the backup healthy? Each account's last backup and its state, the last runs of each kind,
 * the next scheduled runs, the repository's size, and the problems that need a look.
 */
export async function backupStatus(session: Session, now = new Date()): Promise<Status> {
  const { collectStatus } = await import('../../status/collect-status.js');
  const loaded = await session.config();
  const catalog = await session.catalog();
  return collectStatus({
    history: catalog.runs,
    storage: await session.storage(),
    schedule: loaded.config.schedule,
    configured: await configuredAccounts(session),
    now,
  });
}

/** Accounts, file sets and commands of the configuration, as the catalog names their sources. */
async function configuredAccounts(session: Session): Promise<ConfiguredAccounts> {
  const { config } = await session.config();
  try {
    const refs = await session.accounts();
    return [
      ...refs.map((ref) => ({ source: ref.server.name, name: ref.account.name })),
      ...config.files.map((set) => ({ source: 'files', name: set.name })),
      ...config.commands.map((command) => ({ source: 'commands', name: command.name })),
    ];
  } catch (error) {
    // An account list that cannot be read (its command fails) is one problem among others.
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
