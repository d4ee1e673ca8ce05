// A TCP proxy on 127.0.0.1 that does something to the server at an exact point of a client's
// conversation: when the client sends a command matching a pattern, that command is held back
// until an action (a folder deleted behind the client's back, say) has run, then sent on. For
// tests of what happens when the world changes between two of a client's commands.
import { connect, createServer } from 'node:net';
import type { Socket } from 'node:net';

export interface CommandHookProxy {
  readonly host: string;
  readonly port: number;
  /** How many times the action ran. */
  readonly fired: number;
  close(): Promise<void>;
}

// A command can arrive split over two chunks: the pattern is tested on this much of what came before too.
const CONTEXT = 512;

/**
 * Forwards to `target`; the first `times` (default 1) client chunks that complete a match of
 * `pattern` wait for `action` before they go on.
 */
export async function startCommandHookProxy(
  target: { host: string; port: number },
  hook: { pattern: RegExp; action: () => Promise<void>; times?: number },
): Promise<CommandHookProxy> {
  const sockets = new Set<Socket>();
  let fired = 0;
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    let seen = '';
    // Chunks go on in order, each after the ones before it (and after an action they wait for).
    let sending: Promise<void> = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const text = seen + chunk.toString('latin1');
      seen = text.slice(-CONTEXT);
      const matches = fired < (hook.times ?? 1) && hook.pattern.test(text);
      if (matches) {
        fired++;
        seen = '';
      }
      sending = sending.then(async () => {
        if (matches) await hook.action();
        upstream.write(chunk);
      });
    });
    upstream.pipe(client);
    client.on('end', () => void sending.then(() => upstream.end()));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    get fired() {
      return fired;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
