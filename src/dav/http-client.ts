// HTTP for DAV over undici's fetch: Basic authentication sent up front, redirects followed by
// hand (each one counted, credentials kept only on the same site), a time limit per request,
// retries for what may pass (a dropped connection, a timeout, a 5xx), and every request
// counted, so that a benchmark can say what a no-change run costs.
// undici's fetch rather than the global one: the global fetch is Node's bundled undici, which
// need not accept a dispatcher from the `undici` package (tls-dispatcher.ts).
import { fetch, type Agent } from 'undici';
import { classifyFetchError, DavError, kindForStatus } from './dav-error.js';
import { parseErrorBody } from './multistatus.js';
import {
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  type DavCredentials,
  type DavServerOptions,
} from './server-options.js';
import { openDispatcher } from './tls-dispatcher.js';

export interface DavRequest {
  method: string;
  /** A path on the server, or a full URL. */
  url: string | URL;
  depth?: '0' | '1' | 'infinity';
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface DavHttpResponse {
  status: number;
  statusText: string;
  /** Where the answer came from, after redirects: the base for relative hrefs in it. */
  url: URL;
  headers: Headers;
  body: Buffer;
}

/** An answer whose body is read as it arrives. */
export interface DavStreamedResponse extends Omit<DavHttpResponse, 'body'> {
  body: AsyncIterable<Uint8Array>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
/** Statuses worth another try: the server may be restarting or overloaded. */
const TRANSIENT = new Set([408, 429, 500, 502, 503, 504]);

export class DavHttp {
  private count = 0;

  private constructor(
    /** The configured DAV root, with a trailing slash. */
    readonly root: URL,
    private readonly credentials: DavCredentials,
    private readonly timeoutMs: number,
    private readonly retries: number,
    private readonly dispatcher: Agent,
  ) {}

  static async open(server: DavServerOptions): Promise<DavHttp> {
    let root: URL;
    try {
      root = new URL(server.url);
    } catch {
      throw new DavError('protocol', `dav.url ${JSON.stringify(server.url)} is not a URL`);
    }
    if (root.protocol !== 'http:' && root.protocol !== 'https:') {
      throw new DavError('protocol', `dav.url ${server.url} is not an http or https URL`);
    }
    if (!root.pathname.endsWith('/')) root.pathname += '/';
    const dispatcher = await openDispatcher({
      verifyCertificate: server.verifyCertificate ?? true,
      caFile: server.caFile,
    });
    return new DavHttp(
      root,
      server.credentials,
      server.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      server.retries ?? DEFAULT_RETRIES,
      dispatcher,
    );
  }

  /** Requests sent so far, redirects and retries included. */
  get requests(): number {
    return this.count;
  }

  get user(): string {
    return this.credentials.user;
  }

  /** For messages: "DAV server https://host/dav/". */
  get where(): string {
    return `DAV server ${this.root.href}`;
  }

  resolve(url: string | URL): URL {
    return new URL(url, this.root);
  }

  /**
   * Sends a request and returns the final answer, whatever its status, except 401, which
   * throws. Network failures throw a DavError once the retries are spent.
   */
  send(request: DavRequest): Promise<DavHttpResponse> {
    return this.stream(request, async (response) => ({
      ...response,
      body: await readAll(response.body),
    }));
  }

  /**
   * Like send, but hands the final answer to `read` as it arrives instead of holding it whole,
   * for answers as large as a collection. When the connection fails while `read` is reading
   * and a retry is left, the request is sent again and `read` called again, so it must start
   * afresh each time. What `read` finds wrong in the answer it throws as a DavError; anything
   * else it throws is taken for the connection failing.
   */
  async stream<T>(
    request: DavRequest,
    read: (response: DavStreamedResponse) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await this.followRedirects(request);
        if (response.status === 401) {
          await discard(response.body);
          throw new DavError('auth', `${this.where}: 401 Unauthorized for user ${this.user}`, 401);
        }
        if (!TRANSIENT.has(response.status) || attempt >= this.retries) return await read(response);
        await discard(response.body);
        await pause(retryAfter(response) ?? backoff(attempt));
      } catch (error) {
        const failure = classifyFetchError(error, this.describe(request), this.timeoutMs);
        if (!failure.retryable || attempt >= this.retries) throw failure;
        await pause(backoff(attempt));
      }
    }
  }

  /** A DavError for an answer that is not the one expected. */
  failure(request: DavRequest, response: DavHttpResponse, note = ''): DavError {
    const preconditions = parseErrorBody(response.body.toString('utf8'))
      .map((name) => name.replace(/^\{[^}]*\}/, ''))
      .join(', ');
    const why = [preconditions, note].filter((part) => part !== '').join('; ');
    return new DavError(
      kindForStatus(response.status),
      `${this.describe(request)}: ${response.status} ${response.statusText}${why ? ` (${why})` : ''}`,
      response.status,
    );
  }

  describe(request: DavRequest): string {
    return `${this.where}: ${request.method} ${this.resolve(request.url).pathname}`;
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  /** The answer at the end of the redirects, its body not read yet. */
  private async followRedirects(request: DavRequest): Promise<DavStreamedResponse> {
    let url = this.resolve(request.url);
    let authorized = true;
    for (let hop = 0; ; hop++) {
      this.count++;
      const response = await fetch(url, {
        method: request.method,
        headers: this.headers(request, authorized),
        body: request.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        dispatcher: this.dispatcher,
      });
      const location = response.headers.get('location');
      if (REDIRECTS.has(response.status) && location !== null) {
        await response.arrayBuffer();
        if (hop >= MAX_REDIRECTS) {
          throw new DavError(
            'protocol',
            `${this.describe(request)}: more than ${MAX_REDIRECTS} redirects`,
          );
        }
        const next = new URL(location, url);
        // RFC 6764 redirects may point anywhere; the password goes only where it was configured.
        authorized &&= sameSite(url, next);
        url = next;
        continue;
      }
      return {
        status: response.status,
        statusText: response.statusText,
        url,
        headers: response.headers,
        body: response.body ?? noBody(),
      };
    }
  }

  private headers(request: DavRequest, authorized: boolean): Record<string, string> {
    const headers: Record<string, string> = { 'User-Agent': 'mailvault', ...request.headers };
    if (authorized) {
      const token = Buffer.from(`${this.credentials.user}:${this.credentials.password}`, 'utf8');
      headers.Authorization = `Basic ${token.toString('base64')}`;
    }
    if (request.depth !== undefined) headers.Depth = request.depth;
    return headers;
  }
}

/** Same host, and no step down from https to http. */
function sameSite(from: URL, to: URL): boolean {
  if (from.hostname !== to.hostname) return false;
  return !(from.protocol === 'https:' && to.protocol === 'http:');
}

function backoff(attempt: number): number {
  return Math.min(250 * 2 ** attempt, 4_000);
}

/** Retry-After in seconds (the date form is rare from DAV servers), capped at half a minute. */
function retryAfter(response: { headers: Headers }): number | null {
  const value = Number(response.headers.get('retry-after'));
  return Number.isFinite(value) && value > 0 ? Math.min(value, 30) * 1000 : null;
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// A HEAD answer, or a 204, has no body at all.
async function* noBody(): AsyncGenerator<Uint8Array> {}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads an unwanted body to its end, so that the connection can serve the next request. */
export async function discard(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) void chunk;
}
