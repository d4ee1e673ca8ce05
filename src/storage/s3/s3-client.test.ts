import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StorageError } from '../storage.js';
import type { S3Options } from './open-s3.js';
import { createS3Client } from './s3-client.js';
import { parseS3Url } from './s3-url.js';

let dir: string;
let files = 0;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailvault-s3-client-'));
  // Nothing of the machine's own AWS setup may leak in; the SDK caches each ini file by path,
  // so every test gets files of its own.
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE'])
    vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'no-config'));
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'no-credentials'));
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await rm(dir, { recursive: true, force: true });
});

async function file(text: string): Promise<string> {
  const path = join(dir, `file-${++files}`);
  await writeFile(path, text);
  return path;
}

const client = (url: string, options: S3Options = {}) =>
  createS3Client(parseS3Url(new URL(url)), options, dir);

describe('the S3 region', () => {
  it('is the URL’s when it gives one', async () => {
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    expect(await client('s3://b/p?region=eu-west-1').config.region()).toBe('eu-west-1');
  });

  it('is else AWS_REGION, or the AWS CLI’s AWS_DEFAULT_REGION', async () => {
    vi.stubEnv('AWS_DEFAULT_REGION', 'eu-north-1');
    expect(await client('s3://b/p').config.region()).toBe('eu-north-1');
    vi.stubEnv('AWS_REGION', 'ap-south-1');
    expect(await client('s3://b/p').config.region()).toBe('ap-south-1');
  });

  it('is else the profile’s, from the AWS config file', async () => {
    vi.stubEnv(
      'AWS_CONFIG_FILE',
      await file('[default]\nregion = us-west-2\n[profile backup]\nregion = eu-central-1\n'),
    );
    expect(await client('s3://b/p').config.region()).toBe('us-west-2');
    expect(await client('s3://b/p', { profile: 'backup' }).config.region()).toBe('eu-central-1');
  });

  it('is else us-east-1', async () => {
    expect(await client('s3://b/p').config.region()).toBe('us-east-1');
  });
});

describe('S3 credentials', () => {
  it('come from two files relative to the config, trimmed', async () => {
    await writeFile(join(dir, 'key-id'), '  AKIDEXAMPLE\n');
    await writeFile(join(dir, 'secret'), 'wJalrXUtnFEMI/K7MDENG\r\n');
    const credentials = await client('s3://b/p', {
      accessKeyIdFile: 'key-id',
      secretAccessKeyFile: 'secret',
    }).config.credentials();
    expect(credentials).toMatchObject({
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG',
    });
  });

  it('refuse one key file without the other', () => {
    expect(() => client('s3://b/p', { accessKeyIdFile: 'key-id' })).toThrow(
      /s3:\/\/b\/p: give both accessKeyIdFile and secretAccessKeyFile, or neither/,
    );
  });

  it('name an unreadable or empty key file, as a permanent refusal', async () => {
    await writeFile(join(dir, 'empty'), '\n');
    for (const [options, why] of [
      [
        { accessKeyIdFile: 'missing', secretAccessKeyFile: 'empty' },
        /access key id from .*missing \(ENOENT\)/,
      ],
      [
        { accessKeyIdFile: 'empty', secretAccessKeyFile: 'empty' },
        /access key id file .*empty is empty/,
      ],
    ] as const) {
      const error: unknown = await client('s3://b/p', options)
        .config.credentials()
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StorageError);
      expect((error as StorageError).code).toBe('denied');
      expect((error as StorageError).message).toMatch(why);
    }
  });

  it('come from a named profile', async () => {
    vi.stubEnv(
      'AWS_SHARED_CREDENTIALS_FILE',
      await file(
        '[default]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n' +
          '[backup]\naws_access_key_id = AKIDBACKUP\naws_secret_access_key = backupsecret\n',
      ),
    );
    const credentials = await client('s3://b/p', { profile: 'backup' }).config.credentials();
    expect(credentials).toMatchObject({
      accessKeyId: 'AKIDBACKUP',
      secretAccessKey: 'backupsecret',
    });
  });

  it('come else from the AWS environment', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDENV');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'envsecret');
    const credentials = await client('s3://b/p').config.credentials();
    expect(credentials).toMatchObject({ accessKeyId: 'AKIDENV', secretAccessKey: 'envsecret' });
  });
});
