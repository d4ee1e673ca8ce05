import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';

/** `mailvault copy --to URL`: replicate snapshots to a second repository. */
export function registerCopy(program: Command, _run: CommandRunner): void {
  program.command('copy').description('copy snapshots to another repository');
}
