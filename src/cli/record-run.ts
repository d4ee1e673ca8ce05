import type { RunRecord } from '../catalog/run-history.js';
import type { CliContext } from './context.js';

/**
 * Records a command's run in the catalog's history, for `status` and the daemon. A catalog that
 * cannot take it (a backup holding it, a catalog of another repository) costs a warning, never
 * the command's own outcome.
 */
export async function recordRun(
  context: CliContext,
  run: Omit<RunRecord, 'id' | 'finished' | 'hook'>,
): Promise<void> {
  try {
    const { newRunId } = await import('../catalog/run-history.js');
    const catalog = await context.catalog({ sync: false });
    await catalog.runs.record({
      ...run,
      id: newRunId(run.started),
      finished: new Date(),
      hook: null,
    });
  } catch (error) {
    context.output.warn(
      `the ${run.kind} could not be recorded in the catalog: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
