import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { provisionAccount, ProvisioningError } from './provision-account.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the provisioning hook', () => {
  it('runs the command with the account name, quoted so it stays one word', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailvault-provision-'));
    const name = "o'brien; touch pwned@example.com";
    await provisionAccount('printf "%s\\n" {account} >> accounts.txt', name, { cwd: dir });
    expect(readFileSync(join(dir, 'accounts.txt'), 'utf8')).toBe(`${name}\n`);
    expect(() => readFileSync(join(dir, 'pwned@example.com'))).toThrow();
  });

  it('reports a failing command with its error output', async () => {
    dir = mkdtempSync(join(tmpdir(), 'mailvault-provision-'));
    const failure = await provisionAccount('echo "quota service down" >&2; exit 3', 'carol', {
      cwd: dir,
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ProvisioningError);
    expect((failure as Error).message).toBe('provisioning of carol failed: quota service down');
  });
});
