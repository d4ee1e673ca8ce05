import type { Passphrase } from '../app/session.js';
import { UsageError } from './exit-codes.js';
import type { Terminal } from './terminal.js';

export type { Passphrase } from '../app/session.js';
import { readSecretFile } from '../app/secret-file.js';

export { readSecretFile };

export interface PassphraseOptions {
  /** What is asked for, in messages and the prompt (default: "repository passphrase"). */
  purpose?: string;
  confirm?: boolean;
  /** The variable that may hold it (default MAILVAULT_PASSWORD). */
  environment?: string;
  /**
   * The setting that names the file, as the user gives it: a configuration key (default
   * repository.passwordFile) or a command-line option (starting with --). Messages name it, so
   * that they say what would fix the problem.
   */
  fileSetting?: string;
}

/**
 * A repository passphrase: from a file, else an environment variable, else a prompt when stdin is
 * a terminal. By default the repository's own: repository.passwordFile, $MAILVAULT_PASSWORD. A
 * file's trailing newline is not part of the passphrase.
 */
export async function readPassphrase(
  terminal: Terminal,
  passwordFile: string | undefined,
  options: PassphraseOptions = {},
): Promise<Passphrase> {
  const setting = options.fileSetting ?? 'repository.passwordFile';
  if (passwordFile)
    return {
      value: await readSecretFile(passwordFile, setting),
      source: `${setting} ${passwordFile}`,
    };
  const environment = options.environment ?? 'MAILVAULT_PASSWORD';
  const fromEnvironment = terminal.env[environment];
  if (fromEnvironment !== undefined && fromEnvironment !== '')
    return { value: fromEnvironment, source: `$${environment}` };
  const purpose = options.purpose ?? 'repository passphrase';
  if (isInteractive(terminal)) {
    const answer = await prompt(terminal, `Enter ${purpose}: `);
    if (answer === '') throw new UsageError('the passphrase must not be empty');
    // A passphrase typed once for a new repository could hold a typo nobody can ever reproduce.
    if (options.confirm && (await prompt(terminal, `Enter ${purpose} again: `)) !== answer) {
      throw new UsageError('the passphrases do not match');
    }
    return { value: answer, source: 'the prompt' };
  }
  const giveFile = setting.startsWith('--')
    ? `give ${setting} FILE`
    : `set ${setting} in the configuration`;
  throw new UsageError(
    `no ${purpose}: ${giveFile}, or set $${environment}, or run on a terminal to type it`,
  );
}

/** Someone at a terminal who can be asked: stdin and stderr both one. */
export function isInteractive(terminal: Terminal): boolean {
  return Boolean(terminal.stdin.isTTY && terminal.stderr.isTTY && terminal.stdin.setRawMode);
}

async function prompt(terminal: Terminal, question: string): Promise<string> {
  const stdin = terminal.stdin;
  const setRawMode = (raw: boolean): void => void stdin.setRawMode?.(raw);
  terminal.stderr.write(question);
  setRawMode(true);
  stdin.resume();
  let answer = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (data: Buffer): void => {
        for (const char of data.toString('utf8')) {
          if (char === '\r' || char === '\n') {
            stdin.off('data', onData);
            resolve(answer);
            return;
          }
          if (char === '\u0003') {
            stdin.off('data', onData);
            reject(new UsageError('cancelled'));
            return;
          }
          if (char === '\u007f') answer = answer.slice(0, -1);
          else answer += char;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    setRawMode(false);
    stdin.pause();
    terminal.stderr.write('\n');
  }
}
