import { readFile } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

/**
 * A repository passphrase: from a file, else an environment variable, else a prompt when stdin is
 * a terminal. By default the repository's own: repository.passwordFile, $MAILVAULT_PASSWORD. A
 * file's trailing newline is not part of the passphrase.
 */
export interface Passphrase {
  value: string;
  /** Where it came from, for a message when it is wrong. */
  source: string;
}

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

export async function readPassphrase(
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
  const fromEnvironment = process.env[environment];
  if (fromEnvironment !== undefined && fromEnvironment !== '')
    return { value: fromEnvironment, source: `$${environment}` };
  const purpose = options.purpose ?? 'repository passphrase';
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const answer = await prompt(`Enter ${purpose}: `);
    if (answer === '') throw new UsageError('the passphrase must not be empty');
    // A passphrase typed once for a new repository could hold a typo nobody can ever reproduce.
    if (options.confirm && (await prompt(`Enter ${purpose} again: `)) !== answer) {
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

export async function readSecretFile(path: string, key: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${key}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : String(code ?? error)}`,
    );
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret === '') throw new UsageError(`${key}: ${path} is empty`);
  return secret;
}

async function prompt(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  stdin.setRawMode(true);
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
    stdin.setRawMode(false);
    stdin.pause();
    process.stderr.write('\n');
  }
}
