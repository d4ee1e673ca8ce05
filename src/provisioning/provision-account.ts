import { spawn } from 'node:child_process';

/** The provisioning hook failed: the account could not be created. */
export class ProvisioningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvisioningError';
  }
}

/** Quotes a value for a POSIX shell, so an account name can never become a command. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/**
 * Creates an account through the server's provisioning hook: the configured command, run by the
 * shell with `{account}` replaced by the (quoted) account name. Its exit status decides; its
 * error output explains a failure.
 */
export async function provisionAccount(
  command: string,
  account: string,
  options: { cwd: string; timeoutMs?: number },
): Promise<void> {
  const line = command.includes('{account}')
    ? command.replaceAll('{account}', shellQuote(account))
    : `${command} ${shellQuote(account)}`;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', line], {
      cwd: options.cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const errors: Buffer[] = [];
    child.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ProvisioningError(`provisioning of ${account} could not start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const why =
        Buffer.concat(errors).toString('utf8').trim().split('\n')[0] ||
        (signal ? `killed by ${signal}` : `exit code ${code}`);
      reject(new ProvisioningError(`provisioning of ${account} failed: ${why}`));
    });
  });
}
