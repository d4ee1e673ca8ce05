import { describe, expect, it } from 'vitest';
import { isSecretKey, leftOutReason, redactText } from './redaction.js';

const redact = (text: string, path = '/etc/app/app.conf'): string => redactText(path, text).text;

describe('support bundle redaction', () => {
  it.each([
    ['password = hunter2', 'password = <redacted>'],
    ['ssl_key_password = s3cret', 'ssl_key_password = <redacted>'],
    ['  dnpass = ldapsecret', '  dnpass = <redacted>'],
    ['bind_pw = x1', 'bind_pw = <redacted>'],
    ['requirepass foobared', 'requirepass <redacted>'],
    ['api_key: abc123', 'api_key: <redacted>'],
    ['secret_key=abc', 'secret_key=<redacted>'],
    ['token: "t0k3n"', 'token: "<redacted>"'],
    ['  "password": "x y z",', '  "password": "<redacted>",'],
    ['#password = oldone', '#password = <redacted>'],
    ['export DB_PASSWORD=pw', 'export DB_PASSWORD=<redacted>'],
    ['smtpPassword: abc', 'smtpPassword: <redacted>'],
    ['key = 0123456789abcdef', 'key = <redacted>'],
    [
      'connect = host=localhost dbname=mail user=mail password=sqlsecret',
      'connect = host=localhost dbname=mail user=mail password=<redacted>',
    ],
    ['  args = password=test', '  args = password=<redacted>'],
    [
      'uri = ldap://cn=admin:secret@ldap.example.com/',
      'uri = ldap://cn=admin:<redacted>@ldap.example.com/',
    ],
    [
      'alice:{SHA512-CRYPT}$6$abc$def:1000:1000::/home/alice',
      'alice:<redacted>:1000:1000::/home/alice',
    ],
    ['bob:$2y$10$abcdefghij', 'bob:<redacted>'],
  ])('redacts %j', (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  it.each([
    // Scheme names say how passwords are hashed, which a supporter needs; no secret in them.
    'password_scheme = SHA512-CRYPT',
    'default_pass_scheme = SHA512-CRYPT',
    'smtp_sasl_password_maps = hash:/etc/postfix/sasl_passwd',
    'ssl_key = </etc/ssl/private/dovecot.pem',
    'smtpd_tls_key_file = /etc/ssl/private/mail.key',
    'auth_mechanisms = plain login',
    'smtpd_sasl_auth_enable = yes',
    'fts_tokenizers = generic email-address',
    'passdb {',
    'passdb ldap {',
    'password requisite pam_pwquality.so retry=3',
    'auth required pam_unix.so',
    'bypass = 1',
    'password = %{password}',
    'auth_username_format = %Lu',
    'mail_location = maildir:~/Maildir',
    '# The password is read from the file below',
    'root:x:0:0:root:/root:/bin/bash',
  ])('leaves %j as it is', (line) => {
    expect(redact(line)).toBe(line);
  });

  it('redacts user:password in files named like sasl_passwd, and lists every redaction by line', () => {
    const text = '# relay\n[smtp.example.com]:587 relay@example.com:relaypass\n';
    const result = redactText('/etc/postfix/sasl_passwd', text);
    expect(result.text).toBe('# relay\n[smtp.example.com]:587 relay@example.com:<redacted>\n');
    expect(result.redactions).toEqual([{ line: 2, what: 'user:password' }]);
  });

  it('keeps locked and placeholder entries of passwd-like files', () => {
    const text =
      'daemon:*:19000:0:99999:7:::\nnobody:!:19000::::::\nroot:$6$salt$hash:19000:0:::::';
    expect(redact(text, '/etc/shadow')).toBe(
      'daemon:*:19000:0:99999:7:::\nnobody:!:19000::::::\nroot:<redacted>:19000:0:::::',
    );
  });

  it('never reports a value in a redaction', () => {
    const { redactions } = redactText('/x.conf', 'password = hunter2\nconnect = password=abc');
    expect(JSON.stringify(redactions)).not.toMatch(/hunter2|abc/);
    expect(redactions.map((r) => r.line)).toEqual([1, 2]);
  });

  it('names keys that hold secrets, and not those that describe them', () => {
    expect(isSecretKey('smtp_auth')).toBe(true);
    expect(isSecretKey('smtp_auth', true)).toBe(false);
    expect(isSecretKey('auth_verbose')).toBe(false);
    expect(isSecretKey('clientSecret')).toBe(true);
    expect(isSecretKey('password_min_length')).toBe(false);
    expect(isSecretKey('keyboard')).toBe(false);
  });
});

describe('files left out of a support bundle', () => {
  const text = (s: string): Buffer => Buffer.from(s);
  it('leaves out private keys by name and by content', () => {
    expect(leftOutReason('/etc/ssl/private/mail.key', text('x'))).toMatch(/name/);
    expect(leftOutReason('/root/.ssh/id_ed25519', text('x'))).toMatch(/name/);
    expect(leftOutReason('/etc/ssh/ssh_host_rsa_key', text('x'))).toMatch(/name/);
    expect(leftOutReason('/etc/mailvault/repo.pass', text('x'))).toMatch(/name/);
    const pem = '-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n';
    expect(leftOutReason('/etc/ssl/mail.pem', text(pem))).toBeNull();
    expect(
      leftOutReason('/etc/ssl/mail.pem', text(`${pem}-----BEGIN RSA PRIVATE KEY-----\nMII\n`)),
    ).toMatch(/private key/);
    expect(
      leftOutReason('/etc/app/combined.conf', text('-----BEGIN OPENSSH PRIVATE KEY-----\n')),
    ).toMatch(/private key/);
    expect(leftOutReason('/etc/app/id_rsa.pub', text('ssh-rsa AAAA'))).toBeNull();
  });

  it('leaves out binary files, which cannot be checked', () => {
    expect(leftOutReason('/etc/postfix/sasl_passwd.db', Buffer.from([1, 0, 2]))).toMatch(/binary/);
  });
});

describe('values that look like variables', () => {
  it('keeps whole variables, redacts values that only start like one', () => {
    expect(redact('password = ${DB_PASSWORD}')).toBe('password = ${DB_PASSWORD}');
    expect(redact('password = %w')).toBe('password = %w');
    expect(redact('password = $ecretPa55')).toBe('password = <redacted>');
    expect(redact('password = $6$salt$hash')).toBe('password = <redacted>');
  });
});
