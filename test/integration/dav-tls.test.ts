// DAV over HTTPS with a self-signed certificate: refused by default with a message that says
// what to configure, accepted with the server's certificate as CA or with verification off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DavError,
  openDavAccountReader,
  type DavServerOptions,
} from '../../src/sources/dav/dav-account-reader.js';
import { haveRadicale, startRadicale, type RadicaleServer } from '../support/radicale.js';

describe.skipIf(!haveRadicale)('DAV over TLS', () => {
  let server: RadicaleServer;

  beforeAll(async () => {
    server = await startRadicale({ users: { alice: 'alicepw' }, tls: true });
  });
  afterAll(async () => {
    await server?.stop();
  });

  async function collections(extra: Partial<DavServerOptions>): Promise<string[]> {
    const reader = await openDavAccountReader(
      {
        url: server.url,
        credentials: { user: 'alice', password: 'alicepw' },
        retries: 0,
        ...extra,
      },
      'alice',
    );
    try {
      return (await reader.collections()).map((collection) => collection.href);
    } finally {
      await reader.close();
    }
  }

  it('refuses a certificate it cannot verify, and says what to configure', async () => {
    const error = await collections({}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DavError);
    expect((error as DavError).kind).toBe('tls');
    expect((error as DavError).message).toMatch(
      new RegExp(
        `^DAV server ${server.url}: PROPFIND /\\.well-known/caldav: TLS failed: .*dav\\.caFile`,
      ),
    );
  });

  it("trusts the server's own certificate given as CA file", async () => {
    expect(server.certificateFile).not.toBeNull();
    expect(await collections({ caFile: server.certificateFile ?? '' })).toEqual([]);
  });

  it('accepts any certificate with verification off', async () => {
    expect(await collections({ verifyCertificate: false })).toEqual([]);
  });

  it('names a CA file it cannot read', async () => {
    await expect(collections({ caFile: '/nonexistent/ca.pem' })).rejects.toThrow(
      /cannot read dav\.caFile \/nonexistent\/ca\.pem/,
    );
  });
});
