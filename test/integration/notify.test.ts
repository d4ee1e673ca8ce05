// Notifications go through a real SMTP server on loopback: what arrives is checked as a mail
// client would read it (recipients, subject, the table in the body, report.json), and a mail
// server that is down or silent costs a bounded wait and a warning, never the operation.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { Notice } from '../../src/notify/notice.js';
import { createNotifier, type NotifierOptions } from '../../src/notify/notifier.js';
import { restoreOutcome } from '../../src/app/restore/restore-outcome.js';
import type { RestoreReport } from '../../src/restore/restore-report.js';
import { parseMail, startSmtpReceiver, type SmtpReceiver } from '../support/smtp-receiver.js';

const log = pino({ level: 'silent' });
const fast: NotifierOptions = {
  timeouts: { connectMs: 1_000, greetingMs: 500, idleMs: 2_000 },
  retryDelayMs: 100,
};

function notifyConfig(port: number, extra: object = {}): NonNullable<Config['notify']> {
  return {
    smtp: { host: '127.0.0.1', port, from: 'mailvault@example.com', ...extra },
    admins: ['ops@example.com', 'ALICE@example.com'],
  };
}

const report: RestoreReport = {
  account: 'mail1/alice@example.com',
  target: 'mail1/alice@example.com',
  snapshot: '5e1f',
  snapshotTime: '2026-11-20T13:30:00.000Z',
  folders: [
    {
      folder: 'INBOX',
      target: 'INBOX',
      created: false,
      subscribed: true,
      restored: 38,
      alreadyPresent: 5,
      failed: 2,
    },
    {
      folder: 'Trash',
      target: 'Trash',
      created: true,
      subscribed: true,
      restored: 2,
      alreadyPresent: 0,
      failed: 0,
    },
  ],
  failures: [
    { folder: 'INBOX', uid: 7, reason: 'APPEND refused: too big' },
    { folder: 'INBOX', uid: 9, reason: 'APPEND refused: bad date' },
  ],
  totals: { restored: 40, alreadyPresent: 5, failed: 2, foldersCreated: 1, bytes: 4096 },
};

function restoreNotices(): { started: Notice; finished: Notice } {
  const started: Notice = {
    kind: 'restore',
    phase: 'started',
    title: 'restore of alice@example.com',
    operationId: randomUUID(),
    initiator: 'alice@example.com',
    parameters: { Account: report.account, Target: report.target, 'As of': 'last' },
    startedAt: new Date(),
  };
  const finished: Notice = {
    ...started,
    phase: 'finished',
    finishedAt: new Date(),
    outcome: restoreOutcome(report),
    report,
  };
  return { started, finished };
}

