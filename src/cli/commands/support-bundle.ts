import type { Command } from 'commander';
import type { CommandRunner } from '../main.js';

/** `support-bundle --output FILE [--at D] [--set NAME]`: configuration with secrets redacted. */
export function registerSupportBundle(program: Command, run: CommandRunner): void {
  void program;
  void run;
}
