import { afterEach, describe, expect, it, vi } from 'vitest';
import { withoutNodeVersionNotice } from './sdk-notices.js';

const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('the AWS SDK’s Node version notice', () => {
  it('is switched off while a client is built', () => {
    vi.stubEnv(SWITCH, undefined);
    expect(withoutNodeVersionNotice(() => process.env[SWITCH])).toBe('true');
  });

  it('leaves the environment as it was, for the commands and hooks mailvault starts', () => {
    vi.stubEnv(SWITCH, undefined);
    withoutNodeVersionNotice(() => undefined);
    expect(SWITCH in process.env).toBe(false);

    vi.stubEnv(SWITCH, 'false');
    expect(() =>
      withoutNodeVersionNotice(() => {
        throw new Error('the client could not be built');
      }),
    ).toThrow('the client could not be built');
    expect(process.env[SWITCH]).toBe('false');
  });

  it('silences nothing else: other warnings still reach Node', async () => {
    const seen: string[] = [];
    const listener = (warning: Error): void => {
      seen.push(warning.message);
    };
    process.on('warning', listener);
    try {
      withoutNodeVersionNotice(() => undefined);
      process.emitWarning('a warning of some other library');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    expect(seen).toContain('a warning of some other library');
  });
});