describe('notifications over SMTP', () => {
  let receiver: SmtpReceiver;
  beforeAll(async () => {
    receiver = await startSmtpReceiver({ refuse: ['gone@example.com'] });
  });
  afterAll(async () => {
    await receiver?.stop();
  });

  it('sends a started and a finished notice to the initiator and the admins, once each', async () => {
    const before = receiver.messages().length;
    const notifier = createNotifier(
      notifyConfig(receiver.port),
      () => Promise.resolve(''),
      log,
      fast,
    );
    const { started, finished } = restoreNotices();
    const first = await notifier.send(started);
    const second = await notifier.send(finished);
    expect(first).toMatchObject({ status: 'sent', attempts: 1, rejected: [] });
    expect(first.warning).toBeUndefined();
    expect(second.status).toBe('sent');
    const [startMail, endMail] = (await receiver.waitFor(before + 2)).slice(before);
    if (!startMail || !endMail) throw new Error('two messages expected');

    expect(startMail.mailFrom).toBe('mailvault@example.com');
    expect(startMail.rcptTo).toEqual(['alice@example.com', 'ops@example.com']);
    const startParsed = parseMail(startMail.raw);
    expect(startParsed.subject).toBe('[mailvault] restore of alice@example.com started');
    expect(startParsed.header('auto-submitted')).toBe('auto-generated');
    expect(startParsed.attachments).toEqual([]);
    expect(startParsed.text).toContain('Account:  mail1/alice@example.com');

    expect(endMail.rcptTo).toEqual(['alice@example.com', 'ops@example.com']);
    const end = parseMail(endMail.raw);
    expect(end.subject).toBe(
      '[mailvault] restore of alice@example.com finished: 40 restored, 5 already present, 2 failed',
    );
    expect(end.header('message-id')).toBe(second.messageId);
    expect(end.header('message-id')).toMatch(/@example\.com>$/);
    expect(end.header('in-reply-to')).toBe(first.messageId);
    expect(end.text).toContain(
      [
        'FOLDER  RESTORED  ALREADY PRESENT  FAILED',
        'INBOX         38                5       2',
        'Trash          2                0       0  created',
        '-----------------------------------------',
        'TOTAL         40                5       2',
      ].join('\n'),
    );
    expect(end.text).toContain('INBOX UID 7: APPEND refused: too big');
    const [attachment, ...others] = end.attachments;
    expect(others).toEqual([]);
    expect(attachment?.filename).toBe('report.json');
    expect(attachment?.contentType).toBe('application/json');
    expect(JSON.parse(attachment?.content.toString('utf8') ?? '')).toEqual(report);
  });

  it('logs in with the configured user and the password file', async () => {
    const before = receiver.messages().length;
    const files: string[] = [];
    const readSecret = (path: string): Promise<string> => {
      files.push(path);
      return Promise.resolve('s3cret');
    };
    const config = notifyConfig(receiver.port, {
      user: 'mailer',
      passwordFile: '/etc/mv/smtp.pass',
    });
    const notifier = createNotifier(config, readSecret, log, fast);
    const { started, finished } = restoreNotices();
    expect((await notifier.send(started)).status).toBe('sent');
    expect((await notifier.send(finished)).status).toBe('sent');
    const mails = (await receiver.waitFor(before + 2)).slice(before);
    expect(mails.map((m) => m.auth?.username)).toEqual(['mailer', 'mailer']);
    expect(mails[0]?.auth?.password).toBe('s3cret');
    expect(files).toEqual(['/etc/mv/smtp.pass']);
  });

  it('reports recipients the server refused while delivering to the others', async () => {
    const notifier = createNotifier(
      notifyConfig(receiver.port),
      () => Promise.resolve(''),
      log,
      fast,
    );
    const result = await notifier.send({
      ...restoreNotices().started,
      initiator: 'gone@example.com',
    });
    expect(result.status).toBe('sent');
    expect(result.rejected).toEqual(['gone@example.com']);
    expect(result.warning).toContain('refused');
  });
});

describe('a mail server in trouble', () => {
  it('is tried once more after a 421, and the notice arrives', async () => {
    const busy = await startSmtpReceiver({ busyConnections: 1 });
    try {
      const notifier = createNotifier(
        notifyConfig(busy.port),
        () => Promise.resolve(''),
        log,
        fast,
      );
      const result = await notifier.send(restoreNotices().started);
      expect(result).toMatchObject({ status: 'sent', attempts: 2 });
      expect(busy.connections).toBe(2);
      expect(await busy.waitFor(1)).toHaveLength(1);
    } finally {
      await busy.stop();
    }
  });

  it('gives a failed result, not an exception, when nothing listens', async () => {
    const port = await unusedPort();
    const notifier = createNotifier(notifyConfig(port), () => Promise.resolve(''), log, fast);
    const began = Date.now();
    const result = await notifier.send(restoreNotices().started);
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(result).toMatchObject({ status: 'failed', attempts: 2 });
    expect(result.recipients).toEqual(['alice@example.com', 'ops@example.com']);
    expect(result.warning).toMatch(
      /could not e-mail the restore of alice@example\.com started notice/,
    );
    expect(result.warning).toContain('ECONNREFUSED');
  });

  it('gives up on a server that accepts the connection and never greets', async () => {
    const { server, port, sockets } = await silentServer();
    try {
      const notifier = createNotifier(notifyConfig(port), () => Promise.resolve(''), log, fast);
      const began = Date.now();
      const result = await notifier.send(restoreNotices().started);
      // Two greeting timeouts of 0.5 s and a 0.1 s pause, with room for a slow machine.
      expect(Date.now() - began).toBeLessThan(5_000);
      expect(result).toMatchObject({ status: 'failed', attempts: 2 });
      expect(result.warning).toMatch(/greeting|timeout/i);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

async function unusedPort(): Promise<number> {
  const { server, port } = await silentServer();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function silentServer(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port, sockets };
}
