import { readFile } from 'node:fs/promises';
import { UsageError } from './exit-codes.js';

/**
 * The repository passphrase: from repository.passwordFile, else $MAILVAULT_PASSWORD, else a
 * prompt when stdin is a terminal. A file's trailing newline is not part of the passphrase.
 */
export interface Passphrase {
  value: string;
  /** Where it came from, for a message when it is wrong. */
  source: string;
}

export async function readPassphrase(
  passwordFile: string | undefined,
  options: { purpose?: string; confirm?: boolean; environment?: string; key?: string } = {},
): Promise<Passphrase> {
  if (passwordFile)
    return {
      value: await readSecretFile(passwordFile, options.key ?? 'repository.passwordFile'),
      source: `repository.passwordFile ${passwordFile}`,
    };
  const environment = options.environment ?? 'MAILVAULT_PASSWORD';
  const fromEnvironment = process.env[environment];
  if (fromEnvironment !== undefined && fromEnvironment !== '')
    return { value: fromEnvironment, source: `$${environment}` };
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const purpose = options.purpose ?? 'repository passphrase';
    const answer = await prompt(`Enter ${purpose}: `);
    if (answer === '') throw new UsageError('the passphrase must not be empty');
    // A passphrase typed once for a new repository could hold a typo nobody can ever reproduce.
    if (options.confirm && (await prompt(`Enter ${purpose} again: `)) !== answer) {
      throw new UsageError('the passphrases do not match');
    }
    return { value: answer, source: 'the prompt' };
  }
  throw new UsageError(
    'no repository passphrase: set repository.passwordFile in the configuration, or $MAILVAULT_PASSWORD',
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
