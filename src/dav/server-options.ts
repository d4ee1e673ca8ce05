/** A DAV login: Basic authentication. */
export interface DavCredentials {
  user: string;
  password: string;
}

/** How to reach a DAV server. Built by the CLI from the configuration. */
export interface DavServerOptions {
  /** The DAV root, e.g. https://mail.example.com/dav/ (a bare origin is looked up through /.well-known). */
  url: string;
  credentials: DavCredentials;
  /** Default true. */
  verifyCertificate?: boolean;
  /** PEM file of the CA that signed the server's certificate. */
  caFile?: string;
  /** Per request, answer included. Default 60 s. */
  timeoutMs?: number;
  /** Attempts after a dropped connection, a timeout or a 5xx. Default 2. */
  retries?: number;
  /**
   * When the credentials are an administrator's, where the account's principal lives, relative
   * to the DAV root, e.g. "{account}/" (Radicale). Without it, current-user-principal is used
   * (per-account credentials).
   */
  principalPath?: string;
}

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_RETRIES = 2;
