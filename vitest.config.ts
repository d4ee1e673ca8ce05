import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/longest-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests each start their own servers. Three files at a time on two cores: since
    // the CLI runs inside the test process (test/support/in-process-cli.ts) a file spends much of
    // its time waiting on its servers (remote outages, timeouts, daemons), and a third file uses
    // that time. Measured on a fresh run: 627 s with three against 687-739 s with two, every test
    // within its timeout (the longest, the remote outages and the fault suite, set their own).
    maxWorkers: 3,
    sequence: { sequencer: LongestFirstSequencer },
    // The built CLI and core, which tests run inside their own process (in-process-cli.ts and the
    // service tests), are loaded by Node as the binary loads them, not through vitest's transform.
    server: { deps: { external: [/\/dist\//] } },
  },
});
