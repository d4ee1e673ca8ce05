import { describe, expect, it } from 'vitest';
import { StorageError } from '../storage.js';
import { openSftpStorage } from './open-sftp.js';
import { parseSftpUrl, withoutPassword } from './sftp-url.js';

const parse = (url: string) => parseSftpUrl(new URL(url), () => 'localuser');

function refusal(url: string): StorageError {
  try {
    parse(url);
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error(`${url} was accepted`);
}

describe('sftp:// URLs', () => {
  it('reads user, host, port and the absolute path', () => {
    expect(parse('sftp://backup@store.example.org:2222/srv/mail/repo/')).toEqual({
      user: 'backup',
      password: undefined,
      host: 'store.example.org',
      port: 2222,
      path: '/srv/mail/repo',
      location: 'sftp://backup@store.example.org:2222/srv/mail/repo',
    });
  });

  it('defaults to port 22 and the local user, as ssh does', () => {
    const address = parse('sftp://store.example.org/repo');
    expect(address).toMatchObject({ user: 'localuser', port: 22, path: '/repo' });
    expect(address.location).toBe('sftp://localuser@store.example.org/repo');
    expect(parse('sftp://u@store.example.org:22/repo').location).toBe(
      'sftp://u@store.example.org/repo',
    );
  });

  it('decodes escapes in the user, password and path', () => {
    const address = parse('sftp://mail%40example.org:p%40ss%3Aw%2Ford@h/backups/my%20repo');
    expect(address.user).toBe('mail@example.org');
    expect(address.password).toBe('p@ss:w/ord');
    expect(address.path).toBe('/backups/my repo');
    expect(address.location).toBe('sftp://mail%40example.org@h/backups/my%20repo');
  });

  it('accepts a password but never shows it', () => {
    const address = parse('sftp://backup:s3cret@h:2200/repo');
    expect(address.password).toBe('s3cret');
    expect(address.location).toBe('sftp://backup@h:2200/repo');
    expect(address.location).not.toContain('s3cret');
  });

  it('takes an IPv6 address without its brackets', () => {
    const address = parse('sftp://u@[::1]:2222/repo');
    expect(address.host).toBe('::1');
    expect(address.location).toBe('sftp://u@[::1]:2222/repo');
  });

  it('refuses a URL without a host or a path, or with a broken escape, without the password', () => {
    for (const url of [
      'sftp://u:topsecret@h',
      'sftp://u:topsecret@h/',
      'sftp://u:topsecret@h/%E0%A4%A',
    ]) {
      const error = refusal(url);
      expect(error.code).toBe('denied');
      expect(error.message).not.toContain('topsecret');
      expect(error.message).toMatch(/^sftp:\/\/u@h/);
    }
    expect(refusal('sftp://u:topsecret@h').message).toMatch(/absolute path/);
  });

  it('gives the storage a location without the password', () => {
    const storage = openSftpStorage(new URL('sftp://u:topsecret@h:2222/repo'), {}, '/etc');
    expect(storage.location).toBe('sftp://u@h:2222/repo');
  });
});

describe('withoutPassword', () => {
  it('masks the password, raw or URL-encoded, wherever a message repeats it', () => {
    expect(withoutPassword('login p@ss failed; url u:p%40ss@h', 'p@ss')).toBe(
      'login *** failed; url u:***@h',
    );
    expect(withoutPassword('nothing to hide', undefined)).toBe('nothing to hide');
  });
});
