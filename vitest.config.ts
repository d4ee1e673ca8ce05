import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/longest-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each start their own servers; two cores, so keep files to two at a time.
    // (Three at a time on a machine already busy pushed the longest remote-outage tests past
    // their timeouts.)
    maxWorkers: 2,
    sequence: { sequencer: LongestFirstSequencer },
    // The built CLI and core, which tests run inside their own process (in-process-cli.ts and the
    // service tests), are loaded by Node as the binary loads them, not through vitest's transform.
    server: { deps: { external: [/\/dist\//] } },
  },
});
