import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ImapWriter, type StreamedLiteral } from './imap-writer.js';

/**
 * A fake IMAP server that knows LOGIN and APPEND with one literal: it records each APPEND's
 * literal prefix and bytes, and can stop reading for a while (a slow server) to show back-pressure.
 */
class FakeServer {
  readonly appends: Array<{ prefix: string; bytes: Buffer }> = [];
  readonly received: Buffer[] = [];
  closed = false;
  paused: Socket | null = null;
  private constructor(readonly server: Server) {}

  static async start(capabilities: string, pauseFirstAppend = false): Promise<FakeServer> {
    let fake: FakeServer | null = null;
    const server = createServer((socket) => {
      let buffer: Buffer = Buffer.alloc(0);
      // The literal's bytes as they come (joined once complete: a large literal comes in many).
      let literal: {
        tag: string;
        prefix: string;
        size: number;
        parts: Buffer[];
        got: number;
      } | null = null;
      let paused = !pauseFirstAppend;
      socket.on('close', () => {
        if (fake) fake.closed = true;
      });
      socket.on('error', () => undefined);
      socket.on('data', (data: Buffer) => {
        fake?.received.push(data);
        buffer = buffer.length > 0 ? Buffer.concat([buffer, data]) : data;
        for (;;) {
          if (literal) {
            const take = Math.min(literal.size - literal.got, buffer.length);
            literal.parts.push(buffer.subarray(0, take));
            literal.got += take;
            buffer = buffer.subarray(take);
            // The literal, then the CRLF ending the command.
            if (literal.got < literal.size || buffer.length < 2) {
              if (!paused && fake && literal.got < literal.size) {
                paused = true;
                socket.pause();
                fake.paused = socket;
              }
              return;
            }
            fake?.appends.push({ prefix: literal.prefix, bytes: Buffer.concat(literal.parts) });
            socket.write(`${literal.tag} OK [APPENDUID 1 ${fake?.appends.length}] done\r\n`);
            buffer = buffer.subarray(2);
            literal = null;
            continue;
          }
          const end = buffer.indexOf('\r\n');
          if (end < 0) return;
          const line = buffer.subarray(0, end).toString('latin1');
          buffer = buffer.subarray(end + 2);
          const [tag, verb] = line.split(' ');
          const append = /(~?)\{(\d+)(\+?)\}$/.exec(line);
          // A synchronising literal waits for the go-ahead.
          if (append && !append[3]) socket.write('+ go ahead\r\n');
          if (append)
            literal = {
              tag: tag ?? '',
              prefix: append[1] ?? '',
              size: Number(append[2]),
              parts: [],
              got: 0,
            };
          else if (verb === 'CAPABILITY')
            socket.write(`* CAPABILITY ${capabilities}\r\n${tag} OK done\r\n`);
          else socket.write(`${tag} OK [CAPABILITY ${capabilities}] done\r\n`);
        }
      });
      socket.write(`* OK [CAPABILITY ${capabilities}] fake ready\r\n`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    fake = new FakeServer(server);
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }
}

let servers: FakeServer[] = [];
afterEach(() => {
  for (const fake of servers) fake.server.close();
  servers = [];
});

async function open(fake: FakeServer): Promise<ImapWriter> {
  servers.push(fake);
  return ImapWriter.open(
    {
      server: 'fake',
      host: '127.0.0.1',
      port: fake.port,
      tls: 'none',
      verifyCertificate: false,
      timeout: 10,
      retries: 0,
    },
    { mode: 'master', account: 'alice', admin: 'admin', password: 'pw', separator: '*' },
  );
}

const PIECE = 1024 * 1024;

/** A literal of `count` pieces of 1 MiB, counting how many were produced. */
function literal(count: number, fill = 0x41, failAt = -1): StreamedLiteral & { produced: number } {
  return {
    size: count * PIECE,
    holdsNul: fill === 0,
    produced: 0,
    async *pieces() {
      for (let i = 0; i < count; i++) {
        if (i === failAt) throw new Error('the repository gave other bytes');
        this.produced++;
        yield Buffer.alloc(PIECE, (fill + i) % 256);
      }
    },
  };
}

describe('a streamed APPEND', () => {
  it('sends the literal of the stated size byte for byte, waiting while the server does not read', async () => {
    const fake = await FakeServer.start('IMAP4rev1 LITERAL+ MULTIAPPEND', true);
    const writer = await open(fake);
    const message = literal(48);
    const appending = writer.append('INBOX', [
      { flags: ['\\Seen'], date: new Date(0), raw: message },
    ]);
    // The server stops reading mid-literal: the writer must stop reading the repository too.
    while (!fake.paused) await new Promise((resolve) => setTimeout(resolve, 10));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const producedWhilePaused = message.produced;
    expect(producedWhilePaused).toBeLessThan(24);
    fake.paused.resume();
    expect((await appending).uids).toEqual([1]);
    expect(fake.appends[0]?.prefix).toBe('');
    const expected = Buffer.concat(
      Array.from({ length: 48 }, (_, i) => Buffer.alloc(PIECE, (0x41 + i) % 256)),
    );
    expect(fake.appends[0]?.bytes.equals(expected)).toBe(true);
    await writer.logout();
  });

  it('waits for the go-ahead of a server without LITERAL+, then streams', async () => {
    const fake = await FakeServer.start('IMAP4rev1');
    const writer = await open(fake);
    await writer.append('INBOX', [{ flags: [], date: new Date(0), raw: literal(3) }]);
    expect(fake.appends[0]?.bytes.length).toBe(3 * PIECE);
    expect(fake.appends[0]?.bytes.subarray(2 * PIECE).equals(Buffer.alloc(PIECE, 0x43))).toBe(true);
    await writer.logout();
  });

  it('sends a message holding NUL as a literal8 where the server offers BINARY', async () => {
    const fake = await FakeServer.start('IMAP4rev1 LITERAL+ BINARY');
    const writer = await open(fake);
    await writer.append('INBOX', [{ flags: [], date: new Date(0), raw: literal(2, 0) }]);
    expect(fake.appends[0]?.prefix).toBe('~');
    await writer.logout();
  });

  it('never completes the command when the pieces fail: the connection is closed', async () => {
    const fake = await FakeServer.start('IMAP4rev1 LITERAL+');
    const writer = await open(fake);
    await expect(
      writer.append('INBOX', [{ flags: [], date: new Date(0), raw: literal(8, 0x41, 5) }]),
    ).rejects.toThrow(/other bytes/);
    while (!fake.closed) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(fake.appends).toEqual([]);
    const sent = Buffer.concat(fake.received);
    // Never more than what was read before the failure, and no line after the literal.
    expect(sent.length).toBeLessThan(6 * PIECE);
  });
});
