// A TCP proxy on 127.0.0.1 for fault tests: put between mailvault and a test server (through
// the workspace's configuration), it forwards bytes both ways and cuts connections on cue, the
// way a flaky network or a restarted load balancer would.
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';

export interface CutRule {
  /**
   * Counting starts once the client has sent something matching this (for IMAP,
   * /BODY\.PEEK\[\]/ is the first FETCH of message bodies); without it, from the first byte.
   */
  trigger?: RegExp;
  /** Cut (destroy both sockets) once this many bytes went from server to client since the trigger. */
  afterBytes: number;
  /** How many connections to cut; afterwards everything is forwarded. Default: every one. */
  times?: number;
}

export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Connections cut so far. */
  readonly cuts: number;
  /** Bytes forwarded from server to client over all connections. */
  readonly bytesToClient: number;
  /** Replaces the rule for connections that have not triggered yet; null forwards everything. */
  setRule(rule: CutRule | null): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

// A command can arrive split over two chunks: the trigger is tested on this much of what came before too.
const TRIGGER_CONTEXT = 256;

class Proxy implements TcpProxy {
  readonly host = '127.0.0.1';
  port = 0;
  connections = 0;
  cuts = 0;
  bytesToClient = 0;
  private readonly sockets = new Set<Socket>();

  constructor(
    private readonly server: Server,
    private readonly target: { host: string; port: number },
    private rule: CutRule | null,
  ) {
    server.on('connection', (client) => this.accept(client));
  }

  setRule(rule: CutRule | null): void {
    this.rule = rule;
  }

  private cutsLeft(): boolean {
    return this.rule !== null && this.cuts < (this.rule.times ?? Infinity);
  }

  private accept(client: Socket): void {
    this.connections++;
    const upstream = connect(this.target.port, this.target.host);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      // A reset on one side is the other side's news, passed on by destroying it.
      socket.on('error', () => undefined);
    }
    let seen = '';
    let counting: { left: number } | null =
      this.rule && !this.rule.trigger && this.cutsLeft() ? { left: this.rule.afterBytes } : null;
    let cut = false;
    const destroyBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      const rule = this.rule;
      if (!counting && rule?.trigger && this.cutsLeft()) {
        const text = seen + chunk.toString('latin1');
        if (rule.trigger.test(text)) counting = { left: rule.afterBytes };
        seen = text.slice(-TRIGGER_CONTEXT);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cut) return;
      if (counting && chunk.length >= counting.left) {
        // The cut lands exactly after the counted bytes, usually in the middle of a message.
        cut = true;
        this.cuts++;
        upstream.pause();
        const part = chunk.subarray(0, counting.left);
        this.bytesToClient += part.length;
        if (part.length === 0) destroyBoth();
        else client.write(part, destroyBoth);
        return;
      }
      if (counting) counting.left -= chunk.length;
      this.bytesToClient += chunk.length;
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => {
          if (!cut) upstream.resume();
        });
      }
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Starts a proxy on a free port of 127.0.0.1 forwarding to `target`. */
export async function startTcpProxy(
  target: { host: string; port: number },
  rule: CutRule | null = null,
): Promise<TcpProxy> {
  const server = createServer();
  const proxy = new Proxy(server, target, rule);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  proxy.port = address.port;
  return proxy;
}
