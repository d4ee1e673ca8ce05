import { formatBytes } from '../../text/format.js';
import { printable } from '../../text/printable.js';
import type { TerminalStream } from '../terminal.js';

/**
 * A one-line progress display on stderr for terminals: redrawn at most ten times a second and
 * erased when done. On anything but a terminal (or with --no-progress) it stays silent.
 */
export class Progress {
  private items = 0;
  private bytes = 0;
  private total: number | null = null;
  private done = 0;
  private detail = '';
  private lastDraw = 0;
  private readonly started = Date.now();
  private drawn = false;

  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
    private readonly stderr: TerminalStream = process.stderr,
  ) {}

  setTotal(total: number): void {
    this.total = total;
    this.draw();
  }

  step(detail?: string): void {
    this.done++;
    if (detail !== undefined) this.detail = detail;
    this.draw();
  }

  setDetail(detail: string): void {
    this.detail = detail;
    this.draw();
  }

  add(items: number, bytes: number): void {
    this.items += items;
    this.bytes += bytes;
    this.draw();
  }

  private draw(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    const parts = [this.label];
    if (this.total !== null) parts.push(`${this.done}/${this.total}`);
    if (this.items > 0)
      parts.push(
        `${this.items} items`,
        formatBytes(this.bytes),
        `${formatBytes(this.bytes / seconds)}/s`,
      );
    if (this.detail) parts.push(printable(this.detail));
    const columns = this.stderr.columns || 100;
    this.stderr.write(`\r\x1b[K${parts.join('  ').slice(0, columns - 1)}`);
    this.drawn = true;
  }

  finish(): void {
    if (this.drawn) this.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
