import type { Command } from 'commander';
import type { CommandRunner } from '../../main.js';

/** `restore command NAME [--at D] [--output FILE]`: a command set's stored output at a date. */
export function registerRestoreCommand(restore: Command, run: CommandRunner): void {
  void restore;
  void run;
}
