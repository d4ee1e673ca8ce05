import { describe, expect, it } from 'vitest';
import { contentLines, summarizeItem } from './item-summary.js';

const event = [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Paris',
  'BEGIN:STANDARD',
  'DTSTART:19701025T030000',
  'END:STANDARD',
  'END:VTIMEZONE',
  'BEGIN:VEVENT',
  'UID:abc-123',
  'SUMMARY:Budget review\\, Q3',
  'LOCATION:Room 4',
  'DTSTART;TZID=Europe/Paris:20261105T100000',
  'ORGANIZER;CN="Boss: the big one":mailto:Boss@example.com',
  'ATTENDEE;CN=Ann:mailto:ann@example.com',
  'DESCRIPTION:Bring the lo',
  ' ng numbers',
  'BEGIN:VALARM',
  'DESCRIPTION:Alarm text',
  'END:VALARM',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

describe('calendar and contact summaries', () => {
  it('reads the event, not its time zone or alarm', () => {
    const { summary, broken } = summarizeItem(Buffer.from(event), 'calendar');
    expect(broken).toBeUndefined();
    expect(summary).toMatchObject({
      component: 'VEVENT',
      uid: 'abc-123',
      title: 'Budget review, Q3',
      location: 'Room 4',
      start: '20261105T100000',
      people: ['boss@example.com', 'ann@example.com'],
    });
    expect(summary.text).toBe('Bring the long numbers');
  });

  it('reads a vCard 3.0 contact with grouped e-mails', () => {
    const card =
      'BEGIN:VCARD\nVERSION:3.0\nN:Doe;Jane;;;\nFN:Jane Doe\nitem1.EMAIL;TYPE=work:Jane@Example.org\nEMAIL:jd@home.example\nORG:Acme\nEND:VCARD\n';
    const { summary, broken } = summarizeItem(Buffer.from(card), 'addressbook');
    expect(broken).toBeUndefined();
    expect(summary.component).toBe('VCARD');
    expect(summary.title).toBe('Jane Doe');
    expect(summary.people).toEqual(['jane@example.org', 'jd@home.example']);
    expect(summary.text).toBe('Acme');
  });

  it('falls back to N when a contact has no FN', () => {
    const { summary } = summarizeItem(
      Buffer.from('BEGIN:VCARD\r\nN:Doe;John\r\nEND:VCARD\r\n'),
      'addressbook',
    );
    expect(summary.title).toBe('John Doe');
  });

  it('names what is wrong with broken items and still reads what it can', () => {
    const noEnd = summarizeItem(Buffer.from('BEGIN:VCARD\nFN:Half\n'), 'addressbook');
    expect(noEnd.broken).toBe('no END:VCARD');
    expect(noEnd.summary.title).toBe('Half');
    expect(
      summarizeItem(Buffer.from('BEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\n'), 'calendar').broken,
    ).toBe('no BEGIN:VCALENDAR');
    expect(summarizeItem(Buffer.from('BEGIN:VCALENDAR\nEND:VCALENDAR\n'), 'calendar').broken).toBe(
      'no component (VEVENT, VTODO, VJOURNAL...)',
    );
    expect(summarizeItem(Buffer.alloc(0), 'calendar').broken).toBe('empty');
  });

  it('keeps colons inside quoted parameters out of the value', () => {
    const [line] = contentLines('ATTENDEE;CN="a:b":mailto:x@y');
    expect(line).toEqual({ name: 'ATTENDEE', params: 'CN="a:b"', value: 'mailto:x@y' });
  });
});
