import type { CollectionExportRequest } from '../../app/export/collection-export-service.js';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { cliRequester } from '../notify.js';
import { formatBytes, formatCount, formatDuration } from '../../text/format.js';
import { printable } from '../../text/printable.js';

/** `export ACCOUNT --format ics|vcf`: calendars or address books, at a date or every version. */
export async function exportCollectionsCommand(
  context: CliContext,
  name: string,
  options: Omit<CollectionExportRequest, 'account' | 'requestedBy'>,
): Promise<ExitCode> {
  const { exportCollectionsAt } = await import('../../app/export/collection-export-service.js');
  const started = Date.now();
  const { outcome, collections } = await exportCollectionsAt(context, {
    ...options,
    account: name,
    requestedBy: cliRequester(context.terminal.env),
  });
  context.output.result({ ...outcome, output: options.output, collections });
  for (const broken of outcome.broken)
    context.output.problem(
      `WARNING ${printable(`${broken.collection}/${broken.item}`)}: ${broken.reason} (written apart)`,
    );
  context.output.line(
    `exported ${formatCount(outcome.items)} item(s) of ${collections.length} collection(s) to ${options.output} ` +
      `(${outcome.files} file(s), ${formatBytes(outcome.bytes)}) in ${formatDuration(Date.now() - started)}`,
  );
  return ExitCode.Ok;
}
