import { describe, expect, it } from 'vitest';
import { canonicalHref, collectionPath, isInside, lastSegment, memberHref } from './href.js';

describe('hrefs', () => {
  const base = new URL('http://dav.example/alice/');

  it('spells one resource one way, whether written as a path, a URL, encoded or not', () => {
    const spellings = [
      '/alice%40example.com/my%20cal/',
      '/alice@example.com/my cal/',
      'http://dav.example/alice%40example.com/my%20cal/',
      '../alice@example.com/my%20cal/',
    ];
    const canonical = spellings.map((href) => canonicalHref(href, base));
    expect(new Set(canonical).size).toBe(1);
    expect(canonical[0]).toBe('/alice%40example.com/my%20cal/');
  });

  it('keeps an encoded slash inside a name, and reads a malformed escape as a literal %', () => {
    expect(canonicalHref('/a/b%2Fc.ics', base)).toBe('/a/b%2Fc.ics');
    expect(canonicalHref('/a/100%zz.ics', base)).toBe('/a/100%25zz.ics');
    expect(canonicalHref('/a/100%25zz.ics', base)).toBe('/a/100%25zz.ics');
  });

  it('builds member hrefs and reads names back', () => {
    const href = memberHref('/alice/cal/', 'a b/c.ics');
    expect(href).toBe('/alice/cal/a%20b%2Fc.ics');
    expect(lastSegment(href)).toBe('a b/c.ics');
    expect(collectionPath('/alice/cal')).toBe('/alice/cal/');
    expect(isInside(href, '/alice/cal')).toBe(true);
    expect(isInside('/alice/cal/', '/alice/cal/')).toBe(false);
  });
});
