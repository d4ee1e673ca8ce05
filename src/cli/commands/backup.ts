import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { withProgressView } from '../output/progress-view.js';
import { PROGRAM } from '../program-name.js';
import { showBackup } from '../views/backup-report.js';

export function registerBackup(program: Command, run: CommandRunner): void {
  program
    .command('backup')
    .description(
      'back up every configured account, file set and command, or those named (accounts, or set names)',
    )
    .argument('[name...]', 'accounts, file sets or commands to back up (default: all)')
    .action(async (names: string[]) =>
      run(async (context) => {
        const { backUp } = await import('../../app/backup/backup-service.js');
        const result = await withProgressView(context.output, 'backup', (sink) =>
          backUp(
            context,
            {
              names,
              program: PROGRAM,
              hookOutput: context.globals.quiet ? undefined : context.terminal.stderr,
            },
            sink,
          ),
        );
        return showBackup(context.output, result);
      }),
    );
}
