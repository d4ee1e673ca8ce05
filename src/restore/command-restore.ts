import type { CommandTree } from '../command-output/command-tree.js';
import type { Repository } from '../repository/repository.js';
import { readStream } from '../repository/stream-store.js';
import type { CommandExit } from '../sources/commands/shell-command.js';
import { STDOUT, writeOutputFile, writeOutputStream } from '../targets/commands/output-file.js';
import {
  pipeIntoRestoreCommand,
  type RestoreCommand,
} from '../targets/commands/restore-command.js';

/** Where a command set's stored output goes: its restore command, a file, or standard output. */
export type CommandRestoreTarget =
  | { kind: 'command'; command: RestoreCommand; cwd?: string; showOutput?: boolean }
  /** A file, or with the path STDOUT the caller's standard output, given as `stdout`. */
  | { kind: 'file'; path: string; stdout?: NodeJS.WritableStream };

export interface CommandRestoreOptions {
  repository: Repository;
  tree: CommandTree;
  target: CommandRestoreTarget;
  /**
   * Read and authenticate the whole stream once before the restore command sees a byte of it
   * (default for a command target; a file is written under a temporary name instead).
   */
  verifyFirst: boolean;
  onProgress?: (phase: 'verify' | 'restore', bytes: number, total: number) => void;
}

export interface CommandRestoreOutcome {
  bytes: number;
  sha256: string;
  /** Whether the stream was verified end to end before it was handed on. */
  verifiedFirst: boolean;
  /** How the restore command ended (command targets). */
  exit: CommandExit | null;
  /** The restore command exited cleanly before reading all of its input. */
  stoppedReading: boolean;
}

/**
 * Reads every chunk of the stream (each is authenticated as it is opened) and checks its size
 * and SHA-256, without handing a byte on: damage found here stops the restore before anything
 * was written anywhere.
 */
export async function verifyStoredOutput(
  repository: Repository,
  tree: CommandTree,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  let bytes = 0;
  for await (const chunk of readStream(repository, tree.stream)) {
    bytes += chunk.length;
    onBytes?.(bytes);
  }
}

/**
 * Restores a command's stored output. The stream is read chunk by chunk (memory stays flat
 * whatever its size); its SHA-256 is checked at the end of each pass. A file is complete or
 * absent; a restore command is stopped, not given an end of file, when the stream fails halfway.
 */
export async function restoreCommandOutput(
  options: CommandRestoreOptions,
): Promise<CommandRestoreOutcome> {
  const { repository, tree, target } = options;
  const total = tree.stream.size;
  const progress = (phase: 'verify' | 'restore') => (bytes: number) =>
    options.onProgress?.(phase, bytes, total);
  if (options.verifyFirst) await verifyStoredOutput(repository, tree, progress('verify'));
  const input = readStream(repository, tree.stream);
  const outcome: CommandRestoreOutcome = {
    bytes: 0,
    sha256: tree.stream.sha256,
    verifiedFirst: options.verifyFirst,
    exit: null,
    stoppedReading: false,
  };
  if (target.kind === 'command') {
    const result = await pipeIntoRestoreCommand(target.command, input, {
      cwd: target.cwd,
      showOutput: target.showOutput,
      onBytes: progress('restore'),
    });
    return {
      ...outcome,
      bytes: result.bytes,
      exit: result.exit,
      stoppedReading: result.stoppedReading,
    };
  }
  const bytes =
    target.path === STDOUT
      ? await writeOutputStream(input, target.stdout ?? process.stdout, {
          onBytes: progress('restore'),
        })
      : await writeOutputFile(target.path, input, { onBytes: progress('restore') });
  return { ...outcome, bytes };
}
