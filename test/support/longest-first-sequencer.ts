// The order in which vitest hands test files to its workers. A fresh clone has no results cache,
// and vitest then keeps the order the files were found in: a five-minute file found last runs
// alone at the end while the other workers sit idle. Longest first keeps the workers busy to the
// end, whatever the number of files.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each of the longest files took in a full run on a 2-core machine (three files at a
 * time). Rough is enough: only
 * the order matters, and a file left out counts as an average file of its kind.
 */
const MEASURED_SECONDS: Readonly<Record<string, number>> = {
  'test/integration/remote-outage-sftp.test.ts': 79,
  'test/integration/remote-outage-s3.test.ts': 73,
  'test/integration/dav-backup.test.ts': 61,
  'test/integration/serve.test.ts': 55,
  'test/integration/faults.test.ts': 55,
  'test/integration/fault-suite.test.ts': 54,
  'test/integration/commands.test.ts': 51,
  'test/integration/large-message-backup.test.ts': 51,
  'test/integration/remote-killed-sftp.test.ts': 47,
  'test/integration/remote-killed-s3.test.ts': 46,
  'test/integration/node22.test.ts': 45,
  'test/integration/dav-corpus.test.ts': 42,
  'test/integration/package-install.test.ts': 40,
  'test/integration/private-files.test.ts': 40,
  'test/integration/large-message-restore.test.ts': 37,
  'test/integration/two-writers.test.ts': 35,
  'test/integration/remote-offline-s3.test.ts': 32,
  'test/integration/prune.test.ts': 31,
  'test/integration/export.test.ts': 30,
  'src/mailbox/spooled-message-store.test.ts': 28,
  'test/integration/incremental.test.ts': 28,
  'test/integration/remote-offline-sftp.test.ts': 26,
  'test/integration/bad-input-limits.test.ts': 25,
  'test/integration/remote-repositories.test.ts': 21,
  'test/support/dovecot.test.ts': 20,
  'test/integration/imap-fidelity.test.ts': 19,
};

/** A file not measured: integration tests start servers and CLI processes, unit tests do not. */
function guessSeconds(path: string): number {
  return path.startsWith('test/') ? 8 : 1;
}

export class LongestFirstSequencer extends BaseSequencer {
  override sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = (file: TestSpecification): number => {
      const path = relative(root, file.moduleId);
      return MEASURED_SECONDS[path] ?? guessSeconds(path);
    };
    return Promise.resolve([...files].sort((a, b) => seconds(b) - seconds(a)));
  }
}
