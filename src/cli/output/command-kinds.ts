/**
 * What a command prints for a person. A listing is what it was asked for (`snapshots`, `ls`,
 * `search`, a dry run's plan): --quiet leaves it whole. A report tells of an action done (a
 * backup's summary, a restore's table of folders): --quiet leaves it out but for its problems,
 * and the exit code says the rest.
 */
export type OutputKind = 'listing' | 'report';

/** Every command, by its words; a new command must be given its kind here (a test checks). */
export const COMMAND_KINDS: Readonly<Record<string, OutputKind>> = {
  accounts: 'listing',
  ls: 'listing',
  search: 'listing',
  show: 'listing',
  snapshots: 'listing',
  stats: 'listing',
  'key list': 'listing',
  // The daemon's output is its log.
  serve: 'listing',
  init: 'report',
  backup: 'report',
  'restore item': 'report',
  'restore account': 'report',
  'restore undelete': 'report',
  'restore external': 'report',
  'restore files': 'report',
  'restore command': 'report',
  export: 'report',
  check: 'report',
  forget: 'report',
  prune: 'report',
  copy: 'report',
  'key add': 'report',
  'key remove': 'report',
  'key passwd': 'report',
  'catalog rebuild': 'report',
  status: 'report',
  'support-bundle': 'report',
};

/** The kind of a command's output: a dry run's plan is what was asked for. */
export function outputKindOf(command: string, options: { dryRun?: unknown }): OutputKind {
  if (options.dryRun) return 'listing';
  return COMMAND_KINDS[command] ?? 'listing';
}
