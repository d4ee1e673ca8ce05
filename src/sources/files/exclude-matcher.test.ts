import { describe, expect, it } from 'vitest';
import { compileExclude, ExcludePatternError, excludeMatcher } from './exclude-matcher.js';

describe('exclude patterns', () => {
  it('matches a base-name glob anywhere in the tree', () => {
    const excluded = excludeMatcher(['*.pem']);
    expect(excluded('/etc/ssl/certs/mail.pem')).toBe(true);
    expect(excluded('/etc/dovecot/dovecot.conf')).toBe(false);
    expect(excluded('/etc/dovecot/.hidden.pem')).toBe(true);
  });

  it('matches a glob on the absolute path, the directory itself included', () => {
    const excluded = excludeMatcher(['/etc/ssl/private/**']);
    expect(excluded('/etc/ssl/private')).toBe(true);
    expect(excluded('/etc/ssl/private/mail.key')).toBe(true);
    expect(excluded('/etc/ssl/private/deep/er.key')).toBe(true);
    expect(excluded('/etc/ssl/certs/mail.pem')).toBe(false);
  });

  it('does not let a single star cross a slash', () => {
    const excluded = excludeMatcher(['/etc/*.conf']);
    expect(excluded('/etc/main.conf')).toBe(true);
    expect(excluded('/etc/postfix/main.conf')).toBe(false);
  });

  it('tests re: expressions, unanchored, against the absolute path', () => {
    const excluded = excludeMatcher(['re:\\.bak$', 're:/cache/']);
    expect(excluded('/etc/postfix/main.cf.bak')).toBe(true);
    expect(excluded('/etc/postfix/main.cf')).toBe(false);
    expect(excluded('/var/lib/app/cache/x')).toBe(true);
    expect(excluded('/var/lib/app/cached')).toBe(false);
  });

  it('handles names with spaces, newlines and UTF-8', () => {
    const excluded = excludeMatcher(['*~', 're:ü']);
    expect(excluded('/etc/a b/notes~')).toBe(true);
    expect(excluded('/etc/line\nbreak~')).toBe(true);
    expect(excluded('/etc/grüße.conf')).toBe(true);
    expect(excluded('/etc/plain.conf')).toBe(false);
  });

  it('excludes nothing without patterns', () => {
    expect(excludeMatcher([])('/anything')).toBe(false);
  });

  it('names a regular expression that does not compile', () => {
    expect(() => excludeMatcher(['re:(unclosed'])).toThrow(ExcludePatternError);
    expect(() => excludeMatcher(['re:(unclosed'])).toThrow(/re:\(unclosed/);
  });
});

describe('exclude patterns that cannot be used', () => {
  const reasonOf = (pattern: string): string => {
    try {
      compileExclude(pattern);
    } catch (error) {
      expect(error).toBeInstanceOf(ExcludePatternError);
      return (error as ExcludePatternError).reason;
    }
    throw new Error(`${pattern} compiled`);
  };

  it('gives the regular expression error without repeating the pattern', () => {
    expect(reasonOf('re:(unclosed')).toBe('not a valid regular expression (Unterminated group)');
    expect(reasonOf('re:*.bak')).toBe('not a valid regular expression (Nothing to repeat)');
  });

  it('refuses an empty regular expression, which would exclude everything', () => {
    expect(reasonOf('re:')).toMatch(/would exclude everything/);
  });

  it('refuses a glob picomatch cannot translate instead of matching nothing with it', () => {
    expect(reasonOf('*.{pem,key')).toMatch(
      /^a glob that cannot be compiled \(Unterminated group\)/,
    );
    expect(reasonOf('[z-a].conf')).toMatch(/Range out of order in character class/);
    expect(() => excludeMatcher(['*.pem', '!(a'])).toThrow(/exclude pattern "!\(a": a glob/);
  });

  it('accepts braces, classes and extglobs that are well formed', () => {
    const excluded = excludeMatcher(['*.{pem,key}', '[a-c]*.tmp', '!(*.conf)']);
    expect(excluded('/etc/ssl/mail.key')).toBe(true);
    expect(excluded('/etc/app/b1.tmp')).toBe(true);
  });
});
