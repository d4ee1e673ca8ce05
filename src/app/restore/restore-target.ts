import type { ImapCounters } from '../../imap/connect.js';
import type { ConfiguredAccount } from '../../config/accounts.js';
import type { ServerConfig } from '../../config/schema.js';
import type { ImapRestoreTarget } from '../../targets/imap/imap-restore-target.js';
import type { Session } from '../session.js';
import { UsageError } from '../errors.js';
import { imapEndpoint, imapLogin } from '../server-access.js';

export interface OpenedTarget {
  target: ImapRestoreTarget;
  server: ServerConfig;
  serverIndex: number;
  account: string;
}

/** The configured server of that name, or the only one when none is named. */
export async function findServer(
  session: Session,
  name: string | undefined,
  what: string,
): Promise<{ server: ServerConfig; serverIndex: number }> {
  const servers = (await session.config()).config.servers;
  const serverIndex =
    name === undefined && servers.length === 1
      ? 0
      : servers.findIndex((server) => server.name === name);
  const server = servers[serverIndex];
  if (!server) {
    throw new UsageError(
      name === undefined
        ? `${what}: name the server (--to-server), the configuration has ${servers.length}`
        : `${what}: server ${name} is not in the configuration`,
    );
  }
  return { server, serverIndex };
}

/**
 * A restore's target account on a configured server: its configured entry when the server's
 * account list has it (its own login, its DAV path), else the name alone.
 */
export async function targetAccount(
  session: Session,
  serverName: string | undefined,
  account: string,
): Promise<{ server: ServerConfig; serverIndex: number; configured: ConfiguredAccount }> {
  const { server, serverIndex } = await findServer(session, serverName, `restoring ${account}`);
  const refs = await session.accounts().catch(() => []);
  const configured = refs.find(
    (ref) => ref.server.name === server.name && ref.account.name === account,
  );
  return { server, serverIndex, configured: configured?.account ?? { name: account } };
}

/** Logs in to an account of a configured server as a restore target. */
export async function openTarget(
  session: Session,
  serverName: string | undefined,
  account: string,
  counters?: ImapCounters,
): Promise<OpenedTarget> {
  const { ImapRestoreTarget } = await import('../../targets/imap/imap-restore-target.js');
  const loaded = await session.config();
  const { server, serverIndex, configured } = await targetAccount(session, serverName, account);
  const login = await imapLogin(loaded, server, serverIndex, configured);
  const target = await ImapRestoreTarget.open(await imapEndpoint(loaded, server), login, {
    log: session.log,
    counters,
  });
  return { target, server, serverIndex, account };
}
