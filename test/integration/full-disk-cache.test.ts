// A full disk under the local cache of a remote (S3) repository: the backup says there is no
// space and where (exit 1), and the next backup, once there is space again, goes well and leaves
// the repository whole. The cache lives on a real tmpfs (mounted as root) filled with a file
// until the kernel says ENOSPC; a real Dovecot and a real S3 server (s3rver).
import { execFileSync } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';
import { canMount, fill } from '../support/full-disk.js';

describe.skipIf(!haveDovecot || !haveS3rver || !canMount)(
  'a full disk under the cache of a remote repository',
  () => {
    let server: DovecotServer;
    let s3: S3rverServer;
    let ws: Workspace;
    let mounted: string;

    beforeAll(async () => {
      server = await startDovecot({ users: { alice: 'pw' } });
      s3 = await startS3rver({ buckets: ['backups'] });
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: 'full-cache', count: 10 }),
      });
      ws = await createWorkspace(server, {
        accounts: ['alice'],
        repository: {
          url: `s3://backups/full?endpoint=${s3.endpoint}&region=us-east-1&pathStyle=true`,
          extra: [
            `s3: { accessKeyIdFile: s3.id, secretAccessKeyFile: s3.secret }`,
            'cache: { dir: small-fs/cache }',
          ],
        },
      });
      await writeFile(join(ws.dir, 's3.id'), `${s3.accessKeyId}\n`);
      await writeFile(join(ws.dir, 's3.secret'), `${s3.secretAccessKey}\n`);
      mounted = join(ws.dir, 'small-fs');
      await mkdir(mounted);
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', mounted]);
      const init = await ws.run(['init', '--scrypt-cost', '10']);
      expect(init.code, shown(init)).toBe(0);
      const first = await ws.run(['backup']);
      expect(first.code, shown(first)).toBe(0);
    }, 180_000);
    afterAll(async () => {
      if (mounted) execFileSync('umount', [mounted]);
      await ws?.remove();
      await server?.stop();
      await s3?.stop();
    });

    it('a backup says there is no space and where (exit 1), and the next one goes well', async () => {
      await fillMailbox(server, 'alice', {
        INBOX: generateMessages({ tag: 'full-cache-more', count: 40, largeEvery: 5 }),
      });
      const filler = join(mounted, 'filler');
      await fill(filler);
      try {
        const refused = await ws.run(['backup']);
        expect(refused.code, shown(refused)).toBe(1);
        expect(refused.stderr, shown(refused)).toMatch(/no space left/i);
        expect(refused.stderr, shown(refused)).toContain(mounted);
      } finally {
        await rm(filler);
      }
      const next = await ws.run(['backup']);
      expect(next.code, shown(next)).toBe(0);
      const check = await ws.run(['check', '--read-data']);
      expect(check.code, shown(check)).toBe(0);
      expect(await readFile(ws.config, 'utf8')).toContain('small-fs/cache');
    }, 240_000);
  },
);
