import { writeCommandTree, type CommandTree } from '../command-output/command-tree.js';
import { commandTimeout } from '../config/duration.js';
import type { Config } from '../config/schema.js';
import type { ByteTally } from '../repository/object-writer.js';
import { storeStream } from '../repository/stream-store.js';
import { withBackupCommand } from '../sources/commands/backup-command.js';
import { CommandFailedError, CommandStartError } from '../sources/commands/shell-command.js';
import { SetFailedError, type SetJob } from './set-job.js';

export type CommandSetConfig = Config['commands'][number];

export interface CommandJobOptions {
  /** Where the command runs (default: mailvault's working directory). */
  cwd?: string;
  /** The command's place in the configuration, so that messages can name its keys. */
  index?: number;
}

/**
 * The backup of one command's output as a snapshot of kind 'command' (source 'commands'). The
 * output is stored as it arrives, chunk by chunk; the tree (and so the snapshot) exists only
 * when the command exited cleanly. A failed command fails the set: no snapshot is written, the
 * previous one stays the latest, and the chunks already stored are reused by the next run. So
 * does one that outlives its timeout: it is stopped, and what it had written is not a snapshot.
 */
export function commandJob(
  command: CommandSetConfig,
  parent: { id: string; tree: string } | null,
  options: CommandJobOptions = {},
): SetJob {
  return {
    kind: 'command',
    source: 'commands',
    name: command.name,
    parent: parent?.id ?? null,
    parentTree: parent?.tree ?? null,
    backup: async ({ repository, writer, log }) => {
      const added: ByteTally = { bytes: 0 };
      let run;
      try {
        run = await withBackupCommand(
          { ...command, timeout: commandTimeout(command, options.index ?? 0) },
          (output) => storeStream(repository, writer, output, added),
          { cwd: options.cwd },
        );
      } catch (error) {
        if (error instanceof CommandFailedError || error instanceof CommandStartError)
          throw new SetFailedError(error.message);
        throw error;
      }
      const { value: stored, exit } = run;
      if (exit.stderrBytes > 0)
        log.info(
          { command: command.name, stderr: exit.stderrTail },
          `command ${command.name} succeeded with ${exit.stderrBytes} bytes of error output`,
        );
      const tree: CommandTree = {
        v: 1,
        command: command.backup,
        exitCode: 0,
        started: exit.started.toISOString(),
        finished: exit.finished.toISOString(),
        stream: { size: stored.size, sha256: stored.sha256, chunks: stored.chunks },
        stderrTail: exit.stderrTail,
        stderrBytes: exit.stderrBytes,
      };
      return {
        tree: await writeCommandTree(writer, tree, added),
        // A dump shows the database as it was when the command started.
        time: exit.started,
        summary: {
          items: 1,
          bytes: stored.size,
          newItems: stored.newChunks > 0 ? 1 : 0,
          bytesRead: stored.size,
          chunks: stored.chunks.length,
          newChunks: stored.newChunks,
        },
        added,
        failures: [],
      };
    },
  };
}
