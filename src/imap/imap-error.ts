/**
 * What went wrong talking to an IMAP server, in words an administrator can act on.
 * `kind` tells the caller whether trying again can help.
 */
export type ImapErrorKind =
  /** Wrong password, unknown account, refused authorization: retrying will not help. */
  | 'auth'
  /** Cannot connect: refused, unknown host, timeout. */
  | 'unreachable'
  /** The TLS handshake failed: a certificate that cannot be verified, for instance. */
  | 'tls'
  /** The connection broke in the middle of work. */
  | 'dropped'
  /** The server refused a command (NO/BAD). */
  | 'refused';

export class ImapError extends Error {
  constructor(
    readonly kind: ImapErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ImapError';
  }

  get retryable(): boolean {
    return this.kind === 'unreachable' || this.kind === 'dropped';
  }
}

interface ImapFlowErrorShape {
  code?: string;
  authenticationFailed?: boolean;
  responseText?: string;
  responseStatus?: string;
  message?: string;
}

/** Classifies an error thrown by imapflow or the socket. */
export function classifyImapError(error: unknown, where: string): ImapError {
  if (error instanceof ImapError) return error;
  const shape = (error ?? {}) as ImapFlowErrorShape;
  const code = shape.code ?? '';
  if (shape.authenticationFailed) {
    return new ImapError(
      'auth',
      `${where}: login refused: ${shape.responseText ?? 'authentication failed'}`,
      { cause: error },
    );
  }
  if (
    [
      'ECONNREFUSED',
      'ENOTFOUND',
      'EAI_AGAIN',
      'EHOSTUNREACH',
      'ENETUNREACH',
      'CONNECT_TIMEOUT',
      'GREETING_TIMEOUT',
    ].includes(code)
  ) {
    const why = {
      ECONNREFUSED: 'connection refused',
      ENOTFOUND: 'unknown host',
      EAI_AGAIN: 'host name lookup failed',
      EHOSTUNREACH: 'host unreachable',
      ENETUNREACH: 'network unreachable',
      CONNECT_TIMEOUT: 'timed out connecting',
      GREETING_TIMEOUT: 'no greeting from the server',
    }[code];
    return new ImapError('unreachable', `${where}: cannot connect: ${why}`, { cause: error });
  }
  if (/certificate|self[- ]signed|SSL|TLS/i.test(`${code} ${shape.message ?? ''}`)) {
    return new ImapError(
      'tls',
      `${where}: TLS failed: ${shape.message ?? code} (give the server's CA in imap.caFile, or set imap.verifyCertificate: false for a test server)`,
      { cause: error },
    );
  }
  if (shape.responseStatus === 'NO' || shape.responseStatus === 'BAD') {
    return new ImapError(
      'refused',
      `${where}: the server refused: ${shape.responseText ?? shape.message ?? 'command failed'}`,
      { cause: error },
    );
  }
  return new ImapError(
    'dropped',
    `${where}: connection lost: ${shape.message ?? code ?? String(error)}`,
    { cause: error },
  );
}
