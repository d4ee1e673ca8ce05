import { describe, expect, it } from 'vitest';
import { HostKeyCheck } from './host-key-check.js';
import {
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsLine,
  knownKeyTypes,
  parseKnownHosts,
} from './known-hosts.js';

// Real keys made with ssh-keygen; the fingerprints are those `ssh-keygen -lf` printed for them.
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPX3P1gYEZ9sAWJHJ66eintXmNcN8C00etSJi7bSa8qS';
const ED25519_FINGERPRINT = 'SHA256:uJNjwhGqzb9/0E/Jlo3h+y/ZG+9BPQlB54S9peOFAxo';
const OTHER_ED25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMnEs8DEWR/6OTNXtDnpMY+cCFPUeZSQfV19Zds7Z/QO';
const ECDSA =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGULX4EHw8A519IerwUENqQcObRdQmZZw7H2xaG6VXFyZrqxu3jaoe/lB1qeohCtysenrPBkzfY3QDZCwB37hso=';
const ECDSA_FINGERPRINT = 'SHA256:ugoc9rKim0X805itwFY9mjSvvuwS4dqRfVIF/bJVOS8';
const RSA =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDJ2VTA7qy/nKWsWc5TD8Tz4Fj7SFpq3jlqkHChpsUJVZ+aOj8CDodvca3kYLK3XHSOMxk/ntOo0VqUiRHNHtaqChd4nFtWq1q8hc5rBuRg2I2kRF9Go8gUXUhq2ZT075D6fahdConDV5uqStNfbmN0c27qwoKImy/HsAC8SWBhYQ==';
const RSA_FINGERPRINT = 'SHA256:BmJV+27aSAY5RY6txri+nPxOFUrj3MGHYypu0CVcnJQ';

/** What `ssh-keygen -H` wrote for `backup.example.org ED25519` and `[10.0.0.5]:2222 ECDSA`. */
const HASHED = `|1|fvl6LzS9dyAdiyO8C1bsm27fhTs=|zPNNU8DW4P94bMYnKJ74GoW8U/Y= ${ED25519}
|1|ce7XHd34uIyjA0eu8f2R5XqiRss=|CfZuZCLwIpySgKyUxCgel5rCI7Q= ${ECDSA}
`;

const blob = (line: string): Buffer => Buffer.from(line.split(' ')[1] ?? '', 'base64');

describe('known_hosts parsing', () => {
  it('reads plain names, [host]:port names, lists, comments and every key type', () => {
    const entries = parseKnownHosts(
      [
        '# a comment',
        '',
        `backup.example.org,192.0.2.7 ${ED25519} root@backup`,
        `[backup.example.org]:2222 ${ECDSA}`,
        `  rsa.example.org\t${RSA}  `,
      ].join('\n'),
    );
    expect(entries.map((entry) => [entry.line, entry.keyType])).toEqual([
      [3, 'ssh-ed25519'],
      [4, 'ecdsa-sha2-nistp256'],
      [5, 'ssh-rsa'],
    ]);
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(ED25519))).toEqual({
      status: 'known',
    });
    expect(checkHostKey(entries, '192.0.2.7', 22, blob(ED25519)).status).toBe('known');
    expect(checkHostKey(entries, 'BACKUP.example.org', 2222, blob(ECDSA)).status).toBe('known');
    expect(checkHostKey(entries, 'rsa.example.org', 22, blob(RSA)).status).toBe('known');
  });

  it('keeps a port apart: a name without one means port 22 only', () => {
    const entries = parseKnownHosts(`backup.example.org ${ED25519}\n`);
    expect(checkHostKey(entries, 'backup.example.org', 2222, blob(ED25519))).toEqual({
      status: 'unknown',
    });
    const withPort = parseKnownHosts(`[backup.example.org]:2222 ${ED25519}\n`);
    expect(checkHostKey(withPort, 'backup.example.org', 22, blob(ED25519)).status).toBe('unknown');
  });

  it('matches hashed names as ssh-keygen -H writes them, with and without a port', () => {
    const entries = parseKnownHosts(HASHED);
    expect(entries).toHaveLength(2);
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(ED25519)).status).toBe('known');
    expect(checkHostKey(entries, '10.0.0.5', 2222, blob(ECDSA)).status).toBe('known');
    expect(checkHostKey(entries, '10.0.0.5', 22, blob(ECDSA)).status).toBe('unknown');
    expect(checkHostKey(entries, 'other.example.org', 22, blob(ED25519)).status).toBe('unknown');
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(OTHER_ED25519))).toEqual({
      status: 'mismatch',
      lines: [1],
    });
  });

  it('calls a different key for a known host a mismatch, whatever its type', () => {
    const entries = parseKnownHosts(`# keys\nbackup.example.org ${ED25519}\n`);
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(OTHER_ED25519))).toEqual({
      status: 'mismatch',
      lines: [2],
    });
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(RSA)).status).toBe('mismatch');
  });

  it('knows a host by any of its recorded keys', () => {
    const entries = parseKnownHosts(`h ${OTHER_ED25519}\nh ${ED25519}\nh ${RSA}\n`);
    expect(checkHostKey(entries, 'h', 22, blob(ED25519)).status).toBe('known');
    expect(knownKeyTypes(entries, 'h', 22)).toEqual(['ssh-ed25519', 'ssh-rsa']);
    expect(knownKeyTypes(entries, 'elsewhere', 22)).toEqual([]);
  });

  it('follows wildcards and negations in pattern lists', () => {
    const entries = parseKnownHosts(`*.example.org,!secret.example.org ${ED25519}\n`);
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(ED25519)).status).toBe('known');
    expect(checkHostKey(entries, 'secret.example.org', 22, blob(ED25519)).status).toBe('unknown');
    expect(checkHostKey(entries, 'example.org', 22, blob(ED25519)).status).toBe('unknown');
    const question = parseKnownHosts(`host?.lan ${ED25519}\n`);
    expect(checkHostKey(question, 'host1.lan', 22, blob(ED25519)).status).toBe('known');
    expect(checkHostKey(question, 'host10.lan', 22, blob(ED25519)).status).toBe('unknown');
  });

  it('refuses a revoked key and leaves certificate authorities aside', () => {
    const entries = parseKnownHosts(
      `@revoked * ${ED25519}\nbackup.example.org ${ED25519}\n@cert-authority * ${RSA}\n`,
    );
    expect(checkHostKey(entries, 'backup.example.org', 22, blob(ED25519))).toEqual({
      status: 'revoked',
      line: 1,
    });
    expect(checkHostKey(entries, 'other.example.org', 22, blob(RSA)).status).toBe('unknown');
  });

  it('passes over damaged lines', () => {
    const entries = parseKnownHosts(
      [
        'lonely.example.org',
        `typo.example.org ssh-rsa ${blob(ED25519).toString('base64')}`,
        `|1|short|hash ${ED25519}`,
        `@unknown-marker h ${ED25519}`,
        `good.example.org ${ED25519}`,
      ].join('\n'),
    );
    expect(entries.map((entry) => entry.line)).toEqual([5]);
  });
});

