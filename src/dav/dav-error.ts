/**
 * What went wrong talking to a DAV server, in words an administrator can act on: which
 * server, which request, which status. `kind` tells the caller whether trying again can help.
 */
export type DavErrorKind =
  /** 401: wrong user or password; retrying will not help. */
  | 'auth'
  /** Cannot connect: refused, unknown host. */
  | 'unreachable'
  /** The TLS handshake failed: a certificate that cannot be verified, for instance. */
  | 'tls'
  /** No answer within the configured time. */
  | 'timeout'
  /** The connection broke in the middle of a request. */
  | 'dropped'
  /** 404 (or 410) for something that must exist: a principal, a collection. */
  | 'not-found'
  /** Another 4xx: the server understood and said no. */
  | 'refused'
  /** 5xx, still there after the retries. */
  | 'server'
  /** An answer that is not what the protocol says: malformed XML, a missing property. */
  | 'protocol';

export class DavError extends Error {
  constructor(
    readonly kind: DavErrorKind,
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DavError';
  }

  get retryable(): boolean {
    return (
      this.kind === 'unreachable' ||
      this.kind === 'dropped' ||
      this.kind === 'timeout' ||
      this.kind === 'server'
    );
  }
}

const CONNECT_FAILURES: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
};

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

interface ErrorShape {
  name?: string;
  code?: string;
  message?: string;
  cause?: unknown;
}

/** The innermost cause that carries an error code (fetch wraps socket errors in "fetch failed"). */
function rootCause(error: unknown): ErrorShape {
  let shape = (error ?? {}) as ErrorShape;
  for (let depth = 0; depth < 5 && shape.code === undefined && shape.cause; depth++) {
    shape = shape.cause as ErrorShape;
  }
  return shape;
}

/** Classifies an error thrown by fetch (or by reading a response body) for `where`. */
export function classifyFetchError(error: unknown, where: string, timeoutMs: number): DavError {
  if (error instanceof DavError) return error;
  const outer = (error ?? {}) as ErrorShape;
  if (outer.name === 'TimeoutError') {
    return new DavError('timeout', `${where}: no answer within ${timeoutMs} ms`, null, {
      cause: error,
    });
  }
  const cause = rootCause(error);
  const code = cause.code ?? '';
  const why = CONNECT_FAILURES[code];
  if (why !== undefined) {
    return new DavError('unreachable', `${where}: cannot connect: ${why}`, null, { cause: error });
  }
  if (TLS_CODES.has(code) || /certificate|SSL|TLS/i.test(`${code} ${cause.message ?? ''}`)) {
    return new DavError(
      'tls',
      `${where}: TLS failed: ${cause.message ?? code} (give the server's CA in dav.caFile, or set dav.verifyCertificate: false for a test server)`,
      null,
      { cause: error },
    );
  }
  const detail = cause.message ?? outer.message ?? String(error);
  return new DavError(
    'dropped',
    `${where}: connection lost: ${detail}${code ? ` (${code})` : ''}`,
    null,
    {
      cause: error,
    },
  );
}

/** The kind for an HTTP status that is an error. */
export function kindForStatus(status: number): DavErrorKind {
  if (status === 401) return 'auth';
  if (status === 404 || status === 410) return 'not-found';
  if (status >= 500) return 'server';
  return 'refused';
}
