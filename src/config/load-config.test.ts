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
      /^mailvault\.yml: backup\.concurrency: a whole number from 1 to 64, not "many"$/,
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

describe('parseConfig: file sets', () => {
  const withSet = (include: string, exclude = '[]'): string =>
    `${valid}files:\n  - name: conf\n    include: [/etc/dovecot, ${include}]\n    exclude: ${exclude}\n`;

  it('accepts absolute include paths, globs and regular expressions', () => {
    const config = parseConfig(withSet('/etc/postfix', '["*.pem", "re:\\\\.bak$"]'), 'm.yml');
    expect(config.files[0]).toEqual({
      name: 'conf',
      include: ['/etc/dovecot', '/etc/postfix'],
      exclude: ['*.pem', 're:\\.bak$'],
    });
  });

  it('refuses a relative include path, naming its key', () => {
    expect(refused(withSet('etc/postfix'))).toBe(
      'mailvault.yml: files[0].include[1]: "etc/postfix" is relative: include paths must be absolute, such as /etc/dovecot',
    );
    expect(refused(withSet('"~/mail"'))).toMatch(
      /files\[0\]\.include\[1\]: "~\/mail" is relative: .* \(~ is not expanded here\)$/,
    );
  });

  it('compiles re: excludes at load and names the bad one with the regular expression error', () => {
    expect(refused(withSet('/etc/postfix', '["*.pem", "re:(unclosed"]'))).toBe(
      'mailvault.yml: files[0].exclude[1]: "re:(unclosed" is not a valid regular expression (Unterminated group)',
    );
    expect(refused(withSet('/etc/postfix', '["re:"]'))).toMatch(
      /files\[0\]\.exclude\[0\]: "re:" is an empty regular expression, which would exclude everything$/,
    );
  });

  it('refuses a glob that cannot be compiled rather than ignoring it', () => {
    expect(refused(withSet('/etc/postfix', '["*.{pem,key"]'))).toMatch(
      /^mailvault\.yml: files\[0\]\.exclude\[0\]: "\*\.\{pem,key" is a glob that cannot be compiled \(Unterminated group\)/,
    );
  });

  it('gives each file set and command its own name', () => {
    const twice = `${withSet('/etc/postfix')}commands:\n  - { name: conf, backup: "echo" }\n`;
    expect(refused(twice)).toBe(
      'mailvault.yml: commands[0].name: conf is already the name of files[0]',
    );
  });
});

describe('parseConfig: commands', () => {
  const withCommand = (extra: string): string =>
    `${valid}commands:\n  - { name: db, backup: "pg_dump -Fc db"${extra} }\n`;

  it('gives a command a timeout of 6h unless told otherwise', () => {
    expect(parseConfig(withCommand(''), 'm.yml').commands[0]?.timeout).toBe('6h');
    expect(parseConfig(withCommand(', timeout: 30m'), 'm.yml').commands[0]?.timeout).toBe('30m');
    expect(parseConfig(withCommand(', timeout: 0'), 'm.yml').commands[0]?.timeout).toBe(0);
  });

  it('refuses a timeout that is not a duration, naming its key', () => {
    for (const bad of ['30', 'soon', '6M', '-1h', '100d'])
      expect(refused(withCommand(`, timeout: ${bad}`))).toMatch(
        /^mailvault\.yml: commands\[0\]\.timeout: a duration such as 30s, 30m, 6h or 2d \(0: no limit\)/,
      );
  });
});

