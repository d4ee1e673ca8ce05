import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WalkEvent } from './file-entry.js';
import { compareNames, walkFileSet } from './file-walker.js';
import { SystemAccounts } from './system-accounts.js';

let dir: string;
let socketServer: Server;
const accounts = SystemAccounts.fromText('root:x:0:0::/root:/bin/sh\n', 'root:x:0:\n');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-walk-'));
  await mkdir(join(dir, 'conf/sub'), { recursive: true });
  await mkdir(join(dir, 'conf/empty'));
  await writeFile(join(dir, 'conf/b.conf'), 'b');
  await writeFile(join(dir, 'conf/a.conf'), 'a');
  await writeFile(join(dir, 'conf/key.pem'), 'k');
  await writeFile(join(dir, 'conf/sub/z.bak'), 'z');
  await writeFile(join(dir, 'conf/sub/Ä.conf'), 'u');
  await writeFile(join(dir, 'conf/sub/ä.conf'), 'u');
  await symlink('a.conf', join(dir, 'conf/link'));
  await writeFile(join(dir, 'single'), 'single');
  await writeFile(Buffer.from(`${dir}/conf/bad-\xff-name`, 'latin1'), 'x');
  socketServer = createServer();
  await new Promise<void>((resolve) => socketServer.listen(join(dir, 'conf/sock'), resolve));
});
afterAll(async () => {
  await new Promise<void>((resolve) => socketServer.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

async function events(include: string[], exclude: string[] = []): Promise<WalkEvent[]> {
  const out: WalkEvent[] = [];
  for await (const event of walkFileSet({ include, exclude, accounts })) out.push(event);
  return out;
}

const describeEvent = (event: WalkEvent): string =>
  event.type === 'failure' || event.type === 'skipped'
    ? `${event.type} ${event.path.replace(dir, '')}`
    : `${event.type} ${event.entry.type} ${event.entry.path.startsWith(dir) ? event.entry.path.replace(dir, '') || '/' : event.entry.path}${event.entry.partial ? ' (partial)' : ''}`;

describe('walking a file set', () => {
  it('yields directories on the way, then the include paths in UTF-8 byte order', async () => {
    const walked = (
      await events([join(dir, 'conf'), join(dir, 'single')], ['*.pem', 're:\\.bak$'])
    ).map(describeEvent);
    const onTheWay = [
      '/',
      ...dir
        .split('/')
        .filter(Boolean)
        .map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`),
    ].map((path) => (path === dir ? '/' : path));
    expect(walked).toEqual([
      ...onTheWay.slice(0, -1).map((path) => `enter dir ${path} (partial)`),
      'enter dir / (partial)',
      'enter dir /conf',
      'item file /conf/a.conf',
      'item file /conf/b.conf',
      `skipped /conf/bad-\ufffd-name`,
      'enter dir /conf/empty',
      'leave dir /conf/empty',
      'item symlink /conf/link',
      'skipped /conf/sock',
      'enter dir /conf/sub',
      'item file /conf/sub/Ä.conf',
      'item file /conf/sub/ä.conf',
      'leave dir /conf/sub',
      'leave dir /conf',
      'item file /single',
      'leave dir / (partial)',
      ...onTheWay
        .slice(0, -1)
        .reverse()
        .map((path) => `leave dir ${path} (partial)`),
    ]);
  });

  it('records lstat metadata, link targets and owner names', async () => {
    const all = await events([join(dir, 'conf')]);
    const link = all.find((e) => e.type === 'item' && e.entry.type === 'symlink');
    expect(link?.type === 'item' && link.entry.target).toBe('a.conf');
    const file = all.find((e) => e.type === 'item' && e.entry.name === 'a.conf');
    if (file?.type !== 'item') throw new Error('a.conf not walked');
    expect(file.entry.size).toBe(1);
    expect(typeof file.entry.mtimeNs).toBe('bigint');
    expect(file.entry.user).toBe(process.getuid?.() === 0 ? 'root' : null);
  });

  it('reports include paths that do not exist, and paths that are not absolute', async () => {
    const all = await events([join(dir, 'missing'), join(dir, 'nope/deeper'), 'relative/path']);
    const failures = all.filter((e) => e.type === 'failure').map(describeEvent);
    expect(failures).toEqual(['failure relative/path', 'failure /missing', 'failure /nope/deeper']);
  });

  it('does not walk a path twice when includes overlap', async () => {
    const all = await events([join(dir, 'conf/sub'), join(dir, 'conf')]);
    expect(all.filter((e) => e.type === 'item' && e.entry.name === 'z.bak')).toHaveLength(1);
  });

  it('sorts by bytes, not by UTF-16 code units', () => {
    expect(['\u{1F600}', '\uFF5E'].sort(compareNames)).toEqual(['\uFF5E', '\u{1F600}']);
  });
});
