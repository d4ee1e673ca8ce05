// Tests of the Cyrus harness itself, so that a failing integration test points at the product
// rather than at its test server; and a record of the behaviour the product must cope with.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveCyrus, startCyrus, type CyrusServer } from './cyrus.js';

function portRefuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe.skipIf(!haveCyrus)('Cyrus harness', () => {
  let server: CyrusServer;

  beforeAll(async () => {
    server = await startCyrus({ accounts: ['alice'] });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('lets the administrator act for an account that has a mailbox', async () => {
    const client = await server.login('alice');
    try {
      const listed = await client.ok('LIST "" "*"');
      expect(listed.untagged.map((response) => response.text)).toEqual([
        '* LIST (\\HasNoChildren) "/" INBOX',
      ]);
      await client.ok('CREATE "Projects"');
    } finally {
      await client.logout();
    }
  });

  it('lets the administrator act for a name without a mailbox, where folders cannot be created', async () => {
    const client = await server.login('nobody');
    try {
      expect((await client.ok('LIST "" "*"')).untagged).toEqual([]);
      const created = await client.command('CREATE "Projects"');
      expect(created.status).toBe('NO');
      // Its INBOX can be: a mailbox made without the server's provisioning (quota, directory).
      await client.ok('CREATE "INBOX"');
      expect((await client.ok('LIST "" "*"')).untagged).toHaveLength(1);
    } finally {
      await client.logout();
    }
  });

  it('provisions an account through its provisioning command', async () => {
    await promisify(execFile)('/bin/sh', ['-c', `${server.provisionCommand} 'bob'`]);
    const client = await server.login('bob');
    try {
      expect((await client.ok('LIST "" "INBOX"')).untagged).toHaveLength(1);
    } finally {
      await client.logout();
    }
  });

  it('stops, frees its port and removes its directory', async () => {
    const other = await startCyrus();
    await other.stop();
    expect(await portRefuses(other.port)).toBe(true);
    expect(existsSync(other.dir)).toBe(false);
  });
});
