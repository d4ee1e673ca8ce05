// Folder names as file-system paths, for the exports that nest folders as directories (mbox and
// eml). IMAP names may hold anything a path cannot ('/' in a name under a '.' separator,
// control characters, '..'), and different names may end up the same once made safe.

/** Characters no portable file name holds (Windows' reserved ones too: exports travel). */
// eslint-disable-next-line no-control-regex -- control characters are what is being replaced
const UNSAFE = /[\x00-\x1f\x7f/\\:*?"<>|]/g;
/** Bytes of UTF-8 a name component may take; file systems allow 255. */
const MAX_COMPONENT_BYTES = 200;

/** Cuts text to at most `bytes` bytes of UTF-8 without splitting a character. */
export function clipUtf8(text: string, bytes: number): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  let out = '';
  let used = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (used + size > bytes) break;
    out += char;
    used += size;
  }
  return out;
}

/** One path component from any text: unsafe characters become '_', never empty, '.' or '..'. */
export function safeComponent(name: string, maxBytes = MAX_COMPONENT_BYTES): string {
  // Trailing dots and spaces vanish on Windows; leading ones would hide the file on Unix.
  const cleaned = clipUtf8(name.replace(UNSAFE, '_'), maxBytes)
    .replace(/[. ]+$/, '')
    .replace(/^[. ]+/, '');
  return cleaned === '' ? '_' : cleaned;
}

/**
 * Gives each folder a unique relative directory path (as components): its parent's path and
 * its own last name made safe, with `~2`, `~3`... when another folder already took it
 * (compared without case, so the tree unpacks the same on case-insensitive file systems).
 */
export class FolderPaths {
  private readonly byFolder = new Map<string, string[]>();
  private readonly taken = new Set<string>();

  constructor(private readonly fix: (name: string) => string = (name) => safeComponent(name)) {}

  of(path: string, delimiter: string | null): string[] {
    const known = this.byFolder.get(path);
    if (known) return known;
    const parts = delimiter ? path.split(delimiter) : [path];
    const parent =
      parts.length > 1 && delimiter ? this.of(parts.slice(0, -1).join(delimiter), delimiter) : [];
    const base = this.fix(parts[parts.length - 1] ?? '');
    let name = base;
    for (let n = 2; this.taken.has(key([...parent, name])); n++) name = `${base}~${n}`;
    const result = [...parent, name];
    this.taken.add(key(result));
    this.byFolder.set(path, result);
    return result;
  }
}

function key(components: string[]): string {
  return components.join('/').toLowerCase();
}
