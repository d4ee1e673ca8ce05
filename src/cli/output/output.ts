import { formatTable } from './format.js';
import { Progress } from './progress.js';

/**
 * Where a command speaks: human text on stdout, or one JSON document with --json; warnings and
 * progress on stderr, so a script reading stdout gets only the result.
 */
export class Output {
  constructor(
    readonly json: boolean,
    readonly quiet: boolean,
    private readonly showProgress: boolean,
  ) {}

  /** A line of the human result (nothing in JSON mode). */
  line(text = ''): void {
    if (!this.json) process.stdout.write(`${text}\n`);
  }

  /** A note for a person: suppressed by --quiet and in JSON mode, on stderr. */
  note(text: string): void {
    if (!this.quiet && !this.json) process.stderr.write(`${text}\n`);
  }

  warn(text: string): void {
    process.stderr.write(`mailvault: warning: ${text}\n`);
  }

  table(headers: string[], rows: string[][], rightAligned: number[] = []): void {
    this.line(formatTable(headers, rows, rightAligned));
  }

  /** The JSON document of a command (JSON mode only). */
  result(value: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  progress(label: string): Progress {
    return new Progress(label, this.showProgress);
  }
}
