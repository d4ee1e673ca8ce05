import { describe, expect, it } from 'vitest';
import { itemUid } from './item-uid.js';

describe('itemUid', () => {
  it('reads the UID of the event, not of its alarm, unfolded', () => {
    const text = [
      'BEGIN:VCALENDAR',
      'BEGIN:VEVENT',
      'BEGIN:VALARM',
      'UID:alarm-1',
      'END:VALARM',
      'UID:event-',
      ' 42@example.com',
      'END:VEVENT',
      'END:VCALENDAR',
      '',
    ].join('\r\n');
    expect(itemUid(Buffer.from(text))).toBe('event-42@example.com');
  });

  it('reads a vCard UID with a group or parameters, and gives null without one', () => {
    expect(itemUid('BEGIN:VCARD\nVERSION:4.0\nitem1.UID;VALUE=text:urn:uuid:1\nEND:VCARD\n')).toBe(
      'urn:uuid:1',
    );
    expect(itemUid('BEGIN:VCARD\rFN:x\rUID:cr-only\rEND:VCARD\r')).toBe('cr-only');
    expect(itemUid('BEGIN:VCARD\nFN:No Uid\nEND:VCARD\n')).toBeNull();
  });
});
