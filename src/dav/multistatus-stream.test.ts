import { describe, expect, it } from 'vitest';
import { parseMultistatus, propText } from './multistatus.js';
import { MultistatusSplitter, streamMultistatus } from './multistatus-stream.js';

const CALENDAR_DATA = '{urn:ietf:params:xml:ns:caldav}calendar-data';

/** Markup that a careless splitter would take for the end of a response, and CR LF bodies. */
const TRICKY = `<?xml version="1.0" encoding="utf-8"?>
<!-- a comment with </D:response> in it -->
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:response>
    <D:href>/alice/cal/a.ics</D:href>
    <D:propstat>
      <D:prop><C:calendar-data><![CDATA[BEGIN:VCALENDAR\r\nSUMMARY:</D:response> > <\r\nEND:VCALENDAR\r\n]]></C:calendar-data></D:prop>
      <D:status>HTTP/1.1 200 OK</D:status>
    </D:propstat>
  </D:response>
  <D:responsedescription/>
  <D:response><D:href>/alice/cal/b.ics</D:href><D:status>HTTP/1.1 404 Not Found</D:status></D:response>
  <D:response x:note="a > b" xmlns:x="urn:x">
    <D:href>/alice/cal/c%C3%A9.ics</D:href>
    <D:propstat><D:prop><C:calendar-data>BEGIN:VCALENDAR&#13;
UID:c&amp;é&#13;
END:VCALENDAR&#13;
</C:calendar-data></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat>
  </D:response>
  <D:sync-token>t1</D:sync-token>
</D:multistatus>
`;

function splitEvery(text: string, size: number) {
  const splitter = new MultistatusSplitter();
  const responses = [];
  for (let at = 0; at < text.length; at += size) {
    responses.push(...splitter.push(text.slice(at, at + size)));
  }
  splitter.end();
  return responses;
}

describe('MultistatusSplitter', () => {
  it('gives the responses a whole-document parse gives, however the text is cut', () => {
    const whole = parseMultistatus(TRICKY).responses;
    expect(whole.map((response) => response.href)).toEqual([
      '/alice/cal/a.ics',
      '/alice/cal/b.ics',
      '/alice/cal/c%C3%A9.ics',
    ]);
    for (const size of [1, 2, 3, 7, 64, TRICKY.length]) {
      expect(splitEvery(TRICKY, size), `pieces of ${size}`).toEqual(whole);
    }
    const [first, , third] = splitEvery(TRICKY, 5);
    expect(first && propText(first, CALENDAR_DATA)).toBe(
      'BEGIN:VCALENDAR\r\nSUMMARY:</D:response> > <\r\nEND:VCALENDAR',
    );
    expect(third && propText(third, CALENDAR_DATA)).toBe(
      'BEGIN:VCALENDAR\r\nUID:c&é\r\nEND:VCALENDAR',
    );
  });

  it('reads a default namespace and an empty answer', () => {
    const splitter = new MultistatusSplitter();
    expect(
      splitter.push(
        '<multistatus xmlns="DAV:"><response><href>/x</href><status>HTTP/1.1 200 OK</status></response></multistatus>',
      ),
    ).toEqual([{ href: '/x', status: 200, propstats: [], errors: [], description: null }]);
    expect(splitEvery('<D:multistatus xmlns:D="DAV:"/>', 4)).toEqual([]);
  });

  it('holds only the response being read', () => {
    const splitter = new MultistatusSplitter();
    const item = (n: number) =>
      `<D:response><D:href>/c/${n}.ics</D:href><D:propstat><D:prop><D:getetag>"${'e'.repeat(1000)}"</D:getetag></D:prop><D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>`;
    let count = splitter.push('<D:multistatus xmlns:D="DAV:">').length;
    let most = 0;
    for (let n = 0; n < 1000; n++) {
      const text = item(n);
      count += splitter.push(text.slice(0, 500)).length;
      most = Math.max(most, splitter.held);
      count += splitter.push(text.slice(500)).length;
      most = Math.max(most, splitter.held);
    }
    count += splitter.push('</D:multistatus>').length;
    splitter.end();
    expect(count).toBe(1000);
    expect(most).toBeLessThan(item(0).length);
  });

  it('says when the answer stops before its end', () => {
    expect(() => splitEvery('<D:multistatus xmlns:D="DAV:"><D:response><D:href>/x', 8)).toThrow(
      /ended before its root element closed/,
    );
  });
});

describe('streamMultistatus', () => {
  it('decodes characters split between chunks', async () => {
    const bytes = Buffer.from(TRICKY, 'utf8');
    async function* oneByteAtATime() {
      for (const byte of bytes) yield Uint8Array.of(byte);
    }
    const hrefs = [];
    for await (const response of streamMultistatus(oneByteAtATime())) hrefs.push(response);
    expect(hrefs).toEqual(parseMultistatus(TRICKY).responses);
  });
});
