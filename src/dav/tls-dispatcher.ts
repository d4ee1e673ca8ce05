// The DAV client's connection pool, with the configured TLS settings (trusted CA, whether to
// verify) applied. It comes from the `undici` package, not from Node's bundled copy: Node does
// not export its undici, and the client sends through this package's own fetch (see
// http-client.ts), so the pool and the fetch that drives it are always the same build. The
// package is pinned to 6.25.0: 6.26 to 6.29 abort the process on Radicale's answers (see
// http-client.test.ts), and 7 needs Node 20.18.
import { readFile } from 'node:fs/promises';
import { Agent } from 'undici';

export interface TlsSettings {
  verifyCertificate: boolean;
  caFile: string | undefined;
}

/** How long an idle connection is kept for the next request of a run. */
const KEEP_ALIVE_MS = 10_000;

/** A connection pool of our own, closed with the reader or writer. */
export async function openDispatcher(tls: TlsSettings): Promise<Agent> {
  const ca = tls.caFile === undefined ? undefined : await readCa(tls.caFile);
  return new Agent({
    connect: { rejectUnauthorized: tls.verifyCertificate, ...(ca ? { ca } : {}) },
    keepAliveTimeout: KEEP_ALIVE_MS,
  });
}

async function readCa(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new Error(`cannot read dav.caFile ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
