// The UID of a calendar object or vCard, read from its text without a full parser: a restore
// only needs to know whether the target already holds an item with the same UID.

/** Calendar components whose UID identifies the item (a VALARM's own UID does not). */
export const CALENDAR_ITEM_COMPONENTS: readonly string[] = [
  'VEVENT',
  'VTODO',
  'VJOURNAL',
  'VFREEBUSY',
];

const ITEM_COMPONENTS = new Set([...CALENDAR_ITEM_COMPONENTS, 'VCARD']);

/** The item's UID, or null when it has none. */
export function itemUid(bytes: Buffer | string): string | null {
  const text = typeof bytes === 'string' ? bytes : bytes.toString('utf8');
  // Unfold (RFC 5545 3.1, RFC 6350 3.2): a line break followed by a space or tab continues the line.
  const lines = text.replace(/\r?\n[ \t]/g, '').split(/\r?\n|\r/);
  const open: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    // The name may carry a group ("item1.UID") in vCards and parameters after ";".
    const name =
      line
        .slice(0, colon)
        .split(';')[0]
        ?.replace(/^[^.]*\./, '')
        .toUpperCase() ?? '';
    const value = line.slice(colon + 1);
    if (name === 'BEGIN') open.push(value.trim().toUpperCase());
    else if (name === 'END') open.pop();
    else if (name === 'UID' && ITEM_COMPONENTS.has(open.at(-1) ?? '')) {
      const uid = value.trim();
      if (uid !== '') return uid;
    }
  }
  return null;
}
