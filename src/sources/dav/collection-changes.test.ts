import { describe, expect, it } from 'vitest';
import { compare, refusalOf } from './collection-changes.js';

const previous = new Map([
  ['/c/a.ics', '"1"'],
  ['/c/b.ics', '"1"'],
  ['/c/c.ics', '"1"'],
]);

describe('compare', () => {
  it('takes a complete listing: changed ETags, new items, and whatever is missing is removed', () => {
    const listing = new Map([
      ['/c/a.ics', '"1"'],
      ['/c/b.ics', '"2"'],
      ['/c/d.ics', '"1"'],
    ]);
    expect(compare(previous, listing, new Set(), true)).toEqual({
      changed: [
        { href: '/c/b.ics', etag: '"2"' },
        { href: '/c/d.ics', etag: '"1"' },
      ],
      removed: ['/c/c.ics'],
    });
  });

  it('takes sync-collection changes: only reported removals of known items, unchanged ETags skipped', () => {
    const reported = new Map([
      ['/c/a.ics', '"1"'],
      ['/c/b.ics', '"3"'],
    ]);
    expect(compare(previous, reported, new Set(['/c/c.ics', '/c/never-seen.ics']), false)).toEqual({
      changed: [{ href: '/c/b.ics', etag: '"3"' }],
      removed: ['/c/c.ics'],
    });
  });

  it('counts everything as changed without a previous state, and an item without ETag always', () => {
    const listing = new Map([
      ['/c/a.ics', '"1"'],
      ['/c/x.ics', ''],
    ]);
    expect(compare(new Map(), listing, new Set(), true).changed).toHaveLength(2);
    expect(compare(new Map([['/c/x.ics', '']]), listing, new Set(), true).changed).toEqual([
      { href: '/c/a.ics', etag: '"1"' },
      { href: '/c/x.ics', etag: '' },
    ]);
  });
});

describe('refusalOf', () => {
  it('recognises a refused token, whatever the status, and servers without the report', () => {
    const body = '<D:error xmlns:D="DAV:"><D:valid-sync-token/></D:error>';
    expect(refusalOf(403, body)).toMatch(/refused the stored sync token \(403 valid-sync-token\)/);
    expect(refusalOf(409, body)).toMatch(/409 valid-sync-token/);
    expect(refusalOf(501, 'Not Implemented')).toMatch(/does not offer sync-collection/);
    expect(refusalOf(500, 'oops')).toBeNull();
  });
});
