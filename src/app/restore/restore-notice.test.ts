import { describe, expect, it } from 'vitest';
import type { RestoreReport } from '../../restore/restore-report.js';
import type { Notice } from '../../notify/notice.js';
import { formatNoticeTime, MAX_LISTED_FAILURES, renderNotice } from '../../notify/render-notice.js';
import { restoreOutcome } from './restore-outcome.js';

const report: RestoreReport = {
  account: 'mail1/alice@example.com',
  target: 'mail1/alice@example.com',
  snapshot: 'a1b2c3',
  snapshotTime: '2026-11-20T13:30:00.000Z',
  folders: [
    {
      folder: 'INBOX',
      target: 'INBOX',
      created: false,
      subscribed: true,
      restored: 1238,
      alreadyPresent: 120,
      failed: 2,
    },
    {
      folder: 'Archive/2025',
      target: 'Archive/2025',
      created: true,
      subscribed: true,
      restored: 2,
      alreadyPresent: 0,
      failed: 0,
    },
  ],
  failures: [
    { folder: 'INBOX', uid: 17, reason: 'APPEND refused: message too large' },
    { folder: 'INBOX', item: 'f00d', reason: 'object missing from the repository' },
  ],
  totals: { restored: 1240, alreadyPresent: 120, failed: 2, foldersCreated: 1, bytes: 123456 },
};

const startedAt = new Date('2026-11-21T08:00:00Z');
const base: Notice = {
  kind: 'restore',
  phase: 'started',
  title: 'restore of alice@example.com',
  parameters: {
    Account: 'mail1/alice@example.com',
    Target: 'mail1/alice@example.com',
    'As of': '2026-11-20 14:30',
    'Requested by': 'root on backup1',
  },
  startedAt,
};

const finished: Notice = {
  ...base,
  phase: 'finished',
  finishedAt: new Date('2026-11-21T08:02:10Z'),
  outcome: restoreOutcome(report),
  report,
};

describe('renderNotice', () => {
  it('announces a start with the parameters and no attachment', () => {
    const rendered = renderNotice(base);
    expect(rendered.subject).toBe('[mailvault] restore of alice@example.com started');
    expect(rendered.text).toContain('The restore of alice@example.com started.');
    expect(rendered.text).toMatch(/^ {2}Account: {7}mail1\/alice@example\.com$/m);
    expect(rendered.text).toMatch(/^ {2}Requested by: {2}root on backup1$/m);
    expect(rendered.text).toContain(`Started:       ${formatNoticeTime(startedAt)}`);
    expect(rendered.attachments).toEqual([]);
  });

  it('sums up a finish in the subject, leaving zero totals out', () => {
    expect(renderNotice(finished).subject).toBe(
      '[mailvault] restore of alice@example.com finished: 1,240 restored, 120 already present, 2 failed',
    );
    const clean = { ...report.totals, alreadyPresent: 0, failed: 0 };
    const outcome = restoreOutcome({ ...report, failures: [], totals: clean });
    expect(renderNotice({ ...finished, outcome }).subject).toBe(
      '[mailvault] restore of alice@example.com finished: 1,240 restored',
    );
  });

  it('renders the per-folder table with right-aligned counts and a total', () => {
    const lines = renderNotice(finished).text.split('\n');
    const start = lines.findIndex((line) => line.startsWith('FOLDER'));
    expect(lines.slice(start, start + 5)).toEqual([
      'FOLDER        RESTORED  ALREADY PRESENT  FAILED',
      'INBOX            1,238              120       2',
      'Archive/2025         2                0       0  created',
      '-----------------------------------------------',
      'TOTAL            1,240              120       2',
    ]);
  });

  it('lists the failures with their reasons and how long it took', () => {
    const { text } = renderNotice(finished);
    expect(text).toContain('Failed (2):\n');
    expect(text).toContain('  INBOX UID 17: APPEND refused: message too large\n');
    expect(text).toContain('  INBOX item f00d: object missing from the repository\n');
    expect(text).toContain('1 folder created');
    expect(text).toMatch(/Finished: +\S+ \S+ \S+ \(2 min 10 s\)/);
    expect(text).toContain('attached as report.json');
  });

  it('attaches the full report as report.json', () => {
    const [attachment, ...rest] = renderNotice(finished).attachments;
    expect(rest).toEqual([]);
    expect(attachment?.filename).toBe('report.json');
    expect(attachment?.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(attachment?.content ?? '')).toEqual(report);
  });

  it('caps the failures listed in the body; report.json has them all', () => {
    const many = Array.from({ length: MAX_LISTED_FAILURES + 5 }, (_, i) => ({
      folder: 'INBOX',
      uid: i + 1,
      reason: 'refused',
    }));
    const { text } = renderNotice({
      ...finished,
      outcome: restoreOutcome({ ...report, failures: many }),
    });
    expect(text).toContain(`UID ${MAX_LISTED_FAILURES}: refused`);
    expect(text).not.toContain(`UID ${MAX_LISTED_FAILURES + 1}: refused`);
    expect(text).toContain('... and 5 more, all listed in report.json');
  });

  it('says why an operation failed, on one subject line', () => {
    const rendered = renderNotice({
      ...base,
      phase: 'failed',
      error: 'IMAP server mail1 unreachable:\nconnect ECONNREFUSED',
      finishedAt: new Date('2026-11-21T08:00:05Z'),
    });
    expect(rendered.subject).toBe(
      '[mailvault] restore of alice@example.com failed: IMAP server mail1 unreachable: connect ECONNREFUSED',
    );
    expect(rendered.text).toContain('The restore of alice@example.com failed: IMAP server');
    expect(rendered.text).toMatch(/Failed: +\S+ \S+ \S+ \(5\.0 s\)/);
  });

  it('keeps line breaks in folder names out of the table', () => {
    const folders = report.folders.map((f) => ({ ...f, target: f.target.replace('/', '\r\n') }));
    const outcome = restoreOutcome({ ...report, folders });
    expect(renderNotice({ ...finished, outcome }).text).toContain('\nArchive 2025 ');
  });
});
