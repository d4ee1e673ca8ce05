import type { OutputKind } from './command-kinds.js';
import { formatTable } from '../../text/format.js';
import { printable, printableLines, terminalSafeJson } from '../../text/printable.js';
import { Progress } from './progress.js';
import type { TerminalStream } from '../terminal.js';

/**
 * Where a command speaks: human text on stdout, or one JSON document with --json; warnings and
 * progress on stderr, so a script reading stdout gets only the result. Every text for a person
 * is made printable here (printable.ts), and JSON made safe as well: a name from a server never
 * reaches the terminal raw.
 *
 * --quiet keeps what matters: the listing a command was asked for (snapshots, ls...), problems
 * (failures, items not processed) and warnings; the report of an action done (a backup's
 * summary, a restore's table) is left out, and the exit code says how it went.
 */
export class Output {
  /** What the command's lines are (see command-kinds.ts); set once the command is known. */
  private kind: OutputKind = 'listing';
  /** Writes held back until `gate` settles (see hold()). */
  private held: Array<() => void> | undefined;
  private gate: Promise<unknown> | undefined;

  constructor(
    readonly json: boolean,
    readonly quiet: boolean,
    private readonly showProgress: boolean,
    private readonly streams: { stdout: TerminalStream; stderr: TerminalStream } = process,
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
    // Once the key proves right, what was held goes out at once, in order, and the rest as it
    // comes: a long command's notes are shown while it runs, not at its end.
    gate.then(
      () => {
        if (this.gate === gate) this.release();
      },
      () => undefined, // settled() reports it
    );
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    this.gate = undefined;
    for (const write of held) write();
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
    this.release();
  }

  private write(stream: TerminalStream, text: string): void {
    if (this.held) this.held.push(() => stream.write(text));
    else stream.write(text);
  }

  /** Says whether the command's lines are a listing or the report of an action. */
  setKind(kind: OutputKind): void {
    this.kind = kind;
  }

  /** Lines --quiet leaves out: those of a report. */
  private get cut(): boolean {
    return this.json || (this.quiet && this.kind === 'report');
  }

  /** A line of the human result (nothing in JSON mode, nor in a quiet report). */
  line(text = ''): void {
    if (!this.cut) this.write(this.streams.stdout, `${printableLines(text)}\n`);
  }

  /**
   * A line naming a problem the exit code stands for (a failure, an item not processed): on
   * stdout with the result, kept by --quiet.
   */
  problem(text: string): void {
    if (!this.json) this.write(this.streams.stdout, `${printableLines(text)}\n`);
  }

  /** A note for a person: suppressed by --quiet and in JSON mode, on stderr. */
  note(text: string): void {
    if (!this.quiet && !this.json) this.write(this.streams.stderr, `${printableLines(text)}\n`);
  }

  warn(text: string): void {
    this.write(this.streams.stderr, `mailvault: warning: ${printableLines(text)}\n`);
  }

  /** Columns of names and values, each cell on one line (a line end in a name is escaped). */
  table(headers: string[], rows: string[][], rightAligned: number[] = []): void {
    if (this.cut) return;
    const cells = rows.map((row) => row.map(printable));
    for (const line of formatTable(headers, cells, rightAligned).split('\n')) this.line(line);
  }

  /** The JSON document of a command (JSON mode only). */
  result(value: unknown): void {
    // JSON escapes C0 controls itself; the C1 ones (CSI among them) it leaves raw.
    if (this.json)
      this.write(this.streams.stdout, `${terminalSafeJson(JSON.stringify(value, null, 2))}\n`);
  }

  progress(label: string): Progress {
    return new Progress(label, this.showProgress, this.streams.stderr);
  }
}
