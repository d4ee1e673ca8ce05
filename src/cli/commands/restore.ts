import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { registerRestoreAccount } from './restore/account.js';
import { registerRestoreCommand } from './restore/command.js';
import { registerRestoreExternal } from './restore/external.js';
import { registerRestoreFiles } from './restore/files.js';
import { registerRestoreItem } from './restore/item.js';
import { registerRestoreUndelete } from './restore/undelete.js';

export function registerRestore(program: Command, run: CommandRunner): void {
  const restore = program.command('restore').description('put backed-up data back');
  registerRestoreAccount(restore, run);
  registerRestoreItem(restore, run);
  registerRestoreUndelete(restore, run);
  registerRestoreExternal(restore, run);
  registerRestoreFiles(restore, run);
  registerRestoreCommand(restore, run);
}
