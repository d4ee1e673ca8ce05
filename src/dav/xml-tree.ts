// XML responses as a small tree of namespace-resolved elements. Servers choose their own
// prefixes ("D:", "d:", none at all, a default namespace on the root), so elements are matched
// by namespace and local name (Clark notation), never by the prefix they arrived with.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { clark } from './namespaces.js';

export interface XmlElement {
  namespace: string;
  local: string;
  /** Clark name: "{namespace}local". */
  name: string;
  /** Attributes by Clark name when prefixed, by plain name otherwise; xmlns declarations left out. */
  attributes: ReadonlyMap<string, string>;
  children: XmlElement[];
  /** The element's own text, its text and CDATA children joined, carriage returns kept. */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XmlError';
  }
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: false,
  // Item bodies (calendar-data, address-data) are text whose every byte counts.
  trimValues: false,
  parseTagValue: false,
  parseAttributeValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Decodes character references (&#13;) as well as the five XML entities.
  htmlEntities: true,
});

type OrderedNode = Record<string, unknown>;

const XML_NAMESPACE = 'http://www.w3.org/XML/1998/namespace';

/** Parses a whole document and returns its root element. */
export function parseXml(text: string): XmlElement {
  const protectedText = protectCarriageReturns(text);
  // fast-xml-parser accepts malformed input silently; a DAV answer that is not XML must fail.
  const valid = XMLValidator.validate(protectedText);
  if (valid !== true) {
    throw new XmlError(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  }
  const nodes = parser.parse(protectedText) as OrderedNode[];
  const root = nodes.find((node) => elementName(node) !== null);
  if (!root) throw new XmlError('no root element');
  return toElement(root, new Map([['xml', XML_NAMESPACE]]));
}

function elementName(node: OrderedNode): string | null {
  for (const key of Object.keys(node)) {
    if (key !== ':@' && key !== '#text') return key;
  }
  return null;
}

function toElement(node: OrderedNode, scope: ReadonlyMap<string, string>): XmlElement {
  const qname = elementName(node);
  if (qname === null) throw new XmlError('expected an element');
  const rawAttributes = (node[':@'] ?? {}) as Record<string, string>;
  let inner: Map<string, string> | null = null;
  for (const [key, value] of Object.entries(rawAttributes)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) {
      inner ??= new Map(scope);
      inner.set(key === 'xmlns' ? '' : key.slice(6), value);
    }
  }
  const names = inner ?? scope;
  const { namespace, local } = resolve(qname, names, true);
  const attributes = new Map<string, string>();
  for (const [key, value] of Object.entries(rawAttributes)) {
    if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
    // Unprefixed attributes are in no namespace (Namespaces in XML, section 6.2).
    if (!key.includes(':')) attributes.set(key, value);
    else {
      const resolved = resolve(key, names, false);
      attributes.set(clark(resolved.namespace, resolved.local), value);
    }
  }
  const children: XmlElement[] = [];
  let text = '';
  for (const child of (node[qname] ?? []) as OrderedNode[]) {
    if ('#text' in child) text += String(child['#text']);
    else if (elementName(child) !== null) children.push(toElement(child, names));
  }
  return { namespace, local, name: clark(namespace, local), attributes, children, text };
}

function resolve(
  qname: string,
  scope: ReadonlyMap<string, string>,
  isElement: boolean,
): { namespace: string; local: string } {
  const colon = qname.indexOf(':');
  if (colon === -1) return { namespace: isElement ? (scope.get('') ?? '') : '', local: qname };
  const prefix = qname.slice(0, colon);
  const namespace = scope.get(prefix);
  if (namespace === undefined) throw new XmlError(`undeclared namespace prefix "${prefix}"`);
  return { namespace, local: qname.slice(colon + 1) };
}

/**
 * An XML parser turns every CR LF into LF (XML 1.0, section 2.11), but a server that writes an
 * iCalendar body's CR LF line ends into calendar-data means those bytes: Radicale's multiget
 * answers are exactly its GET bodies that way. So carriage returns inside elements become
 * character references before parsing, and CDATA sections become escaped text for the same
 * reason; the markup itself is left alone.
 */
export function protectCarriageReturns(xml: string): string {
  if (!xml.includes('\r')) return xml;
  let out = '';
  let depth = 0;
  let at = 0;
  while (at < xml.length) {
    const open = xml.indexOf('<', at);
    const textEnd = open === -1 ? xml.length : open;
    const text = xml.slice(at, textEnd);
    out += depth > 0 ? text.replaceAll('\r', '&#13;') : text;
    if (open === -1) break;
    if (xml.startsWith('<![CDATA[', open)) {
      const close = xml.indexOf(']]>', open);
      if (close === -1) throw new XmlError('unterminated CDATA section');
      out += escapeXmlText(xml.slice(open + 9, close));
      at = close + 3;
    } else if (xml.startsWith('<!--', open)) {
      at = copyThrough(xml, open, '-->');
      out += xml.slice(open, at);
    } else if (xml.startsWith('<?', open)) {
      at = copyThrough(xml, open, '?>');
      out += xml.slice(open, at);
    } else {
      const close = tagEnd(xml, open);
      const tag = xml.slice(open, close + 1);
      out += tag;
      if (tag.startsWith('</')) depth--;
      else if (!tag.startsWith('<!') && !tag.endsWith('/>')) depth++;
      at = close + 1;
    }
  }
  return out;
}

function copyThrough(xml: string, from: number, terminator: string): number {
  const close = xml.indexOf(terminator, from);
  if (close === -1) throw new XmlError(`unterminated markup: no "${terminator}"`);
  return close + terminator.length;
}

/** Index of the '>' that ends the tag opened at `open`, skipping quoted attribute values and a DOCTYPE's internal subset. */
function tagEnd(xml: string, open: number): number {
  let quote: string | null = null;
  let brackets = 0;
  for (let i = open + 1; i < xml.length; i++) {
    const c = xml[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') brackets++;
    else if (c === ']') brackets--;
    else if (c === '>' && brackets <= 0) return i;
  }
  throw new XmlError('unterminated tag');
}

/** Text content escaped for XML; CR as a character reference so that it survives parsing. */
export function escapeXmlText(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('\r', '&#13;');
}

export function escapeXmlAttribute(text: string): string {
  return escapeXmlText(text)
    .replaceAll('"', '&quot;')
    .replaceAll('\n', '&#10;')
    .replaceAll('\t', '&#9;');
}

/** The first child element with this Clark name. */
export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((candidate) => candidate.name === name);
}

export function childrenNamed(element: XmlElement | undefined, name: string): XmlElement[] {
  return element?.children.filter((candidate) => candidate.name === name) ?? [];
}
