import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openS3Storage, type S3Options } from '../../src/storage/s3/open-s3.js';
import { S3Storage } from '../../src/storage/s3/s3-storage.js';
import { StorageError, type Storage } from '../../src/storage/storage.js';
import { haveS3rver, startS3rver, type S3rverServer } from '../support/s3.js';
import { freePort, makeTempDir, removeTempDir } from '../support/servers.js';
import { storageContract } from '../support/storage-contract.js';

const BUCKET = 'mailvault-test';
const ROOT_BUCKET = 'mailvault-root';
/** Above the 16 MiB part size, so the large-file test goes up in three parts. */
const LARGE_BYTES = 40 * 1024 * 1024;

const hexName = (seed: string): string => createHash('sha256').update(seed).digest('hex');

async function failure(promise: Promise<unknown>): Promise<StorageError> {
  const error: unknown = await promise.then(
    () => {
      throw new Error('expected the operation to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageError);
  return error as StorageError;
}

describe.skipIf(!haveS3rver)('S3 storage against s3rver', () => {
  let server: S3rverServer;
  /** Where the configuration would be: the key files are named relative to it. */
  let base: string;
  const keyFiles: S3Options = { accessKeyIdFile: 'keys/id', secretAccessKeyFile: 'keys/secret' };

  beforeAll(async () => {
    server = await startS3rver({ buckets: [BUCKET, ROOT_BUCKET] });
    base = await makeTempDir('s3-config');
    await mkdir(join(base, 'keys'));
    // Spaces and newlines as an editor or `echo` leave them: the backend trims them.
    await writeFile(join(base, 'keys/id'), ` ${server.accessKeyId}\n`);
    await writeFile(join(base, 'keys/secret'), `${server.secretAccessKey}\n`);
  });

  afterAll(async () => {
    await server?.stop();
    if (base) await removeTempDir(base);
  });

  function open(path: string, options: S3Options = keyFiles, bucket = BUCKET): S3Storage {
    const url = `s3://${bucket}/${path}?endpoint=${server.endpoint}&region=us-east-1&pathStyle=true`;
    const storage = openS3Storage(new URL(url), options, base);
    if (!(storage instanceof S3Storage)) throw new Error('openS3Storage gave no S3Storage');
    return storage;
  }

  describe('keeps the storage contract', () => {
    let repositories = 0;
    storageContract(
      async () => {
        const prefix = `contract/repository-${++repositories}`;
        return {
          storage: open(prefix),
          leaveTemporary: async (path, data) => {
            await server.client.send(
              new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/${path}`, Body: data }),
            );
          },
          // Each test has a prefix of its own; the server's folder goes at the end, whole.
          cleanup: async () => undefined,
        };
      },
      { largeBytes: LARGE_BYTES },
    );
  });

  describe('beyond the contract', () => {
    const opened: Storage[] = [];
    const use = (storage: S3Storage): S3Storage => {
      opened.push(storage);
      return storage;
    };
    afterAll(async () => {
      await Promise.all(opened.map((storage) => storage.close()));
    });

    async function keysUnder(bucket: string, prefix: string): Promise<string[]> {
      const page = await server.client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }),
      );
      return (page.Contents ?? []).map((object) => object.Key ?? '').sort();
    }

    async function fillEveryKind(storage: Storage): Promise<string> {
      const name = hexName('layout');
      await storage.save({ kind: 'config', name: '' }, Buffer.from('{}'));
      for (const kind of ['keys', 'data', 'index', 'snapshots'] as const)
        await storage.save({ kind, name }, Buffer.from(kind));
      await storage.save({ kind: 'locks', name: 'host-42' }, Buffer.from('lock'));
      return name;
    }

    it('lays files out under the prefix as a local repository lays them out', async () => {
      const storage = use(open('layout/one'));
      await storage.create();
      const name = await fillEveryKind(storage);
      expect(await keysUnder(BUCKET, 'layout/')).toEqual([
        'layout/one/config',
        `layout/one/data/${name.slice(0, 2)}/${name}`,
        `layout/one/index/${name}`,
        `layout/one/keys/${name}`,
        'layout/one/locks/host-42',
        `layout/one/snapshots/${name}`,
      ]);
      expect(storage.location).toBe(
        `s3://${BUCKET}/layout/one?endpoint=${server.endpoint}&region=us-east-1&pathStyle=true`,
      );
    });

    it('keeps a repository at the bucket root when the URL has no prefix', async () => {
      const storage = use(open('', keyFiles, ROOT_BUCKET));
      await storage.create();
      const name = await fillEveryKind(storage);
      expect(await keysUnder(ROOT_BUCKET, '')).toContain(`data/${name.slice(0, 2)}/${name}`);
      expect(await keysUnder(ROOT_BUCKET, '')).toContain('config');
      expect([...(await names(storage, 'data'))]).toEqual([name]);
    });

    it('lists only repository files: strays, markers and neighbours are passed over', async () => {
      const storage = use(open('strays/repo'));
      const real = hexName('real');
      await storage.save({ kind: 'data', name: real }, Buffer.from('real'));
      await storage.save({ kind: 'index', name: real }, Buffer.from('real'));
      const stray = hexName('stray');
      for (const key of [
        `strays/repo/data/zz/${stray}`, // in another name's folder
        `strays/repo/data/${stray}`, // not in a folder
        `strays/repo/data/${stray.slice(0, 2)}/`, // a folder marker from a console
        `strays/repo/index/sub/${stray}`,
        'strays/repo/index/NOT-A-HASH',
        `strays/repo/indexes/${stray}`,
        `strays/repo/nested/index/${stray}`,
        `strays/repo-2/index/${stray}`,
      ])
        await server.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
      expect([...(await names(storage, 'data'))]).toEqual([real]);
      expect([...(await names(storage, 'index'))]).toEqual([real]);
    });

    it('costs one request per operation: two to save a key file or remove, one to save a pack', async () => {
      const storage = use(open('costs'));
      const sent = countRequests(storage);
      const file = { kind: 'data' as const, name: hexName('cost') };
      const cost = async (work: () => Promise<unknown>): Promise<string[]> => {
        sent.length = 0;
        await work();
        return [...sent];
      };
      expect(await cost(() => storage.create())).toEqual(['ListObjectsV2']);
      // A pack (named by its content) is put without asking first; a key file is not.
      expect(await cost(() => storage.save(file, Buffer.from('cost')))).toEqual(['PutObject']);
      const key = { kind: 'keys' as const, name: hexName('cost-key') };
      expect(await cost(() => storage.save(key, Buffer.from('key')))).toEqual([
        'HeadObject',
        'PutObject',
      ]);
      expect(await cost(() => storage.load(file))).toEqual(['GetObject']);
      expect(await cost(() => storage.load(file, { offset: 1, length: 2 }))).toEqual(['GetObject']);
      expect(await cost(() => storage.stat(file))).toEqual(['HeadObject']);
      expect(await cost(() => names(storage, 'data'))).toEqual(['ListObjectsV2']);
      expect(await cost(() => list(storage, 'data'))).toEqual(['ListObjectsV2']);
      expect(await cost(() => storage.remove(file))).toEqual(['HeadObject', 'DeleteObject']);
      const large = { kind: 'data' as const, name: hexName('cost-large') };
      expect(await cost(() => storage.save(large, randomBytes(33 * 1024 * 1024)))).toEqual([
        'CreateMultipartUpload',
        'UploadPart',
        'UploadPart',
        'UploadPart',
        'CompleteMultipartUpload',
      ]);
    });

    it('gives a range that runs past the end as an error, never as short data', async () => {
      const storage = use(open('ranges'));
      const file = { kind: 'data' as const, name: hexName('short') };
      await storage.save(file, Buffer.from('0123456789'));
      expect((await storage.load(file, { offset: 4, length: 0 })).length).toBe(0);
      const short = await failure(storage.load(file, { offset: 8, length: 5 }));
      expect(short.message).toMatch(/shorter than expected/);
      const beyond = await failure(storage.load(file, { offset: 20, length: 5 }));
      expect(storage.isNotFound(beyond)).toBe(false);
      expect(storage.isPermanent(beyond)).toBe(true);
    });

    it('names a missing bucket, as a permanent failure that is no missing file', async () => {
      const storage = use(open('vault', keyFiles, 'no-such-bucket'));
      // One at a time: each is started only when awaited, so no rejection waits unobserved.
      for (const attempt of [
        () => storage.create(),
        () => storage.load({ kind: 'config', name: '' }),
        () => storage.save({ kind: 'keys', name: hexName('key') }, Buffer.from('key')),
      ]) {
        const error = await failure(attempt());
        expect(error.message).toMatch(/bucket no-such-bucket does not exist/);
        expect(storage.isNotFound(error)).toBe(false);
        expect(storage.isPermanent(error)).toBe(true);
      }
    });

    it('refuses an unknown access key as denied, for good', async () => {
      // s3rver checks the key id of a SigV4 request but not its signature: a wrong secret passes.
      await writeFile(join(base, 'wrong-id'), 'AKIDUNKNOWN\n');
      const storage = use(open('vault', { ...keyFiles, accessKeyIdFile: 'wrong-id' }));
      for (const attempt of [
        () => storage.stat({ kind: 'config', name: '' }),
        () => storage.create(),
      ]) {
        const error = await failure(attempt());
        expect(error.code).toBe('denied');
        expect(storage.isPermanent(error)).toBe(true);
      }
    });

    it('names a key file it cannot read, as a permanent failure', async () => {
      const storage = use(open('vault', { ...keyFiles, accessKeyIdFile: 'keys/missing' }));
      const error = await failure(storage.create());
      expect(error.message).toContain(join(base, 'keys/missing'));
      expect(storage.isPermanent(error)).toBe(true);
    });

    it('takes the keys from the AWS environment when no key files are given', async () => {
      vi.stubEnv('AWS_ACCESS_KEY_ID', server.accessKeyId);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', server.secretAccessKey);
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
      try {
        const storage = use(open('environment', {}));
        await storage.create();
        await storage.save({ kind: 'locks', name: 'env' }, Buffer.from('env'));
        expect([...(await names(storage, 'locks'))]).toEqual(['env']);
      } finally {
        vi.unstubAllEnvs();
      }
    });

    it('says a server that does not answer is worth another try', async () => {
      const url = `s3://${BUCKET}/vault?endpoint=http://127.0.0.1:${await freePort()}&pathStyle=true`;
      const storage = openS3Storage(new URL(url), keyFiles, base);
      opened.push(storage);
      const error = await failure(storage.stat({ kind: 'config', name: '' }));
      expect(storage.isNotFound(error)).toBe(false);
      expect(storage.isPermanent(error)).toBe(false);
    });
  });
});

async function names(storage: Storage, kind: 'data' | 'index' | 'locks'): Promise<Set<string>> {
  const found = new Set<string>();
  for await (const name of storage.names(kind)) found.add(name);
  return found;
}

async function list(storage: Storage, kind: 'data'): Promise<number> {
  let count = 0;
  for await (const file of storage.list(kind)) count += file.name ? 1 : 0;
  return count;
}

/** The S3 operations the storage's client sends from now on, in order, retries not counted. */
function countRequests(storage: S3Storage): string[] {
  const sent: string[] = [];
  storage.client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return sent;
}
