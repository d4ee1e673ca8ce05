import { describe, expect, it } from 'vitest';
import { el, serializeXml } from './xml-writer.js';
import { parseXml } from './xml-tree.js';

describe('serializeXml', () => {
  it('declares each namespace once on the root with the usual prefixes', () => {
    const xml = serializeXml(
      el('{DAV:}propfind', [
        el('{DAV:}prop', [el('{DAV:}getetag'), el('{urn:ietf:params:xml:ns:caldav}calendar-data')]),
      ]),
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n' +
        '<D:propfind xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">' +
        '<D:prop><D:getetag/><C:calendar-data/></D:prop></D:propfind>',
    );
  });

  it('invents prefixes for unknown namespaces', () => {
    const xml = serializeXml(
      el('{urn:a}x', [el('{urn:b}y', [], { '{urn:a}attr': 'v', plain: 'w' })]),
    );
    expect(xml).toContain(
      '<ns0:x xmlns:ns0="urn:a" xmlns:ns1="urn:b"><ns1:y ns0:attr="v" plain="w"/></ns0:x>',
    );
  });

  it('escapes text and attributes so that they read back exactly, CR LF included', () => {
    const text = 'BEGIN:VCALENDAR\r\nX:<a & b> "q" \'s\'\r\nEND:VCALENDAR\r\n';
    const attribute = 'a"b<c>&\td\ne';
    const xml = serializeXml(el('{DAV:}x', text, { name: attribute }));
    const root = parseXml(xml);
    expect(root.text).toBe(text);
    expect(root.attributes.get('name')).toBe(attribute);
  });
});
