// The benchmark's figures: a table for people (stdout) and JSON for tools (bench/out/results.json).

export type Status = 'met' | 'not met' | 'info';

/** Repeated measurements of one figure: its value is their median. */
export interface Spread {
  n: number;
  min: number;
  median: number;
  max: number;
  values: number[];
}

export interface Figure {
  /** Stable key for tools, e.g. "restore.msgPerSec". */
  id: string;
  section: string;
  label: string;
  value: number;
  unit: string;
  /** The value as shown. */
  display: string;
  /** The target from PRODUCT.md ("Fast."), as shown; empty for baselines and context. */
  target: string;
  status: Status;
  /** When the value is the median of several runs: all of them. */
  samples?: Spread;
}

export class Report {
  readonly figures: Figure[] = [];

  add(figure: Omit<Figure, 'status'> & { met?: boolean }): void {
    const { met, ...rest } = figure;
    this.figures.push({ ...rest, status: met === undefined ? 'info' : met ? 'met' : 'not met' });
  }

  /** Figures in the order of their sections' numbers (as in the brief), else as added. */
  sorted(): Figure[] {
    const number = (section: string): number => Number(/^(\d+)\./.exec(section)?.[1] ?? 99);
    return this.figures
      .map((figure, i) => ({ figure, i }))
      .sort((a, b) => number(a.figure.section) - number(b.figure.section) || a.i - b.i)
      .map(({ figure }) => figure);
  }

  table(): string {
    const header = ['', 'figure', 'value', 'target (PRODUCT.md)', 'status'];
    const rows: string[][] = [];
    let section = '';
    for (const figure of this.sorted()) {
      if (figure.section !== section) {
        section = figure.section;
        rows.push([section, '', '', '', '']);
      }
      rows.push([
        '',
        figure.label,
        figure.display,
        figure.target,
        figure.status === 'info' ? '' : figure.status === 'met' ? 'met' : 'NOT MET',
      ]);
    }
    const widths = header.map((h, i) =>
      Math.max(h.length, ...rows.filter((r) => r[1] !== '').map((r) => (r[i] ?? '').length)),
    );
    const line = (cells: string[]): string =>
      `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
    const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`];
    for (const row of rows) {
      if (row[1] === '') out.push(`| **${row[0]}**`);
      else out.push(line(row));
    }
    return out.join('\n');
  }
}

export function fmtCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtRate(n: number, unit: string): string {
  return `${n >= 100 ? fmtCount(n) : n.toFixed(1)} ${unit}`;
}

export function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

export function fmtSeconds(s: number): string {
  return s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}

export function fmtMiB(kb: number): string {
  return `${(kb / 1024).toFixed(0)} MiB`;
}