describe('host key descriptions', () => {
  it('gives the fingerprints ssh-keygen -l gives', () => {
    expect(fingerprint(blob(ED25519))).toBe(ED25519_FINGERPRINT);
    expect(fingerprint(blob(ECDSA))).toBe(ECDSA_FINGERPRINT);
    expect(fingerprint(blob(RSA))).toBe(RSA_FINGERPRINT);
  });

  it('reads the type from a key blob', () => {
    expect(keyTypeOf(blob(ECDSA))).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(Buffer.from([0, 0]))).toBe('');
  });

  it('writes the line ssh would record, which then reads back as known', () => {
    expect(knownHostsLine('Backup.Example.org', 22, blob(ED25519))).toBe(
      `backup.example.org ${ED25519}`,
    );
    const line = knownHostsLine('127.0.0.1', 2222, blob(RSA));
    expect(line).toBe(`[127.0.0.1]:2222 ${RSA}`);
    expect(checkHostKey(parseKnownHosts(line), '127.0.0.1', 2222, blob(RSA)).status).toBe('known');
  });
});

describe('host key check', () => {
  const policy = (text: string, acceptUnknownHostKey = false) => {
    const warnings: string[] = [];
    return {
      warnings,
      check: HostKeyCheck.fromText(text, 'backup.example.org', 2222, {
        knownHostsFile: '/home/backup/.ssh/known_hosts',
        acceptUnknownHostKey,
        warn: (message: string) => warnings.push(message),
      }),
    };
  };

  it('asks for the recorded key types first', () => {
    const { check } = policy(`[backup.example.org]:2222 ${RSA}\n`);
    expect(check.algorithms().slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(check.algorithms()).toContain('ssh-ed25519');
    expect(new Set(check.algorithms()).size).toBe(check.algorithms().length);
  });

  it('refuses an unknown key with its fingerprint and the line to add', () => {
    const { check } = policy('');
    expect(check.verify(blob(ED25519))).toBe(false);
    expect(check.refusal).toContain(ED25519_FINGERPRINT);
    expect(check.refusal).toContain(`[backup.example.org]:2222 ${ED25519}`);
    expect(check.refusal).toContain('/home/backup/.ssh/known_hosts');
  });

  it('accepts an unknown key when told to, and says so', () => {
    const { check, warnings } = policy('', true);
    expect(check.verify(blob(ED25519))).toBe(true);
    // A key re-exchange asks again; the log says it once.
    expect(check.verify(blob(ED25519))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(ED25519_FINGERPRINT);
  });

  it('refuses a changed key even when unknown keys are accepted', () => {
    const { check, warnings } = policy(`[backup.example.org]:2222 ${OTHER_ED25519}\n`, true);
    expect(check.verify(blob(ED25519))).toBe(false);
    expect(check.refusal).toMatch(/differs from the host key recorded .* \(line 1\)/);
    expect(check.refusal).toContain(ED25519_FINGERPRINT);
    expect(warnings).toEqual([]);
  });
});
