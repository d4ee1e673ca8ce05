import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/config-error.js';
import type { Notice } from './notice.js';
import { createNotifier, NOTIFY_NEEDS_SMTP } from './notifier.js';

const log = pino({ level: 'silent' });
const noSecrets = (): Promise<string> => Promise.reject(new Error('no secret expected'));
const started: Notice = {
  kind: 'restore',
  phase: 'started',
  title: 'restore of alice@example.com',
  parameters: { Account: 'alice@example.com' },
};

describe('createNotifier without notify in the configuration', () => {
  it('sends nothing when nobody asked', async () => {
    const result = await createNotifier(undefined, noSecrets, log).send(started);
    expect(result).toMatchObject({ status: 'skipped', recipients: [], attempts: 0 });
  });

  it('refuses an explicit --notify address as a configuration mistake', async () => {
    const send = createNotifier(undefined, noSecrets, log).send({
      ...started,
      initiator: 'alice@example.com',
    });
    await expect(send).rejects.toBeInstanceOf(ConfigError);
    await expect(send).rejects.toThrow(NOTIFY_NEEDS_SMTP);
  });
});

describe('createNotifier with SMTP but nobody to tell', () => {
  it('skips without connecting or reading the password', async () => {
    const notifier = createNotifier(
      {
        smtp: {
          host: '192.0.2.1',
          port: 25,
          from: 'mailvault@example.com',
          user: 'u',
          passwordFile: 'p',
        },
        admins: [],
      },
      noSecrets,
      log,
    );
    expect(await notifier.send(started)).toMatchObject({ status: 'skipped', attempts: 0 });
  });
});

describe('createNotifier with an unreadable password file', () => {
  it('reports the failure instead of throwing', async () => {
    const notifier = createNotifier(
      {
        smtp: {
          host: '192.0.2.1',
          port: 25,
          from: 'mailvault@example.com',
          user: 'u',
          passwordFile: 'p',
        },
        admins: ['ops@example.com'],
      },
      () => Promise.reject(new Error('notify.smtp.passwordFile: cannot read p: no such file')),
      log,
    );
    const result = await notifier.send(started);
    expect(result.status).toBe('failed');
    expect(result.warning).toContain('cannot read p');
    expect(result.warning).toContain('ops@example.com');
  });
});