describe('parseConfig: settings that could never work', () => {
  const withDav = (dav: string, mode = 'authzid'): string =>
    valid
      .replace('mode: authzid', `mode: ${mode}`)
      .replace('    accounts:', `    dav: ${dav}\n    accounts:`);

  it('refuses a DAV source whose accounts an administrator login cannot find, naming principalPath', () => {
    expect(
      refused(withDav('{ url: "https://dav.example.com/", auth: { user: dav, passwordFile: p } }')),
    ).toMatch(
      /^mailvault\.yml: servers\[0\]\.dav\.principalPath: required to find each account's calendars and contacts with the login of dav\.auth\.user dav: .*"\{account\}\/"/,
    );
    expect(refused(withDav('{ url: "https://dav.example.com/" }'))).toMatch(
      /^mailvault\.yml: servers\[0\]\.dav\.principalPath: required .* the IMAP administrator admin \(imap\.auth\.mode authzid\)/,
    );
    // The account's own login (master user here) finds its principal itself.
    expect(
      parseConfig(withDav('{ url: "https://dav.example.com/" }', 'master'), 'm.yml').servers[0]?.dav
        ?.url,
    ).toBe('https://dav.example.com/');
  });

  it('refuses a principalPath without {account}, and a DAV url that is not http(s)', () => {
    expect(
      refused(withDav('{ url: "https://dav.example.com/", principalPath: "users/admin/" }')),
    ).toMatch(
      /^mailvault\.yml: servers\[0\]\.dav\.principalPath: "users\/admin\/" does not hold \{account\}/,
    );
    expect(refused(withDav('{ url: "dav.example.com", principalPath: "{account}/" }'))).toMatch(
      /^mailvault\.yml: servers\[0\]\.dav\.url: "dav\.example\.com" is not an http:\/\/ or https:\/\/ URL/,
    );
  });

  it('refuses an account listed twice, an empty account list and blank commands', () => {
    expect(
      refused(valid.replace('[alice@example.com]', '[alice@example.com, alice@example.com]')),
    ).toBe('mailvault.yml: servers[0].accounts.list[1]: alice@example.com is listed twice');
    expect(refused(valid.replace('[alice@example.com]', '[]'))).toBe(
      'mailvault.yml: servers[0].accounts.list: name at least one account',
    );
    expect(refused(valid.replace('list: [alice@example.com]', 'command: "  "'))).toBe(
      'mailvault.yml: servers[0].accounts.command: must not be blank',
    );
    expect(refused(`${valid}commands:\n  - { name: db, backup: " " }\n`)).toBe(
      'mailvault.yml: commands[0].backup: must not be blank',
    );
  });

  it('refuses a file set with nothing to include, saying what to give', () => {
    expect(refused(`${valid}files:\n  - { name: conf }\n`)).toBe(
      'mailvault.yml: files[0].include: give the absolute paths to back up, such as [/etc/dovecot]',
    );
    expect(refused(`${valid}files:\n  - { name: conf, include: [] }\n`)).toBe(
      'mailvault.yml: files[0].include: give at least one absolute path to back up, such as /etc/dovecot',
    );
  });

  it("takes the SFTP key as identityFile (OpenSSH's word) or keyFile, not both", () => {
    const sftp = (keys: string): string =>
      valid.replace(
        'passwordFile: ./repo.pass }',
        `passwordFile: ./repo.pass, sftp: { ${keys} } }`,
      );
    expect(parseConfig(sftp('identityFile: ~/.ssh/id_ed25519'), 'm.yml').repository.sftp).toEqual({
      identityFile: '~/.ssh/id_ed25519',
    });
    expect(parseConfig(sftp('keyFile: ./key'), 'm.yml').repository.sftp).toEqual({
      identityFile: './key',
    });
    expect(refused(sftp('identityFile: ./a, keyFile: ./b'))).toBe(
      'mailvault.yml: repository.sftp: identityFile and keyFile are two names for the same key file: give one of them, not both',
    );
  });

  it('refuses a schedule line for a kind of run that does not exist (it would never run)', () => {
    expect(refused(`${valid}schedule: { backpu: "0 1 * * *" }\n`)).toBe(
      'mailvault.yml: unknown key schedule.backpu',
    );
    expect(
      parseConfig(`${valid}schedule: { timezone: UTC, backup: "0 1 * * *" }\n`, 'm.yml').schedule,
    ).toEqual({ timezone: 'UTC', backup: '0 1 * * *' });
  });
});
