import { formatTable } from './format.js';
import { Progress } from './progress.js';

/**
 * Where a command speaks: human text on stdout, or one JSON document with --json; warnings and
 * progress on stderr, so a script reading stdout gets only the result.
 */
export class Output {
  /** Writes held back until `gate` settles (see hold()). */
  private held: Array<() => void> | undefined;
  private gate: Promise<unknown> | undefined;

  constructor(
    readonly json: boolean,
    readonly quiet: boolean,
    private readonly showProgress: boolean,
  ) {}

  /**
   * Holds back everything the command says until `until` resolves, and drops it if `until`
   * fails. A command that reads only the catalog can then work while the repository key is
   * still being derived (a third of a second of scrypt), without showing anything to someone
   * whose passphrase turns out wrong.
   */
  hold(until: Promise<unknown>): void {
    this.held ??= [];
    const gate = Promise.all([this.gate, until]);
    this.gate = gate;
    gate.catch(() => undefined); // settled() reports it
  }

  /** Waits for the gate, then writes what was held (or drops it and throws the gate's error). */
  async settled(): Promise<void> {
    if (!this.gate) return;
    try {
      await this.gate;
    } catch (error) {
      this.held = undefined;
      throw error;
    }
    const held = this.held ?? [];
    this.held = undefined;
    this.gate = undefined;
    for (const write of held) write();
  }

  private write(stream: NodeJS.WriteStream, text: string): void {
    if (this.held) this.held.push(() => stream.write(text));
    else stream.write(text);
  }

  /** A line of the human result (nothing in JSON mode). */
  line(text = ''): void {
    if (!this.json) this.write(process.stdout, `${text}\n`);
  }

  /** A note for a person: suppressed by --quiet and in JSON mode, on stderr. */
  note(text: string): void {
    if (!this.quiet && !this.json) this.write(process.stderr, `${text}\n`);
  }

  warn(text: string): void {
    this.write(process.stderr, `mailvault: warning: ${text}\n`);
  }

  table(headers: string[], rows: string[][], rightAligned: number[] = []): void {
    this.line(formatTable(headers, rows, rightAligned));
  }

  /** The JSON document of a command (JSON mode only). */
  result(value: unknown): void {
    if (this.json) this.write(process.stdout, `${JSON.stringify(value, null, 2)}\n`);
  }

  progress(label: string): Progress {
    return new Progress(label, this.showProgress);
  }
}
