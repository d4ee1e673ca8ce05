/**
 * How to reach an IMAP server and log in as one account. Built by the CLI from the
 * configuration; everything below works from this alone.
 */
export interface ImapEndpoint {
  /** The configured server name, for messages. */
  server: string;
  host: string;
  port: number;
  tls: 'implicit' | 'starttls' | 'none';
  verifyCertificate: boolean;
  ca?: Buffer;
  /** Seconds before a connection attempt or a silent server is given up. */
  timeout: number;
  /** Attempts after a dropped connection or a failed connect. */
  retries: number;
}

/**
 * An account login. `authzid`: SASL PLAIN as the admin with the account as authorization identity;
 * `master`: LOGIN "account<separator>admin" (Dovecot master users); `account`: the account's own password.
 */
export type ImapLogin =
  | { mode: 'authzid'; account: string; admin: string; password: string }
  | { mode: 'master'; account: string; admin: string; password: string; separator: string }
  | { mode: 'account'; account: string; password: string };

export function defaultPort(tls: ImapEndpoint['tls']): number {
  return tls === 'implicit' ? 993 : 143;
}
