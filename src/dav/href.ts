// Hrefs in one spelling. Servers write the same resource as "/a%40b/" or "/a@b/", as a path
// or a full URL; comparing hrefs across runs (sync state, ETag lists) needs one form: the
// absolute path with every segment decoded and encoded again the same way.

/** A path segment encoded for a URL (a "/" inside a name stays encoded). */
export function encodeSegment(name: string): string {
  return encodeURIComponent(name);
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    // A malformed escape ("100%zz"): a literal "%", as lenient servers read it.
    return segment;
  }
}

/** The canonical form of an absolute path. */
export function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeSegment(decodeSegment(segment)))
    .join('/');
}

/**
 * The canonical absolute path of an href from a response to a request for `base`. Only the
 * path is kept: collections and items live on the server the account is read from.
 */
export function canonicalHref(href: string, base: URL | string): string {
  return canonicalPath(new URL(href, base).pathname);
}

/** The href of a member named `name` (not encoded) in a collection. */
export function memberHref(collectionHref: string, name: string): string {
  const base = collectionHref.endsWith('/') ? collectionHref : `${collectionHref}/`;
  return `${base}${encodeSegment(name)}`;
}

/** The collection's href with a trailing slash, canonical. */
export function collectionPath(href: string): string {
  const path = canonicalPath(href);
  return path.endsWith('/') ? path : `${path}/`;
}

/** The last segment of an href, decoded: an item's or a collection's name. */
export function lastSegment(href: string): string {
  const segments = href.split('/').filter((segment) => segment !== '');
  return decodeSegment(segments.at(-1) ?? '');
}

/** Whether `href` names a direct or deeper member of the collection. */
export function isInside(href: string, collectionHref: string): boolean {
  const base = collectionPath(collectionHref);
  return href !== base && href.startsWith(base);
}
