import iconv from 'iconv-lite';
import type { ImapFlow } from 'imapflow';

/**
 * The names an account is subscribed to, as the server states them, asked for separately from
 * imapflow's listing. imapflow's `list()` reports INBOX as subscribed whatever the server says,
 * and every folder as subscribed when the server did not say: a backup would record, and a
 * restore would believe, subscriptions that do not exist, and a restore would then never
 * subscribe an INBOX it found unsubscribed.
 *
 * `raw` holds each name as the server spelt it (compare with a listing entry's `pathAsListed`),
 * `decoded` the same names as folder paths (modified UTF-7 decoded unless UTF8=ACCEPT is on,
 * INBOX in capitals).
 */
export interface Subscriptions {
  raw: Set<string>;
  decoded: Set<string>;
}

interface UntaggedNode {
  type?: string;
  value?: unknown;
}

interface UntaggedResponse {
  attributes?: Array<UntaggedNode | UntaggedNode[]>;
}

/** imapflow's command runner: not in its typings, but what its own commands are built on. */
interface Executor {
  exec(
    command: string,
    attributes: unknown[],
    options: { untagged: Record<string, (response: UntaggedResponse) => Promise<void>> },
  ): Promise<{ next: () => void }>;
}

/**
 * Asks the server which names are subscribed; null when it refused both ways of asking (the
 * caller then keeps what the listing said). imapflow's exec() is used, the runner its own
 * commands are built on: its public API has no way to ask.
 */
export async function readSubscriptions(client: ImapFlow): Promise<Subscriptions | null> {
  const executor = client as unknown as Partial<Executor>;
  if (typeof executor.exec !== 'function')
    throw new Error('imapflow no longer offers exec(): subscriptions cannot be read');
  const exec = executor.exec.bind(client) as Executor['exec'];
  const raw = new Set<string>();
  /** LSUB answers with subscriptions alone; LIST (SUBSCRIBED) marks each with \Subscribed. */
  const collector =
    (markedOnly: boolean) =>
    async (response: UntaggedResponse): Promise<void> => {
      const attributes = response.attributes ?? [];
      const flags = Array.isArray(attributes[0]) ? attributes[0] : [];
      const name = attributes[2] as UntaggedNode | undefined;
      if (!name || name.value === undefined || name.value === null) return;
      if (markedOnly && !flags.some((flag) => String(flag.value).toLowerCase() === '\\subscribed'))
        return;
      // A subscribed name whose folder is gone (\NonExistent, or \Noselect in LSUB) is a
      // subscription all the same.
      raw.add(String(name.value));
    };
  // LIST (SUBSCRIBED) (RFC 5258) where offered: LSUB is gone from IMAP4rev2.
  const extended =
    client.capabilities.has('LIST-EXTENDED') ||
    client.enabled.has('IMAP4rev2') ||
    client.capabilities.has('IMAP4rev2');
  const attempts: Array<[string, unknown[], boolean]> = extended
    ? [['LIST', [[{ type: 'ATOM', value: 'SUBSCRIBED' }], '', '*'], true]]
    : [];
  if (!client.enabled.has('IMAP4rev2')) attempts.push(['LSUB', ['', '*'], false]);
  for (const [command, attributes, markedOnly] of attempts) {
    raw.clear();
    try {
      const response = await exec(command, attributes, {
        untagged: { [command]: collector(markedOnly) },
      });
      response.next();
      return { raw, decoded: new Set([...raw].map((name) => decodeName(client, name))) };
    } catch (error) {
      const status = (error as { responseStatus?: string }).responseStatus;
      if (status !== 'NO' && status !== 'BAD') throw error;
    }
  }
  return null;
}

/** A name as the server spelt it, as a folder path (as imapflow gives listing paths). */
function decodeName(client: ImapFlow, name: string): string {
  let path = name;
  if (!client.enabled.has('UTF8=ACCEPT') && !client.enabled.has('IMAP4rev2') && path.includes('&'))
    path = iconv.decode(Buffer.from(path, 'latin1'), 'utf7imap');
  return path.toUpperCase() === 'INBOX' ? 'INBOX' : path;
}

/** Whether a listed folder is subscribed, by the server's own word. */
export function isSubscribed(
  subscriptions: Subscriptions,
  entry: { path: string; pathAsListed?: string },
): boolean {
  if (entry.path === 'INBOX')
    return [...subscriptions.raw].some((name) => name.toUpperCase() === 'INBOX');
  return (
    subscriptions.raw.has(entry.pathAsListed ?? entry.path) || subscriptions.decoded.has(entry.path)
  );
}
