// The order in which vitest hands test files to its workers. A fresh clone has no results cache,
// and vitest then keeps the order the files were found in: a five-minute file found last runs
// alone at the end while the other workers sit idle. Longest first keeps the workers busy to the
// end, whatever the number of files.
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Seconds each of the longest files took in a full run on a 2-core machine. Rough is enough: only
 * the order matters, and a file left out counts as an average file of its kind.
 */
const MEASURED_SECONDS: Readonly<Record<string, number>> = {
  'test/integration/faults.test.ts': 117,
  'test/integration/fault-suite.test.ts': 90,
  'test/integration/incremental.test.ts': 93,
  'test/integration/prune.test.ts': 84,
  'test/integration/remote-outage-sftp.test.ts': 80,
  'test/integration/remote-outage-s3.test.ts': 75,
  'test/integration/commands.test.ts': 69,
  'test/integration/serve.test.ts': 64,
  'test/integration/dav-backup.test.ts': 62,
  'test/integration/files.test.ts': 47,
  'test/integration/imap-fidelity.test.ts': 45,
  'test/integration/node22.test.ts': 44,
  'test/integration/remote-repositories.test.ts': 42,
  'test/integration/package-install.test.ts': 40,
  'test/integration/remote-killed-sftp.test.ts': 40,
  'test/integration/remote-killed-s3.test.ts': 40,
  'test/integration/export.test.ts': 39,
  'test/integration/cli-surface.test.ts': 38,
  'test/integration/remote-offline-s3.test.ts': 36,
  'test/integration/partial-failures.test.ts': 35,
  'test/integration/remote-offline-sftp.test.ts': 31,
};

/** A file not measured: integration tests start servers and CLI processes, unit tests do not. */
function guessSeconds(path: string): number {
  return path.startsWith('test/') ? 15 : 1;
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
