import { basename } from 'node:path';
import picomatch from 'picomatch';

/** An exclude entry that cannot be used: names the entry so the configuration can be fixed. */
export class ExcludePatternError extends Error {
  constructor(pattern: string, why: string) {
    super(`exclude pattern ${JSON.stringify(pattern)}: ${why}`);
    this.name = 'ExcludePatternError';
  }
}

/**
 * Compiles a file set's exclude entries into one test on absolute paths. An entry is a glob
 * (picomatch syntax, dot files included) matched against the absolute path and against the base
 * name, so "*.pem" and "/etc/ssl/private/**" both work; or `re:<regex>`, a JavaScript regular
 * expression tested (unanchored) against the absolute path.
 */
export function excludeMatcher(patterns: readonly string[]): (path: string) => boolean {
  const tests: Array<(path: string, name: string) => boolean> = patterns.map((pattern) => {
    if (pattern.startsWith('re:')) {
      let regex: RegExp;
      try {
        regex = new RegExp(pattern.slice(3));
      } catch (error) {
        throw new ExcludePatternError(pattern, (error as Error).message);
      }
      return (path) => regex.test(path);
    }
    const glob = picomatch(pattern, { dot: true });
    return (path, name) => glob(path) || glob(name);
  });
  if (tests.length === 0) return () => false;
  return (path) => {
    const name = basename(path);
    return tests.some((test) => test(path, name));
  };
}
