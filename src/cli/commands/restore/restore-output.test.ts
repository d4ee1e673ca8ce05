import { describe, expect, it } from 'vitest';
import { failureLine } from './restore-output.js';

describe('a restore failure line', () => {
  it('names the calendar item that failed, not just its collection', () => {
    expect(
      failureLine({
        folder: 'calendar:work',
        item: 'meeting.ics',
        reason: '412 Precondition Failed',
      }),
    ).toBe('calendar:work item meeting.ics: 412 Precondition Failed');
  });

  it('names a message by folder and UID', () => {
    expect(failureLine({ folder: 'INBOX', uid: 42, reason: 'holds NUL bytes' })).toBe(
      'INBOX UID 42: holds NUL bytes',
    );
  });

  it('escapes control characters in names from the server', () => {
    expect(failureLine({ folder: 'a\x1b[2Jb', item: 'x\ny', reason: 'r' })).toBe(
      'a\\x1b[2Jb item x\\ny: r',
    );
  });
});
