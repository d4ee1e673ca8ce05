import { hostname, userInfo } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';

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

/** Who runs this command, as notices and the audit name them: the user and the host. */
export function cliRequester(env: NodeJS.ProcessEnv): string {
  let user = env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (some containers): keep $USER.
  }
  return `${user} on ${hostname()}`;
}
