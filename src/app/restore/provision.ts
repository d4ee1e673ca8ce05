import { UsageError } from '../errors.js';
import type { Session } from '../session.js';
import { findServer } from './restore-target.js';

/** Runs the server's provisioning hook for an account: the account exists afterwards. */
export async function createAccount(
  session: Session,
  serverName: string | undefined,
  account: string,
): Promise<void> {
  const { provisionAccount } = await import('../../provisioning/provision-account.js');
  const loaded = await session.config();
  const { server, serverIndex } = await findServer(session, serverName, `creating ${account}`);
  if (!server.provisioning)
    throw new UsageError(
      `--create-account: servers[${serverIndex}].provisioning.command is not configured for ${server.name}`,
    );
  await provisionAccount(server.provisioning.command, account, { cwd: loaded.directory });
}
