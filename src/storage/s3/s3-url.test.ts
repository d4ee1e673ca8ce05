import { describe, expect, it } from 'vitest';
import { StorageError } from '../storage.js';
import { parseS3Url } from './s3-url.js';

const parse = (text: string) => parseS3Url(new URL(text));

function refusal(text: string): StorageError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error(`${text} was accepted`);
}

describe('S3 repository URLs', () => {
  it('read the bucket, the prefix and every parameter', () => {
    expect(
      parse(
        's3://backups/mail/vault?endpoint=https://minio.example:9000&region=eu-west-1&pathStyle=true',
      ),
    ).toEqual({
      bucket: 'backups',
      prefix: 'mail/vault',
      endpoint: 'https://minio.example:9000',
      region: 'eu-west-1',
      pathStyle: true,
      printable:
        's3://backups/mail/vault?endpoint=https://minio.example:9000&region=eu-west-1&pathStyle=true',
    });
  });

  it('default to the bucket root, AWS itself, the region from the environment and host-style buckets', () => {
    for (const text of ['s3://backups', 's3://backups/', 's3://backups///'])
      expect(parse(text)).toEqual({
        bucket: 'backups',
        prefix: '',
        pathStyle: false,
        printable: text,
      });
  });

  it('take the prefix without slashes at its ends, percent-decoded', () => {
    expect(parse('s3://b/vault/').prefix).toBe('vault');
    expect(parse('s3://b/my%20mail/2024').prefix).toBe('my mail/2024');
  });

  it('keep an endpoint path, without a trailing slash', () => {
    expect(parse('s3://b/p?endpoint=http://127.0.0.1:9000/').endpoint).toBe(
      'http://127.0.0.1:9000',
    );
    expect(parse('s3://b/p?endpoint=https://gateway.example/s3/').endpoint).toBe(
      'https://gateway.example/s3',
    );
  });

  it('take pathStyle=false', () => {
    expect(parse('s3://b?pathStyle=false').pathStyle).toBe(false);
  });

  it.each([
    ['s3:///vault', /the bucket name is missing/],
    ['s3://bucket:9000/vault', /give it as \?endpoint=https:\/\/host:port/],
    ['s3://bucket/a//b', /empty, "\." or "\.\." part, or a bad %-escape/],
    ['s3://bucket/a%2F%2Fb', /empty, "\." or "\.\." part, or a bad %-escape/],
    ['s3://bucket/%E0%A4%A', /empty, "\." or "\.\." part, or a bad %-escape/],
    ['s3://bucket/v?pathStyle=yes', /pathStyle must be true or false/],
    ['s3://bucket/v?region=eu%20west', /is not a region name/],
    ['s3://bucket/v?region=a&region=b', /region is given twice/],
    ['s3://bucket/v?endpoint=minio:9000', /endpoint must be an http:\/\/ or https:\/\/ URL/],
    ['s3://bucket/v?endpoint=not%20a%20url', /the endpoint is not a URL/],
    ['s3://bucket/v?endpoint=https://host/?x=1', /cannot have a query/],
    ['sftp://bucket/v', /not an s3:\/\/ URL/],
  ])('refuse %s, naming it', (text, why) => {
    const error = refusal(text);
    expect(error.message).toMatch(why);
    expect(error.message.startsWith(text.replace(/\?.*/, ''))).toBe(true);
  });

  it('refuse credentials in the URL or the endpoint without repeating them', () => {
    for (const text of [
      's3://AKIAEXAMPLE:hunter2@bucket/vault',
      's3://bucket/vault?endpoint=https://admin:hunter2@minio.example:9000',
    ]) {
      const error = refusal(text);
      expect(error.message).toMatch(/credentials do not belong in the (URL|endpoint)/);
      expect(error.message).toContain('s3://bucket/vault');
      expect(error.message).not.toContain('hunter2');
      expect(error.message).not.toContain('AKIAEXAMPLE');
    }
  });

  it('refuse unknown parameters by name, without their values', () => {
    const error = refusal('s3://bucket/vault?region=eu-west-1&secretKey=hunter2&pathstyle=true');
    expect(error.message).toBe(
      's3://bucket/vault?region=eu-west-1: unknown parameter secretKey, pathstyle ' +
        '(known: endpoint, region, pathStyle)',
    );
  });
});
