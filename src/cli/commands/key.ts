import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';

/** `mailvault key list|add|remove|passwd`: the passphrases that open the repository. */
export function registerKey(program: Command, _run: CommandRunner): void {
  program.command('key').description('list, add, remove or change the repository passphrases');
}
