// The 207 Multi-Status body (RFC 4918, section 13) that PROPFIND and REPORT answer with: one
// response per resource, each with either a status of its own (a sync-collection 404 for a
// removed member) or properties grouped by status (propstat).
import { clark, NS } from './namespaces.js';
import { child, childrenNamed, parseXml, XmlError, type XmlElement } from './xml-tree.js';

const D = (local: string): string => clark(NS.dav, local);

export interface PropStat {
  status: number;
  /** By Clark name. */
  props: ReadonlyMap<string, XmlElement>;
}

export interface MultistatusResponse {
  /** As the server wrote it, surrounding whitespace removed. */
  href: string;
  /** The response's own status, when it has one instead of propstats. */
  status: number | null;
  propstats: PropStat[];
  /** DAV:error preconditions, by Clark name. */
  errors: string[];
  /** The server's words for a status-only response (DAV:responsedescription), if any. */
  description: string | null;
}

export interface Multistatus {
  responses: MultistatusResponse[];
  /** RFC 6578: the token of the state the sync-collection report describes. */
  syncToken: string | null;
}

/** "HTTP/1.1 404 Not Found" → 404; 0 when unreadable. */
export function parseStatusLine(line: string): number {
  const match = /^\s*HTTP\/\d+(?:\.\d+)?\s+(\d{3})/i.exec(line);
  return match ? Number(match[1]) : 0;
}

export function parseMultistatus(body: string): Multistatus {
  const root = parseXml(body);
  if (root.name !== D('multistatus')) {
    throw new XmlError(`expected a DAV:multistatus, got ${root.name}`);
  }
  const responses: MultistatusResponse[] = [];
  for (const response of childrenNamed(root, D('response'))) {
    const statusElement = child(response, D('status'));
    const status = statusElement ? parseStatusLine(statusElement.text) : null;
    const propstats = childrenNamed(response, D('propstat')).map(readPropstat);
    const errors = preconditionsOf(child(response, D('error')));
    const description = child(response, D('responsedescription'))?.text.trim() || null;
    // A status-only response may name several resources (RFC 4918: href, (href*, status)).
    for (const href of childrenNamed(response, D('href'))) {
      responses.push({ href: href.text.trim(), status, propstats, errors, description });
    }
  }
  const token = child(root, D('sync-token'));
  return { responses, syncToken: token ? token.text.trim() : null };
}

function readPropstat(propstat: XmlElement): PropStat {
  const statusElement = child(propstat, D('status'));
  const props = new Map<string, XmlElement>();
  for (const prop of child(propstat, D('prop'))?.children ?? []) props.set(prop.name, prop);
  return { status: statusElement ? parseStatusLine(statusElement.text) : 0, props };
}

/**
 * The status the server gave each property it names, by Clark name, from a body that lists
 * them in propstat elements: a PROPPATCH's multistatus, and a MKCALENDAR or extended MKCOL
 * answer (RFC 4791 5.3.1.2, RFC 5689 5.2), whose root element servers spell differently (one
 * even in a misspelt namespace), so any root is read. Empty when the body holds none.
 */
export function propertyStatuses(body: string): Map<string, number> {
  const statuses = new Map<string, number>();
  if (!body.trimStart().startsWith('<')) return statuses;
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch {
    return statuses;
  }
  const propstats = [
    ...childrenNamed(root, D('propstat')),
    ...childrenNamed(root, D('response')).flatMap((response) =>
      childrenNamed(response, D('propstat')),
    ),
  ];
  for (const propstat of propstats) {
    const { status, props } = readPropstat(propstat);
    for (const name of props.keys()) statuses.set(name, status);
  }
  return statuses;
}

/** The preconditions named in a DAV:error element (RFC 4918, section 16). */
export function preconditionsOf(error: XmlElement | undefined): string[] {
  return error?.children.map((condition) => condition.name) ?? [];
}

/** The preconditions of an error response body, if it is a DAV:error document. */
export function parseErrorBody(body: string): string[] {
  if (!body.trimStart().startsWith('<')) return [];
  try {
    const root = parseXml(body);
    return root.name === D('error') ? preconditionsOf(root) : [];
  } catch {
    return [];
  }
}

/** A property the server returned with a 2xx status, or undefined. */
export function foundProp(response: MultistatusResponse, name: string): XmlElement | undefined {
  for (const propstat of response.propstats) {
    if (propstat.status >= 200 && propstat.status < 300) {
      const prop = propstat.props.get(name);
      if (prop) return prop;
    }
  }
  return undefined;
}

/** The trimmed text of a found property, or null when absent or empty. */
export function propText(response: MultistatusResponse, name: string): string | null {
  const text = foundProp(response, name)?.text.trim();
  return text ? text : null;
}

/** The texts of the DAV:href children of a found property (home sets, principals). */
export function propHrefs(response: MultistatusResponse, name: string): string[] {
  return childrenNamed(foundProp(response, name), D('href'))
    .map((href) => href.text.trim())
    .filter((href) => href !== '');
}
