// A prune killed with SIGKILL right after it saved the index file of its repacked objects, before
// it wrote the index again without their old places: the repository then lists those objects
// twice, in their old packs and in the new ones, and a reader keeps the first place it meets
// (index files in name order). When the new index file sorts between the old ones, a new pack ends
// up holding some objects the index places in it and some it places elsewhere: copies no index
// entry accounts for. Later prunes must still reclaim every copy: in the end each object is stored
// once, `check --read-data` passes and a restore is exact. Against a real Dovecot.
import { cp, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePackHeader } from '../../src/repository/pack/pack-format.js';
import { Repository } from '../../src/repository/repository.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { haveDovecot, startDovecot, type DovecotServer } from '../support/dovecot.js';
import { fillMailbox, mailOf, readAccount, withImap } from '../support/imap-fixture.js';
import { generateMessages } from '../support/mail-generator.js';
import { isTemporaryName, watchRepository } from '../support/repository-files.js';
import { createWorkspace, shown, type Workspace } from '../support/workspace.js';

const PASSPHRASE = 'correct horse battery staple';
const FOLDERS = ['One', 'Two', 'Three', 'Four'];

interface PruneJson {
  condemn: unknown[];
  remove: unknown[];
  repack: unknown[];
}

async function indexNames(repository: string): Promise<string[]> {
  return (await readdir(join(repository, 'index'))).filter((name) => !isTemporaryName(name)).sort();
}

/** Every object id the packs on disk hold (read from their own headers), with its packs. */
async function storedObjects(repository: string): Promise<Map<string, string[]>> {
  const storage = new LocalStorage(repository);
  const opened = await Repository.open(storage, PASSPHRASE);
  const packs = new Map<string, string[]>();
  try {
    for await (const name of storage.names('data')) {
      const bytes = await readFile(join(repository, 'data', name.slice(0, 2), name));
      for (const entry of decodePackHeader(opened.key.encryption, bytes, bytes.length, name)) {
        const id = entry.id.toString('hex');
        packs.set(id, [...(packs.get(id) ?? []), name]);
      }
    }
  } finally {
    await storage.close();
  }
  return packs;
}

describe.skipIf(!haveDovecot)(
  'a prune killed after saving the index of its repacked objects',
  () => {
    let server: DovecotServer;
    let ws: Workspace;
    let pristine: string;

    beforeAll(async () => {
      server = await startDovecot({ users: { alice: 'a', restored: 'r' } });
      ws = await createWorkspace(server, {
        accounts: ['alice'],
        extra: 'retention: { keepLast: 1 }\n',
      });
      expect((await ws.run(['init', '--scrypt-cost', '10'])).code).toBe(0);
      // One backup per folder: each writes its packs and an index file of its own, so the index
      // is several files, as in any repository that has seen a few runs.
      for (const folder of FOLDERS) {
        await fillMailbox(server, 'alice', {
          [folder]: generateMessages({
            tag: `interrupted-${folder}`,
            count: 12,
            largeEvery: 1,
            largeBytes: 120_000,
          }),
        });
        expect((await ws.run(['backup'])).code).toBe(0);
      }
      // Half of each folder deleted: every pack of large messages is half needed, so a prune
      // repacks them all, copying the needed halves into new packs together.
      await withImap(server, 'alice', async (client) => {
        for (const folder of FOLDERS) {
          await client.mailboxOpen(folder);
          const uids = (await client.search({ all: true }, { uid: true })) || [];
          await client.messageDelete(uids.filter((_, i) => i % 2 === 0).join(','), { uid: true });
        }
      });
      expect((await ws.run(['backup'])).code).toBe(0);
      const forget = await ws.run(['forget']);
      expect(forget.code, shown(forget)).toBe(0);
      pristine = join(ws.dir, 'pristine');
      await cp(ws.repository, pristine, { recursive: true });
    }, 240_000);

    afterAll(async () => {
      await server?.stop();
      await ws?.remove();
    });

    it('leaves copies that later prunes reclaim: each object stored once, check and restore whole', async () => {
      const old = await indexNames(pristine);
      expect(old.length).toBeGreaterThanOrEqual(FOLDERS.length);
      // Index names are hashes of random-nonce ciphertext: the killed prune is run again from the
      // same repository until its one new index file sorts between the old ones (which state
      // each attempt reached is checked, not assumed).
      let reached = false;
      for (let attempt = 0; attempt < 12 && !reached; attempt++) {
        await rm(ws.repository, { recursive: true, force: true });
        await cp(pristine, ws.repository, { recursive: true });
        const child = ws.spawn(['prune']);
        const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
        let stopped = false;
        const stopWatching = await watchRepository(ws.repository, (event) => {
          if (stopped || event.kind !== 'index' || isTemporaryName(event.name)) return;
          child.kill('SIGSTOP');
          stopped = true;
        });
        await Promise.race([
          exited,
          (async () => {
            while (!stopped) await new Promise((resolve) => setTimeout(resolve, 2));
          })(),
        ]);
        stopWatching();
        child.kill('SIGKILL');
        await exited;
        const added = (await indexNames(ws.repository)).filter((name) => !old.includes(name));
        const [first, last] = [old[0] ?? '', old[old.length - 1] ?? ''];
        reached = added.length === 1 && (added[0] ?? '') > first && (added[0] ?? '') < last;
      }
      expect(reached, 'a killed prune left its one new index file between the old ones').toBe(true);

      // The prunes an administrator runs next (past the grace period), until one has nothing to do.
      for (let round = 0; ; round++) {
        const result = await ws.run(['prune', '--json', '--grace', '0s']);
        expect(result.code, shown(result)).toBe(0);
        const plan = result.json<PruneJson>();
        if (plan.condemn.length + plan.remove.length + plan.repack.length === 0) break;
        expect(round, 'prunes that keep finding work').toBeLessThan(5);
      }
      const twice = [...(await storedObjects(ws.repository))].filter(
        ([, packs]) => packs.length > 1,
      );
      expect(twice, 'objects stored in more than one pack').toEqual([]);

      const check = await ws.run(['check', '--read-data']);
      expect(check.code, shown(check)).toBe(0);
      const restore = await ws.run(['restore', 'account', 'alice', '--to-account', 'restored']);
      expect(restore.code, shown(restore)).toBe(0);
      expect(mailOf(await readAccount(server, 'restored'))).toEqual(
        mailOf(await readAccount(server, 'alice')),
      );
    }, 300_000);
  },
);
