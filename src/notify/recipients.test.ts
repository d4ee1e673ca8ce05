import { describe, expect, it } from 'vitest';
import { bareAddress, noticeRecipients } from './recipients.js';

describe('noticeRecipients', () => {
  it('puts the initiator first, then the admins', () => {
    expect(noticeRecipients('alice@example.com', ['ops@example.com', 'boss@example.com'])).toEqual([
      'alice@example.com',
      'ops@example.com',
      'boss@example.com',
    ]);
  });

  it('lists an address once, whatever its case or display name', () => {
    expect(
      noticeRecipients('Alice@Example.com', [
        'ops@example.com',
        'alice@example.com',
        'Operations <OPS@example.com>',
        ' ops@example.com ',
      ]),
    ).toEqual(['Alice@Example.com', 'ops@example.com']);
  });

  it('is empty without initiator or admins', () => {
    expect(noticeRecipients(undefined, [])).toEqual([]);
    expect(noticeRecipients('  ', [])).toEqual([]);
  });

  it('keeps a display name for the message and compares the bare address', () => {
    expect(bareAddress('Operations <ops@example.com>')).toBe('ops@example.com');
    expect(bareAddress('ops@example.com')).toBe('ops@example.com');
  });
});
