import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';

const valid = `
repository: { url: ./backups, passwordFile: ./repo.pass }
servers:
  - name: mail1
    imap: { host: mail.example.com, auth: { mode: authzid, user: admin, passwordFile: ./admin.pass } }
    accounts: { list: [alice@example.com] }
`;

const refused = (text: string): string => {
  try {
    parseConfig(text, 'mailvault.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('parseConfig', () => {
  it('fills in defaults a user does not have to write', () => {
    const config = parseConfig(valid, 'mailvault.yml');
    expect(config.catalog.url).toBe('./catalog.sqlite');
    expect(config.servers[0]?.imap.tls).toBe('implicit');
    expect(config.backup.concurrency).toBe(4);
  });

  it('names a misspelt key with its full path', () => {
    expect(refused(valid.replace('host: mail.example.com', 'hots: mail.example.com'))).toMatch(
      /servers\[0\]\.imap\.hots/,
    );
  });

  it('names a key with a value of the wrong type', () => {
    expect(refused(`${valid}backup: { concurrency: many }\n`)).toMatch(
      /^mailvault\.yml: backup\.concurrency: expected number/,
    );
  });

  it('says on which line YAML is broken', () => {
    expect(refused('repository:\n  url: [unclosed\n')).toMatch(/^mailvault\.yml:\d+: invalid YAML/);
  });

  it('requires the administrator identity unless each account has its password', () => {
    expect(refused(valid.replace('user: admin, ', ''))).toMatch(
      /servers\[0\]\.imap\.auth\.user: required/,
    );
    expect(refused(valid.replace('mode: authzid', 'mode: per-account'))).toMatch(
      /alice@example\.com needs a passwordFile/,
    );
  });

  it('refuses two servers with one name and an account source given twice', () => {
    const twice = valid + valid.split('servers:\n')[1];
    expect(refused(twice.replace(/\nservers:/, '\nservers:'))).toMatch(
      /duplicate server name mail1/,
    );
    expect(
      refused(valid.replace('list: [alice@example.com]', 'list: [a], command: "echo b"')),
    ).toMatch(/exactly one of list, passwdFile or command/);
  });
});
