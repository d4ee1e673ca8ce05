import type { Command } from 'commander';
import type { CommandRunner } from '../../main.js';

/** `restore files [PATH...] --at D [--target DIR] [--force]`: configuration files at a date. */
export function registerRestoreFiles(restore: Command, run: CommandRunner): void {
  void restore;
  void run;
}
