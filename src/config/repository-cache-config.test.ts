import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load-config.js';

const withCache = (cache: string): string => `
repository:
  url: sftp://backup@vault.example.com/srv/mailvault
${cache ? `  cache: ${cache}\n` : ''}`;

const refused = (text: string): string => {
  try {
    parseConfig(text, 'mailvault.yml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
};

describe('repository.cache', () => {
  it('has defaults a user does not have to write', () => {
    expect(parseConfig(withCache(''), 'mailvault.yml').repository.cache).toEqual({
      uploadWait: '1m',
      maxPendingSize: '10G',
      keptPacks: '2G',
    });
  });

  it('takes a folder, a wait and sizes', () => {
    const { cache } = parseConfig(
      withCache(
        '{ dir: /var/cache/mailvault, uploadWait: 30s, maxPendingSize: 500MiB, keptPacks: 0 }',
      ),
      'mailvault.yml',
    ).repository;
    expect(cache).toEqual({
      dir: '/var/cache/mailvault',
      uploadWait: '30s',
      maxPendingSize: '500MiB',
      keptPacks: 0,
    });
  });

  it('refuses what is not a duration or a size, by its key', () => {
    expect(refused(withCache('{ uploadWait: soon }'))).toMatch(/repository\.cache\.uploadWait/);
    expect(refused(withCache('{ maxPendingSize: 1.5G }'))).toMatch(
      /repository\.cache\.maxPendingSize: a size such as 10G/,
    );
    expect(refused(withCache('{ size: 1G }'))).toMatch(/repository\.cache\.size/);
  });
});
