// The Radicale harness: users own their collections, the administrator reaches everyone's,
// users added while it runs can log in at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveRadicale, startRadicale, type RadicaleServer } from './radicale.js';

describe.skipIf(!haveRadicale)('startRadicale', () => {
  let server: RadicaleServer;

  async function status(
    user: string,
    password: string,
    method: string,
    path: string,
  ): Promise<number> {
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
        Depth: '0',
      },
    });
    await response.arrayBuffer();
    return response.status;
  }

  beforeAll(async () => {
    server = await startRadicale({ users: { alice: 'alicepw', bob: 'bobpw' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets each user write their own collections only, and the administrator everyone’s', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    expect(await status('alice', 'alicepw', 'MKCALENDAR', '/alice/cal/')).toBe(201);
    expect(await status('bob', 'bobpw', 'PROPFIND', '/alice/cal/')).toBe(403);
    expect(await status('bob', 'bobpw', 'MKCALENDAR', '/alice/other/')).toBe(403);
    expect(await status('admin', 'adminpw', 'PROPFIND', '/alice/cal/')).toBe(207);
    expect(await status('admin', 'adminpw', 'MKCALENDAR', '/alice/by-admin/')).toBe(201);
    expect(await status('admin', 'adminpw', 'MKCOL', '/carol/')).toBe(201);
    expect(await status('alice', 'wrong', 'PROPFIND', '/alice/')).toBe(401);
  });

  it('accepts a user added while it runs', async () => {
    expect(await status('dave', 'davepw', 'PROPFIND', '/dave/')).toBe(401);
    await server.addUser('dave', 'davepw');
    expect(await status('dave', 'davepw', 'PROPFIND', '/dave/')).toBe(207);
    expect(server.users.get('dave')).toBe('davepw');
  });
});
