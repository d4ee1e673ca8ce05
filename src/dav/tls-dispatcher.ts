// Node's fetch takes its TLS settings (trusted CA, whether to verify) from an undici
// dispatcher. Node bundles undici but does not export it; the Agent class is reachable as the
// constructor of the global dispatcher undici installs on first use. Taking the class from
// there keeps the dispatcher and fetch from the same undici build, which an `undici` package
// of another major version would not guarantee.
import { readFile } from 'node:fs/promises';
import type { Dispatcher } from 'undici-types';

interface AgentOptions {
  connect?: { rejectUnauthorized?: boolean; ca?: Buffer };
  keepAliveTimeout?: number;
}

type AgentConstructor = new (options: AgentOptions) => Dispatcher;

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

async function bundledAgentClass(): Promise<AgentConstructor | null> {
  const slots = globalThis as unknown as Record<symbol, unknown>;
  // A fetch of a data: URL touches no network and makes undici install its global dispatcher.
  if (slots[GLOBAL_DISPATCHER] === undefined) await (await fetch('data:,')).arrayBuffer();
  const constructor = (slots[GLOBAL_DISPATCHER] as { constructor?: unknown } | undefined)
    ?.constructor;
  return typeof constructor === 'function' && constructor.name === 'Agent'
    ? (constructor as AgentConstructor)
    : null;
}

export interface TlsSettings {
  verifyCertificate: boolean;
  caFile: string | undefined;
}

/**
 * A connection pool of our own (closed with the reader or writer), with the TLS settings
 * applied; undefined when Node's undici cannot be reached and none are needed, in which case
 * fetch's global pool is used.
 */
export async function openDispatcher(tls: TlsSettings): Promise<Dispatcher | undefined> {
  const ca = tls.caFile === undefined ? undefined : await readCa(tls.caFile);
  const Agent = await bundledAgentClass();
  if (Agent === null) {
    if (ca === undefined && tls.verifyCertificate) return undefined;
    throw new Error(
      'dav.caFile and dav.verifyCertificate need the undici Agent that Node bundles, and it is not reachable in this Node version',
    );
  }
  return new Agent({
    connect: { rejectUnauthorized: tls.verifyCertificate, ...(ca ? { ca } : {}) },
    keepAliveTimeout: 10_000,
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
