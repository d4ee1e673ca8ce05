import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTransport, type NodemailerError, type SMTPSentMessageInfo } from 'nodemailer';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import type { Config } from '../config/schema.js';
import type { Notice, NoticeResult } from './notice.js';
import { bareAddress, noticeRecipients } from './recipients.js';
import { renderNotice } from './render-notice.js';
import { DEFAULT_SMTP_TIMEOUTS, smtpTransportOptions, type SmtpTimeouts } from './smtp-options.js';

export type { Notice, NoticeResult } from './notice.js';

/** Tells people about operations. Sending problems come back in the result, never as errors. */
export interface Notifier {
  send(notice: Notice): Promise<NoticeResult>;
}

export type NotifyConfig = Config['notify'];

/** Reads a secret file named in the configuration (the caller resolves relative paths). */
export type ReadSecret = (path: string) => Promise<string>;

export interface NotifierOptions {
  timeouts?: SmtpTimeouts;
  /** Pause before the one retry, giving a restarting server a moment. */
  retryDelayMs?: number;
}

const MAX_ATTEMPTS = 2;
const DEFAULT_RETRY_DELAY_MS = 2_000;

export const NOTIFY_NEEDS_SMTP = '--notify needs notify.smtp in the configuration';

export function createNotifier(
  config: NotifyConfig | undefined,
  readSecret: ReadSecret,
  log: Logger,
  options: NotifierOptions = {},
): Notifier {
  if (!config) return { send: unconfiguredSend };
  return new SmtpNotifier(config, readSecret, log, options);
}

/**
 * Nobody configured to tell: fine, unless someone asked by address, who would otherwise wait for
 * a message that never comes. That is a usage mistake (exit 2), raised by the 'started' notice
 * before any work.
 */
async function unconfiguredSend(notice: Notice): Promise<NoticeResult> {
  if (notice.initiator) throw new ConfigError(NOTIFY_NEEDS_SMTP);
  return { status: 'skipped', recipients: [], rejected: [], attempts: 0 };
}

class SmtpNotifier implements Notifier {
  private password?: Promise<string | undefined>;

  constructor(
    private readonly config: NonNullable<NotifyConfig>,
    private readonly readSecret: ReadSecret,
    private readonly log: Logger,
    private readonly options: NotifierOptions,
  ) {}

  async send(notice: Notice): Promise<NoticeResult> {
    const recipients = noticeRecipients(notice.initiator, this.config.admins);
    if (recipients.length === 0)
      return { status: 'skipped', recipients, rejected: [], attempts: 0 };
    const failed = (error: unknown, attempts: number): NoticeResult => {
      const warning = `could not e-mail the ${notice.title} ${notice.phase} notice to ${recipients.join(', ')}: ${describe(error)}`;
      this.log.warn({ kind: notice.kind, phase: notice.phase, recipients, attempts }, warning);
      return { status: 'failed', recipients, rejected: [], attempts, warning };
    };
    let password: string | undefined;
    try {
      password = await this.smtpPassword();
    } catch (error) {
      return failed(error, 0);
    }
    const transport = createTransport(
      smtpTransportOptions(this.config.smtp, password, this.timeouts()),
    );
    const mail = this.message(notice, recipients);
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const info: SMTPSentMessageInfo = await transport.sendMail(mail);
          return this.sent(notice, recipients, info, attempt);
        } catch (error) {
          if (attempt >= MAX_ATTEMPTS || !worthRetrying(error as NodemailerError))
            return failed(error, attempt);
          await sleep(this.options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS);
        }
      }
    } finally {
      transport.close();
    }
  }

  private timeouts(): SmtpTimeouts {
    return this.options.timeouts ?? DEFAULT_SMTP_TIMEOUTS;
  }

  /** Read once, when first needed: a notifier that never sends needs no password file. */
  private smtpPassword(): Promise<string | undefined> {
    const { user, passwordFile } = this.config.smtp;
    this.password ??= (async () => {
      if (user === undefined) return undefined;
      if (passwordFile === undefined)
        throw new Error('notify.smtp.user is set but notify.smtp.passwordFile is not');
      return this.readSecret(passwordFile);
    })();
    return this.password;
  }

  private message(notice: Notice, recipients: string[]) {
    const rendered = renderNotice(notice);
    const domain = bareAddress(this.config.smtp.from)?.split('@')[1] || hostname();
    const operation = notice.operationId?.replace(/[^A-Za-z0-9.-]/g, '-');
    const idOf = (phase: string): string =>
      `<mailvault.${operation ?? randomUUID()}.${phase}@${domain}>`;
    // Only a known operation can point back at its 'started' message.
    const thread =
      operation !== undefined && notice.phase !== 'started'
        ? { inReplyTo: idOf('started'), references: [idOf('started')] }
        : {};
    return {
      from: this.config.smtp.from,
      to: recipients,
      subject: rendered.subject,
      text: rendered.text,
      attachments: rendered.attachments,
      messageId: idOf(notice.phase),
      ...thread,
      date: notice.finishedAt ?? notice.startedAt ?? new Date(),
      headers: {
        // RFC 3834: out-of-office responders must not answer a machine.
        'Auto-Submitted': 'auto-generated',
        'X-Mailvault-Kind': notice.kind,
        'X-Mailvault-Phase': notice.phase,
      },
    };
  }

  private sent(
    notice: Notice,
    recipients: string[],
    info: SMTPSentMessageInfo,
    attempts: number,
  ): NoticeResult {
    const rejected = info.rejected.map(String);
    const result: NoticeResult = {
      status: 'sent',
      recipients,
      rejected,
      messageId: info.messageId,
      attempts,
    };
    if (rejected.length > 0)
      result.warning = `the mail server refused the ${notice.title} ${notice.phase} notice for ${rejected.join(', ')}`;
    this.log.info(
      { kind: notice.kind, phase: notice.phase, recipients, rejected, messageId: info.messageId },
      'notification sent',
    );
    return result;
  }
}

/**
 * One retry, and only where a second try can succeed: a dropped or refused connection, a
 * timeout, a 4xx "try again later". A refused address or a wrong password stays refused.
 */
function worthRetrying(error: NodemailerError): boolean {
  if (error.responseCode !== undefined) return error.permanent === false;
  return ['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS'].includes(error.code ?? '');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const smtp = error as NodemailerError;
  return smtp.response && !error.message.includes(smtp.response)
    ? `${error.message} (${smtp.response})`
    : error.message;
}
