import { isIP } from 'node:net';
import type { SMTPTransportOptions } from 'nodemailer';
import type { Config } from '../config/schema.js';

export type SmtpConfig = NonNullable<Config['notify']>['smtp'];

export interface SmtpTimeouts {
  /** Reaching the server (TCP, and TLS when implicit). */
  connectMs: number;
  /** The server's greeting once connected: a server that accepts and says nothing must not hang us. */
  greetingMs: number;
  /** Silence in mid-conversation. */
  idleMs: number;
}

/**
 * Short enough that a dead mail server delays a restore by seconds, not by nodemailer's default
 * two minutes per attempt; long enough for a slow relay doing its DNS and spam checks.
 */
export const DEFAULT_SMTP_TIMEOUTS: SmtpTimeouts = {
  connectMs: 10_000,
  greetingMs: 10_000,
  idleMs: 30_000,
};

/**
 * nodemailer's options for the configured server. `secure` chooses implicit TLS (the default on
 * port 465) or plain SMTP upgraded with STARTTLS when the server offers it. A password is never
 * sent in clear over the network: with credentials, STARTTLS becomes mandatory unless the server
 * is on this machine, where local relays commonly have no certificate.
 */
export function smtpTransportOptions(
  smtp: SmtpConfig,
  password: string | undefined,
  timeouts: SmtpTimeouts,
): SMTPTransportOptions {
  const implicitTls = smtp.secure ?? smtp.port === 465;
  const auth = smtp.user !== undefined && password !== undefined;
  return {
    host: smtp.host,
    port: smtp.port,
    secure: implicitTls,
    requireTLS: !implicitTls && auth && !isLoopback(smtp.host),
    ...(auth ? { auth: { user: smtp.user, pass: password } } : {}),
    connectionTimeout: timeouts.connectMs,
    greetingTimeout: timeouts.greetingMs,
    socketTimeout: timeouts.idleMs,
    dnsTimeout: timeouts.connectMs,
    // The notifier only sends strings it built; never let content be read as a path or a URL.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}
