// An HTTP server on 127.0.0.1 that answers from a script, for the protocol cases Radicale never
// produces: truncated sync results, refusals of the report, transient errors, odd prefixes.
import { createServer, type IncomingMessage } from 'node:http';

export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface FakeDavServer {
  url: string;
  seen: SeenRequest[];
  close(): Promise<void>;
}

/** `answer` is called for every request, in order, and returns what to send, or null to stay silent. */
export async function startFakeDav(
  answer: (request: SeenRequest) => Answer | null,
): Promise<FakeDavServer> {
  const seen: SeenRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry: SeenRequest = {
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(entry);
      const reply = answer(entry);
      if (reply === null) return;
      response.writeHead(reply.status, {
        'Content-Type': 'application/xml; charset=utf-8',
        ...reply.headers,
      });
      response.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A multistatus with the given responses, in a namespace prefix servers rarely pick. */
export function multistatus(responses: string, syncToken?: string): string {
  const token = syncToken === undefined ? '' : `<ns1:sync-token>${syncToken}</ns1:sync-token>`;
  return `<?xml version="1.0"?>\n<ns1:multistatus xmlns:ns1="DAV:">${responses}${token}</ns1:multistatus>`;
}

export function member(href: string, etag: string): string {
  return (
    `<ns1:response><ns1:href>${href}</ns1:href><ns1:propstat><ns1:prop>` +
    `<ns1:getetag>${etag}</ns1:getetag></ns1:prop><ns1:status>HTTP/1.1 200 OK</ns1:status>` +
    '</ns1:propstat></ns1:response>'
  );
}

export function gone(href: string, status = '404 Not Found'): string {
  return `<ns1:response><ns1:href>${href}</ns1:href><ns1:status>HTTP/1.1 ${status}</ns1:status></ns1:response>`;
}
