import { basename } from 'node:path';
import picomatch from 'picomatch';

/** An exclude entry that cannot be used: names the entry so the configuration can be fixed. */
export class ExcludePatternError extends Error {
  constructor(
    readonly pattern: string,
    /** Why, without the pattern: "not a valid regular expression (Unterminated group)". */
    readonly reason: string,
  ) {
    super(`exclude pattern ${JSON.stringify(pattern)}: ${reason}`);
    this.name = 'ExcludePatternError';
  }
}

/** One compiled exclude entry: tests an absolute path and its base name. */
type ExcludeTest = (path: string, name: string) => boolean;

const REGEX_PREFIX = 're:';

/**
 * "Invalid regular expression: /(a/: Unterminated group" says what is wrong at its end; the
 * expression in the middle is picomatch's translation of a glob, which would only confuse.
 */
function regexProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const at = message.lastIndexOf(': ');
  return at >= 0 ? message.slice(at + 2) : message;
}

function compileRegex(pattern: string): ExcludeTest {
  const source = pattern.slice(REGEX_PREFIX.length);
  // An empty expression matches every path: the whole set would silently be left out.
  if (source === '')
    throw new ExcludePatternError(
      pattern,
      'an empty regular expression, which would exclude everything',
    );
  let regex: RegExp;
  try {
    regex = new RegExp(source);
  } catch (error) {
    throw new ExcludePatternError(
      pattern,
      `not a valid regular expression (${regexProblem(error)})`,
    );
  }
  return (path) => regex.test(path);
}

function compileGlob(pattern: string): ExcludeTest {
  let glob: (path: string) => boolean;
  try {
    // Without `debug`, picomatch turns a glob it cannot translate (an unclosed "{" or "(", a
    // range out of order) into a matcher of nothing, and the exclude is silently ignored.
    glob = picomatch(pattern, { dot: true, debug: true });
  } catch (error) {
    throw new ExcludePatternError(
      pattern,
      `a glob that cannot be compiled (${regexProblem(error)}); check its brackets, braces and parentheses, or write it as re:<regular expression>`,
    );
  }
  return (path, name) => glob(path) || glob(name);
}

/**
 * Compiles one exclude entry, throwing an ExcludePatternError that says what is wrong with it.
 * The configuration calls this at load time, so a bad entry is reported before any backup runs.
 */
export function compileExclude(pattern: string): ExcludeTest {
  return pattern.startsWith(REGEX_PREFIX) ? compileRegex(pattern) : compileGlob(pattern);
}

/**
 * Compiles a file set's exclude entries into one test on absolute paths. An entry is a glob
 * (picomatch syntax, dot files included) matched against the absolute path and against the base
 * name, so "*.pem" and "/etc/ssl/private/**" both work; or `re:<regex>`, a JavaScript regular
 * expression tested (unanchored) against the absolute path.
 */
export function excludeMatcher(patterns: readonly string[]): (path: string) => boolean {
  const tests = patterns.map(compileExclude);
  if (tests.length === 0) return () => false;
  return (path) => {
    const name = basename(path);
    return tests.some((test) => test(path, name));
  };
}
