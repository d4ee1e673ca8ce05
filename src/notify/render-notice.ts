import type { Notice, NoticeOutcome } from './notice.js';

/** Failures listed in the body; the rest are in report.json, so a huge list cannot drown the mail. */
export const MAX_LISTED_FAILURES = 100;

const SUBJECT_DETAIL_LENGTH = 120;

export interface NoticeAttachment {
  filename: string;
  content: string;
  contentType: string;
}

export interface RenderedNotice {
  subject: string;
  text: string;
  attachments: NoticeAttachment[];
}

export function renderNotice(notice: Notice): RenderedNotice {
  return {
    subject: noticeSubject(notice),
    text: noticeText(notice),
    attachments: noticeAttachments(notice),
  };
}

/** "[mailvault] restore of alice@example.com finished: 40 restored, 2 failed". */
export function noticeSubject(notice: Notice): string {
  let detail = '';
  if (notice.phase === 'finished' && notice.outcome) detail = outcomeSummary(notice.outcome);
  else if (notice.phase === 'failed' && notice.error) detail = notice.error;
  const head = `[mailvault] ${oneLine(notice.title)} ${notice.phase}`;
  return detail ? `${head}: ${shorten(oneLine(detail), SUBJECT_DETAIL_LENGTH)}` : head;
}

/** The non-zero totals, "40 restored, 2 failed"; "0 restored" when there is nothing at all. */
export function outcomeSummary(outcome: NoticeOutcome): string {
  const parts = outcome.columns
    .map((column, i) => ({ column, total: outcome.totals[i] ?? 0 }))
    .filter(({ total }) => total !== 0)
    .map(({ column, total }) => `${formatCount(total)} ${column}`);
  return parts.length > 0 ? parts.join(', ') : `0 ${outcome.columns[0] ?? 'items'}`;
}

export function noticeText(notice: Notice): string {
  const lines: string[] = [];
  const title = oneLine(notice.title);
  if (notice.phase === 'failed')
    lines.push(`The ${title} failed${notice.error ? `: ${notice.error}` : '.'}`);
  else lines.push(`The ${title} ${notice.phase}.`);
  lines.push('', ...parameterLines(notice), '');
  if (notice.outcome) lines.push(...outcomeLines(notice.outcome), '');
  if (notice.phase === 'started') lines.push('Another message follows when it ends.', '');
  if (notice.report !== undefined && notice.phase !== 'started')
    lines.push('The full report is attached as report.json.', '');
  // "-- " is the signature separator mail clients recognise and fold away.
  lines.push('-- ', 'mailvault');
  return lines.join('\n') + '\n';
}

export function noticeAttachments(notice: Notice): NoticeAttachment[] {
  if (notice.report === undefined) return [];
  return [
    {
      filename: 'report.json',
      content: JSON.stringify(notice.report, null, 2) + '\n',
      contentType: 'application/json; charset=utf-8',
    },
  ];
}

function parameterLines(notice: Notice): string[] {
  const entries = Object.entries(notice.parameters).map(([key, value]) => [key, oneLine(value)]);
  if (notice.startedAt) entries.push(['Started', formatNoticeTime(notice.startedAt)]);
  if (notice.finishedAt) {
    const took = notice.startedAt
      ? ` (${formatElapsed(notice.finishedAt.getTime() - notice.startedAt.getTime())})`
      : '';
    entries.push([
      notice.phase === 'failed' ? 'Failed' : 'Finished',
      formatNoticeTime(notice.finishedAt) + took,
    ]);
  }
  const width = Math.max(0, ...entries.map(([key]) => (key ?? '').length + 1));
  return entries.map(([key, value]) => `  ${`${key}:`.padEnd(width)}  ${value}`);
}

function outcomeLines(outcome: NoticeOutcome): string[] {
  const headers = [outcome.rowLabel, ...outcome.columns, ''].map((h) => h.toUpperCase());
  const numeric = outcome.columns.map((_, i) => i + 1);
  const body = outcome.rows.map((row) => [
    oneLine(row.name),
    ...outcome.columns.map((_, i) => formatCount(row.counts[i] ?? 0)),
    row.note ?? '',
  ]);
  const total = ['TOTAL', ...outcome.totals.map(formatCount), ''];
  const lines = formatTable(headers, body, total, numeric);
  if (outcome.notes?.length) lines.push('', ...outcome.notes);
  if (outcome.failures.length > 0) {
    lines.push('', `Failed (${formatCount(outcome.failures.length)}):`);
    for (const failure of outcome.failures.slice(0, MAX_LISTED_FAILURES))
      lines.push(`  ${oneLine(failure.where)}: ${oneLine(failure.reason)}`);
    const more = outcome.failures.length - MAX_LISTED_FAILURES;
    if (more > 0) lines.push(`  ... and ${formatCount(more)} more, all listed in report.json`);
  }
  return lines;
}

/**
 * Columns padded to their widest cell, a rule, then the totals. Plain text in a fixed-width
 * font is what every mail client shows the same way; trailing blanks are cut because some
 * clients and relays mangle them.
 */
export function formatTable(
  headers: string[],
  rows: string[][],
  total: string[] | undefined,
  rightAligned: number[],
): string[] {
  const all = total ? [headers, ...rows, total] : [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const render = (cells: string[]): string =>
    widths
      .map((width, i) => {
        const cell = cells[i] ?? '';
        return rightAligned.includes(i) ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  const lines = [headers, ...rows].map(render);
  if (total) lines.push('-'.repeat(render(headers).length), render(total));
  return lines;
}

/** A moment in the sender's local time with its offset, so readers elsewhere can place it. */
export function formatNoticeTime(date: Date): string {
  const pad = (n: number): string => String(Math.abs(n)).padStart(2, '0');
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ${zone}`
  );
}

function formatElapsed(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** Folder names and server errors may hold line breaks, which would break the layout or a header. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function shorten(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}
