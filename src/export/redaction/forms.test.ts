// The forms a support bundle's redaction once missed (one-line and nested JSON, XML elements and
// key/value elements, mysql -p, Authorization headers), each with a value that must go and the
// ordinary text around it that must stay.
import { describe, expect, it } from 'vitest';
import { redactText } from '../redaction.js';

const redact = (text: string, path = '/etc/app/app.conf'): string => redactText(path, text).text;

describe('redaction across formats', () => {
  it.each([
    [
      '{"apiKey": "k-123", "client_secret": "cs-456", "host": "db.example.org"}',
      '{"apiKey": "<redacted>", "client_secret": "<redacted>", "host": "db.example.org"}',
    ],
    [
      '{"db": {"user": "mail", "pass": "p-789"}, "port": 5432}',
      '{"db": {"user": "mail", "pass": "<redacted>"}, "port": 5432}',
    ],
    ['<password>x-el-1</password>', '<password><redacted></password>'],
    [
      '<db:Password><![CDATA[x-cd-2]]></db:Password>',
      '<db:Password><![CDATA[<redacted>]]></db:Password>',
    ],
    [
      '<add key="SmtpPassword" value="x-kv-3" /><add key="SmtpHost" value="mail.example.org" />',
      '<add key="SmtpPassword" value="<redacted>" /><add key="SmtpHost" value="mail.example.org" />',
    ],
    ['<entry key="api.key">x-entry-4</entry>', '<entry key="api.key"><redacted></entry>'],
    [
      'mysql -u root -px-my-5 -h db.example.org mail',
      'mysql -u root -p<redacted> -h db.example.org mail',
    ],
    ['mysqldump --password=x-my-6 mail', 'mysqldump --password=<redacted> mail'],
    ['Authorization: Bearer x.tok-7', 'Authorization: Bearer <redacted>'],
    ['Authorization: Basic YWxpY2U6eC04', 'Authorization: Basic <redacted>'],
    [
      "curl -H 'Authorization: Token x-tok-9' https://api.example.org/v1",
      "curl -H 'Authorization: Token <redacted>' https://api.example.org/v1",
    ],
    [
      'Server=db.example.org;Database=mail;User Id=sa;Password=x 10;',
      'Server=db.example.org;Database=mail;User Id=sa;Password=<redacted>;',
    ],
    [
      'url: imaps://alice:x-url-11@mail.example.org:993/INBOX',
      'url: imaps://alice:<redacted>@mail.example.org:993/INBOX',
    ],
    ["'password' => 'x-php-12',", "'password' => '<redacted>',"],
    [
      'ldapsearch -x -D cn=admin -w x-ldap-13 -b dc=example',
      'ldapsearch -x -D cn=admin -w <redacted> -b dc=example',
    ],
  ])('redacts %s', (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  it.each([
    'mysql -u root -p -h db.example.org mail',
    '<add key="PasswordLength" value="12" />',
    'pass_attrs = uid=user,userPassword=password',
    '# Password for LDAP server, if dn is specified.',
    '// SMTP username and password: use the IMAP login',
    'the Authorization header is passed on',
    '{"password_scheme": "SHA512-CRYPT", "password_file": "/etc/app/db.pass"}',
    'proxy_set_header Authorization $http_authorization;',
  ])('leaves %s as it is', (line) => {
    expect(redact(line)).toBe(line);
  });

  it('redacts a YAML block scalar under a secret key, and nothing below it', () => {
    const text = 'token: |\n  line-one-x\n  line-two-y\nhost: mail.example.org\n';
    expect(redact(text)).toBe('token: |\n  <redacted>\nhost: mail.example.org\n');
  });
});
