// Request bodies, written as strings. Elements are named in Clark notation; the writer picks
// the prefixes and declares every namespace once, on the root.
import { PREFERRED_PREFIXES } from './namespaces.js';
import { escapeXmlAttribute, escapeXmlText } from './xml-tree.js';

export interface XmlNode {
  /** Clark name: "{namespace}local". */
  name: string;
  /** By Clark name, or by plain name for an attribute in no namespace. */
  attributes?: Readonly<Record<string, string>>;
  children?: readonly XmlNode[];
  text?: string;
}

/** An element with children, or with text when `content` is a string. */
export function el(
  name: string,
  content: readonly XmlNode[] | string = [],
  attributes?: Record<string, string>,
): XmlNode {
  return typeof content === 'string'
    ? { name, text: content, attributes }
    : { name, children: content, attributes };
}

export function splitClark(name: string): { namespace: string; local: string } {
  if (!name.startsWith('{')) return { namespace: '', local: name };
  const close = name.indexOf('}');
  if (close === -1) throw new Error(`malformed Clark name ${name}`);
  return { namespace: name.slice(1, close), local: name.slice(close + 1) };
}

export function serializeXml(root: XmlNode): string {
  const prefixes = new Map<string, string>();
  collectNamespaces(root, prefixes);
  const declarations = [...prefixes]
    .map(([namespace, prefix]) => ` xmlns:${prefix}="${escapeXmlAttribute(namespace)}"`)
    .join('');
  return `<?xml version="1.0" encoding="utf-8"?>\n${write(root, prefixes, declarations)}`;
}

function collectNamespaces(node: XmlNode, prefixes: Map<string, string>): void {
  const names = [node.name, ...Object.keys(node.attributes ?? {})];
  for (const name of names) {
    const { namespace } = splitClark(name);
    if (namespace === '' || prefixes.has(namespace)) continue;
    const taken = new Set(prefixes.values());
    let prefix = PREFERRED_PREFIXES.get(namespace);
    if (prefix === undefined || taken.has(prefix)) {
      let n = 0;
      while (taken.has(`ns${n}`)) n++;
      prefix = `ns${n}`;
    }
    prefixes.set(namespace, prefix);
  }
  for (const child of node.children ?? []) collectNamespaces(child, prefixes);
}

function qualified(name: string, prefixes: ReadonlyMap<string, string>): string {
  const { namespace, local } = splitClark(name);
  if (namespace === '') return local;
  return `${prefixes.get(namespace) ?? ''}:${local}`;
}

function write(node: XmlNode, prefixes: ReadonlyMap<string, string>, extra = ''): string {
  const tag = qualified(node.name, prefixes);
  let attributes = extra;
  for (const [name, value] of Object.entries(node.attributes ?? {})) {
    attributes += ` ${qualified(name, prefixes)}="${escapeXmlAttribute(value)}"`;
  }
  const inner =
    node.text !== undefined
      ? escapeXmlText(node.text)
      : (node.children ?? []).map((child) => write(child, prefixes)).join('');
  return inner === '' ? `<${tag}${attributes}/>` : `<${tag}${attributes}>${inner}</${tag}>`;
}
