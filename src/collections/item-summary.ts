/**
 * What the catalog shows and searches of a calendar or contact item, read leniently from its
 * iCalendar (RFC 5545) or vCard (RFC 6350, 2.1, 3.0) text: a broken item still gets what can be
 * read of it, and a note of what is wrong.
 */
export interface ItemSummary {
  /** VEVENT, VTODO, VJOURNAL, VCARD; null when none was found. */
  component: string | null;
  uid: string | null;
  /** SUMMARY of an event or task; FN (or N) of a contact. */
  title: string;
  location: string;
  /** DTSTART (or DUE) as written, e.g. 20260105T090000Z or 20260105. */
  start: string | null;
  /** Attendees and organizer of an event; e-mail addresses of a contact (lowercase, no mailto:). */
  people: string[];
  /** DESCRIPTION, NOTE, ORG and the like, for text search (capped). */
  text: string;
}

const TEXT_LIMIT = 4096;
const FIELD_LIMIT = 1024;

interface ContentLine {
  name: string;
  params: string;
  value: string;
}

/** Unfolds lines (CRLF, LF or CR, then a space or tab) and splits each into name, params, value. */
export function contentLines(text: string): ContentLine[] {
  const unfolded = text.replace(/\r\n|\r/g, '\n').replace(/\n[ \t]/g, '');
  const lines: ContentLine[] = [];
  for (const line of unfolded.split('\n')) {
    const colon = findValueColon(line);
    if (colon < 0) continue;
    const head = line.slice(0, colon);
    const semicolon = head.indexOf(';');
    const rawName = semicolon < 0 ? head : head.slice(0, semicolon);
    // vCard groups ("item1.EMAIL") name the property after the dot.
    const name = rawName.slice(rawName.lastIndexOf('.') + 1).toUpperCase();
    lines.push({
      name,
      params: semicolon < 0 ? '' : head.slice(semicolon + 1),
      value: line.slice(colon + 1),
    });
  }
  return lines;
}

/** The colon that ends the parameters: colons inside quoted parameter values do not count. */
function findValueColon(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) return i;
  }
  return -1;
}

function unescapeText(value: string): string {
  return value.replace(/\\([nN,;:\\])/g, (_, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

const cap = (value: string, limit = FIELD_LIMIT) =>
  value.length > limit ? value.slice(0, limit) : value;

function address(value: string): string {
  return value
    .replace(/^mailto:/i, '')
    .trim()
    .toLowerCase();
}

/** Summarizes an item and says what is wrong with it, if anything. */
export function summarizeItem(
  bytes: Buffer,
  kind: 'calendar' | 'addressbook',
): { summary: ItemSummary; broken?: string } {
  const text = bytes.toString('utf8');
  const lines = contentLines(text);
  const summary: ItemSummary = {
    component: null,
    uid: null,
    title: '',
    location: '',
    start: null,
    people: [],
    text: '',
  };
  const texts: string[] = [];
  const people = new Set<string>();
  const outer = kind === 'calendar' ? 'VCALENDAR' : 'VCARD';
  let begins = 0;
  let ends = 0;
  // Components open around the current line: properties count only directly inside the item's
  // main component (not in a VTIMEZONE's STANDARD block or a VALARM).
  const stack: string[] = [];
  for (const line of lines) {
    const value = line.value.trim();
    if (line.name === 'BEGIN') {
      const what = value.toUpperCase();
      if (what === outer) begins++;
      // The item's own component: the first one that is not a time zone (VEVENT, VTODO,
      // VJOURNAL, VFREEBUSY, VAVAILABILITY...).
      if (
        stack.length === 1 &&
        summary.component === null &&
        /^V/.test(what) &&
        what !== 'VTIMEZONE'
      )
        summary.component = what;
      if (kind === 'addressbook' && what === 'VCARD') summary.component = 'VCARD';
      stack.push(what);
      continue;
    }
    if (line.name === 'END') {
      if (value.toUpperCase() === outer) ends++;
      stack.pop();
      continue;
    }
    const main = stack.at(-1);
    if (kind === 'calendar' ? main !== summary.component || main === null : main !== 'VCARD')
      continue;
    switch (line.name) {
      case 'UID':
        summary.uid ??= cap(value);
        break;
      case 'SUMMARY':
        if (!summary.title) summary.title = cap(unescapeText(value));
        break;
      case 'FN':
        if (kind === 'addressbook') summary.title = cap(unescapeText(value));
        break;
      case 'N':
        if (kind === 'addressbook' && !summary.title)
          summary.title = cap(unescapeText(value).split(';').filter(Boolean).reverse().join(' '));
        break;
      case 'LOCATION':
        if (!summary.location) summary.location = cap(unescapeText(value));
        break;
      case 'DTSTART':
      case 'DUE':
        summary.start ??= cap(value, 64);
        break;
      case 'ATTENDEE':
      case 'ORGANIZER':
      case 'EMAIL':
        if (value) people.add(cap(address(value), 320));
        break;
      case 'DESCRIPTION':
      case 'NOTE':
      case 'ORG':
      case 'TITLE':
      case 'CATEGORIES':
        texts.push(unescapeText(value));
        break;
    }
  }
  summary.people = [...people];
  summary.text = cap(texts.join('\n'), TEXT_LIMIT);
  const broken = brokenness(text, kind, outer, begins, ends, summary);
  return broken ? { summary, broken } : { summary };
}

function brokenness(
  text: string,
  kind: 'calendar' | 'addressbook',
  outer: string,
  begins: number,
  ends: number,
  summary: ItemSummary,
): string | undefined {
  if (text.trim() === '') return 'empty';
  if (begins === 0) return `no BEGIN:${outer}`;
  if (ends < begins) return `no END:${outer}`;
  if (kind === 'calendar' && summary.component === null)
    return 'no component (VEVENT, VTODO, VJOURNAL...)';
  return undefined;
}
