/**
 * One .ics file for a whole calendar: the components of every item's VCALENDAR under one
 * VCALENDAR, each time zone once (by TZID). Items are not re-serialized: their component lines
 * are copied as they are, so nothing a client wrote is lost.
 */
export function mergeCalendars(items: readonly string[], name: string): string {
  const timezones = new Map<string, string[]>();
  const components: string[][] = [];
  for (const text of items) {
    for (const block of topLevelComponents(text)) {
      if (block.kind === 'VTIMEZONE') {
        const tzid = block.lines.find((line) => /^TZID[:;]/i.test(line)) ?? '';
        if (!timezones.has(tzid)) timezones.set(tzid, block.lines);
      } else components.push(block.lines);
    }
  }
  const lines = [
    'BEGIN:VCALENDAR',
    'VERSION:2.0',
    'PRODID:-//mailvault//export//EN',
    `X-WR-CALNAME:${escapeText(name)}`,
    ...[...timezones.values()].flat(),
    ...components.flat(),
    'END:VCALENDAR',
  ];
  return lines.join('\r\n') + '\r\n';
}

/** The components directly inside an item's VCALENDAR, each with its (still folded) lines. */
function topLevelComponents(text: string): Array<{ kind: string; lines: string[] }> {
  const blocks: Array<{ kind: string; lines: string[] }> = [];
  let depth = 0;
  let current: { kind: string; lines: string[] } | null = null;
  for (const line of text.split(/\r\n|\n|\r/)) {
    if (line === '') continue;
    const begin = /^BEGIN:(.+)$/i.exec(line);
    const end = /^END:(.+)$/i.exec(line);
    if (begin) {
      depth++;
      if (depth === 2) current = { kind: (begin[1] ?? '').trim().toUpperCase(), lines: [] };
    }
    if (depth >= 2 && current) current.lines.push(line);
    if (end) {
      if (depth === 2 && current) {
        blocks.push(current);
        current = null;
      }
      depth--;
    }
  }
  return blocks;
}

function escapeText(value: string): string {
  return value.replace(/[\\;,]/g, (c) => `\\${c}`).replace(/\n/g, '\\n');
}
