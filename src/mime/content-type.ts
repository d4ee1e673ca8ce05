// What the splitter needs to know about one entity: its media type, its multipart boundary and
// its transfer encoding. Parsing is lenient, because real mail often breaks the grammar.
import { headerField } from './header-block.js';

export interface ContentInfo {
  /** Lowercase `type/subtype`, or the default type when the field is absent or unusable. */
  type: string;
  /** The boundary as a latin1 string (one char per byte), or null. */
  boundary: string | null;
  /** Lowercase transfer encoding token, '' when absent. */
  encoding: string;
}

function unfold(value: string): string {
  return value.replace(/\r\n?|\n/g, '');
}

/** Parameters of a structured field value (after the first ';'), first occurrence wins. */
export function parseParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const n = value.length;
  let i = value.indexOf(';');
  if (i < 0) return params;
  while (i < n) {
    while (i < n && (value[i] === ';' || value[i] === ' ' || value[i] === '\t')) i++;
    const eq = value.indexOf('=', i);
    const semi = value.indexOf(';', i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      if (semi < 0) break;
      i = semi;
      continue;
    }
    const name = value.slice(i, eq).trim().toLowerCase();
    i = eq + 1;
    while (i < n && (value[i] === ' ' || value[i] === '\t')) i++;
    let paramValue: string;
    if (value[i] === '"') {
      let out = '';
      let j = i + 1;
      for (; j < n && value[j] !== '"'; j++) {
        if (value[j] === '\\' && j + 1 < n) j++;
        out += value[j];
      }
      paramValue = out;
      const next = value.indexOf(';', j);
      i = next < 0 ? n : next;
    } else {
      const next = value.indexOf(';', i);
      const to = next < 0 ? n : next;
      paramValue = value.slice(i, to).trim();
      i = to;
    }
    if (name && !params.has(name)) params.set(name, paramValue);
  }
  return params;
}

function percentDecode(value: string): string {
  // Chars stay one per byte (latin1), like the rest of the header text.
  return value.replace(/%([0-9a-fA-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}

/** A parameter value, including RFC 2231 extended (`name*`) and continued (`name*0`) forms. */
export function getParam(params: Map<string, string>, name: string): string | null {
  const plain = params.get(name);
  if (plain !== undefined) return plain;
  const extended = params.get(`${name}*`);
  if (extended !== undefined) return percentDecode(extended.replace(/^[^']*'[^']*'/, ''));
  let joined = '';
  for (let k = 0; k < 1000; k++) {
    const piece = params.get(`${name}*${k}`);
    const starred = params.get(`${name}*${k}*`);
    if (piece !== undefined) joined += piece;
    else if (starred !== undefined)
      joined += percentDecode(k === 0 ? starred.replace(/^[^']*'[^']*'/, '') : starred);
    else return k === 0 ? null : joined;
  }
  return joined;
}

export function parseContentInfo(headerText: string, defaultType: string): ContentInfo {
  const ctRaw = headerField(headerText, 'content-type');
  const cteRaw = headerField(headerText, 'content-transfer-encoding');
  let type = defaultType;
  let boundary: string | null = null;
  if (ctRaw !== null) {
    const value = unfold(ctRaw);
    const semi = value.indexOf(';');
    const declared = (semi < 0 ? value : value.slice(0, semi))
      .replace(/\([^)]*\)/g, '')
      .replace(/\s+/g, '')
      .toLowerCase();
    if (declared.includes('/')) type = declared;
    if (type.startsWith('multipart/')) boundary = getParam(parseParams(value), 'boundary') || null;
  }
  const encoding =
    cteRaw === null
      ? ''
      : (unfold(cteRaw)
          .trim()
          .toLowerCase()
          .match(/^[^\s;(]*/)?.[0] ?? '');
  return { type, boundary, encoding };
}
