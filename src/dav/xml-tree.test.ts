import { describe, expect, it } from 'vitest';
import { child, parseXml, protectCarriageReturns, XmlError } from './xml-tree.js';

describe('parseXml', () => {
  it('resolves prefixes, default namespaces and redeclarations to the same names', () => {
    const spellings = [
      '<D:multistatus xmlns:D="DAV:"><D:response/></D:multistatus>',
      '<d:multistatus xmlns:d="DAV:"><d:response/></d:multistatus>',
      '<multistatus xmlns="DAV:"><response/></multistatus>',
      '<x:multistatus xmlns:x="DAV:"><response xmlns="DAV:"/></x:multistatus>',
    ];
    for (const xml of spellings) {
      const root = parseXml(xml);
      expect(root.name).toBe('{DAV:}multistatus');
      expect(root.children.map((element) => element.name)).toEqual(['{DAV:}response']);
    }
  });

  it('scopes a prefix declared on an element to that element', () => {
    const root = parseXml(
      '<D:prop xmlns:D="DAV:"><C:a xmlns:C="urn:one"/><C:b xmlns:C="urn:two"/></D:prop>',
    );
    expect(root.children.map((element) => element.name)).toEqual(['{urn:one}a', '{urn:two}b']);
  });

  it('puts unprefixed attributes in no namespace and prefixed ones in theirs', () => {
    const root = parseXml('<C:comp xmlns:C="urn:c" xmlns:x="urn:x" name="VEVENT" x:extra="1"/>');
    expect(root.attributes.get('name')).toBe('VEVENT');
    expect(root.attributes.get('{urn:x}extra')).toBe('1');
    expect(root.attributes.has('xmlns:C')).toBe(false);
  });

  it('refuses an undeclared prefix and malformed documents', () => {
    expect(() => parseXml('<D:multistatus/>')).toThrow(XmlError);
    expect(() => parseXml('<a><b></a>')).toThrow(/not well-formed/);
    expect(() => parseXml('not xml')).toThrow(XmlError);
  });

  it('keeps text exactly: spaces, entities, character references, CDATA', () => {
    const root = parseXml(
      '<t xmlns="urn:t">  a &amp;lt; &#233;&#x1F600; <![CDATA[<b>&amp;]]> &quot;q&quot;  </t>',
    );
    expect(root.text).toBe('  a &lt; é😀 <b>&amp; "q"  ');
  });

  it('keeps the CR LF line ends of a body written raw into an element', () => {
    const body = 'BEGIN:VCALENDAR\r\nSUMMARY:a\r\n b\r\nEND:VCALENDAR\r\n';
    const xml = `<?xml version="1.0"?>\r\n<C:calendar-data xmlns:C="urn:c">${body}</C:calendar-data>\r\n`;
    expect(parseXml(xml).text).toBe(body);
    const cdata = `<C:calendar-data xmlns:C="urn:c"><![CDATA[${body}]]></C:calendar-data>`;
    expect(parseXml(cdata).text).toBe(body);
  });

  it('finds children by Clark name', () => {
    const root = parseXml('<a xmlns="urn:a"><b>1</b><c xmlns="urn:c">2</c></a>');
    expect(child(root, '{urn:c}c')?.text).toBe('2');
    expect(child(root, '{urn:a}c')).toBeUndefined();
  });
});

describe('protectCarriageReturns', () => {
  it('leaves markup alone: attributes, comments, the prolog', () => {
    const xml = '<?xml version="1.0"?>\r\n<a\r\n b="1">x\ry<!-- c\r\n --><e/>\r\n</a>\r\n';
    expect(protectCarriageReturns(xml)).toBe(
      '<?xml version="1.0"?>\r\n<a\r\n b="1">x&#13;y<!-- c\r\n --><e/>&#13;\n</a>\r\n',
    );
  });

  it('turns a CDATA section into escaped text', () => {
    expect(protectCarriageReturns('<a><![CDATA[<&>\r\n]]></a>')).toBe(
      '<a>&lt;&amp;&gt;&#13;\n</a>',
    );
  });
});
