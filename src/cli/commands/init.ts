import type { Command } from 'commander';
import { DEFAULT_SCRYPT_COST } from '../../repository/crypto/key-file.js';
import { UsageError } from '../exit-codes.js';
import type { CommandRunner } from '../main.js';

export function registerInit(program: Command, run: CommandRunner): void {
  program
    .command('init')
    .description('create the repository named in the configuration')
    .option(
      '--scrypt-cost <n>',
      `cost of the passphrase key derivation, log2 of scrypt's N (default ${DEFAULT_SCRYPT_COST})`,
    )
    .action(async (options: { scryptCost?: string }) =>
      run(async (context) => {
        const cost =
          options.scryptCost === undefined ? DEFAULT_SCRYPT_COST : Number(options.scryptCost);
        if (!Number.isInteger(cost) || cost < 10 || cost > 22)
          throw new UsageError('--scrypt-cost: a whole number from 10 to 22');
        const { Repository } = await import('../../repository/repository.js');
        const storage = await context.storage();
        const passphrase = await context.passphrase({ confirm: true });
        const repository = await Repository.init(storage, passphrase, { scryptCost: cost });
        context.useRepository(repository);
        await context
          .catalog({ sync: false })
          .catch((error: unknown) =>
            context.output.warn(`catalog not created: ${(error as Error).message}`),
          );
        context.output.line(`created repository ${repository.config.id} at ${storage.location}`);
        context.output.result({
          repository: repository.config.id,
          location: storage.location,
          version: repository.config.version,
        });
      }),
    );
}
