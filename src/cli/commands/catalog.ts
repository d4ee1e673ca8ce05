import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';
import { formatDuration } from '../../text/format.js';

export function registerCatalog(program: Command, run: CommandRunner): void {
  const catalog = program.command('catalog').description('the local catalog');
  catalog
    .command('rebuild')
    .description('rebuild the local catalog from the repository alone')
    .action(async () =>
      run(async (context) => {
        const started = Date.now();
        const repository = await context.repository();
        const opened = await context.catalog({ sync: false });
        const { damaged, resumed } = await opened.rebuild(repository);
        context.warnDamaged(damaged);
        const counts = await opened.counts();
        context.output.result({ ...counts, resumed, seconds: (Date.now() - started) / 1000 });
        context.output.line(
          `catalog rebuilt${resumed ? ' (an interrupted rebuild resumed)' : ''} from ${counts.snapshots} snapshots: ${counts.accounts} accounts, ${counts.items} items, in ${formatDuration(Date.now() - started)}`,
        );
      }),
    );
}
