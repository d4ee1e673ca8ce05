import type { Command } from 'commander';
import { expect, it } from 'vitest';
import { buildProgram, commandWords } from '../main.js';
import { COMMAND_KINDS, outputKindOf } from './command-kinds.js';

function leaves(command: Command): Command[] {
  return command.commands.length === 0 ? [command] : command.commands.flatMap(leaves);
}

it('knows whether each command prints a listing or a report, for --quiet', () => {
  const words = leaves(buildProgram(() => undefined)).map(commandWords);
  expect(words.length).toBeGreaterThan(20);
  expect(words.filter((command) => !(command in COMMAND_KINDS))).toEqual([]);
});

it('takes a dry run for a listing: its plan is what was asked for', () => {
  expect(outputKindOf('prune', {})).toBe('report');
  expect(outputKindOf('prune', { dryRun: true })).toBe('listing');
  expect(outputKindOf('snapshots', {})).toBe('listing');
});
