import type { Config } from '../config/schema.js';
import type { SetJob } from './set-job.js';

export type CommandSetConfig = Config['commands'][number];

/** The backup of one command's output as a snapshot of kind 'command' (source 'commands'). */
export function commandJob(
  command: CommandSetConfig,
  parent: { id: string; tree: string } | null,
): SetJob {
  return {
    kind: 'command',
    source: 'commands',
    name: command.name,
    parent: parent?.id ?? null,
    backup: () => Promise.reject(new Error('commands are not backed up yet')),
  };
}
