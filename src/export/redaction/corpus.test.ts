// The redaction rules against real configuration files of a mail server, each with the secrets
// it holds and the ordinary values a supporter needs (test/fixtures/secrets/, read by
// test/support/secrets-corpus.ts). The same corpus goes through the real CLI in
// test/integration/support-bundle-secrets.test.ts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corpusFiles, SECRETS_CORPUS } from '../../../test/support/secrets-corpus.js';
import { leftOutReason, redactText } from '../redaction.js';

const files = corpusFiles();

describe('redaction of the secrets corpus', () => {
  it('holds files with secrets and values to keep', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files.flatMap((file) => file.secrets).length).toBeGreaterThanOrEqual(60);
  });

  it.each(files.map((file) => [file.path, file] as const))('%s', (path, file) => {
    const bytes = readFileSync(join(SECRETS_CORPUS, path));
    const reason = leftOutReason(`/${path}`, bytes);
    if (file.leftOut !== null) {
      expect(reason).toBe(file.leftOut);
      return;
    }
    expect(reason).toBeNull();
    const { text, redactions } = redactText(`/${path}`, bytes.toString('utf8'));
    const survived = file.secrets.filter((secret) => text.includes(secret));
    expect(survived, text).toEqual([]);
    const lost = file.keep.filter((value) => !text.includes(value));
    expect(lost, text).toEqual([]);
    // Every redaction is named by line and key, never by value.
    for (const secret of file.secrets) expect(JSON.stringify(redactions)).not.toContain(secret);
  });
});
