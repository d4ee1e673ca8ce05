import { isHarmlessValue, isSecretKey } from './secret-keys.js';
import type { Span } from './spans.js';

/*
 * Command lines, in scripts, cron tables, unit files and hooks: the options that take a password
 * in the tools a mail server's administrator runs (`mysql -pSECRET`, `ldapsearch -w SECRET`,
 * `sshpass -p SECRET`, `redis-cli -a SECRET`, `curl -u user:SECRET`, `smbclient -U
 * user%SECRET`...), and for any command a long option named for a secret (`--password=x`,
 * `--bind-pw x`, `--api-key x`).
 */

interface Token {
  text: string;
  start: number;
}

/** How a tool takes a secret: after `-p` glued only (mysql), or as the word after an option. */
interface ToolOptions {
  /** Short options whose glued rest is the secret: mysql's -pSECRET (a bare -p asks). */
  glued?: string[];
  /** Options whose value (glued, after `=`, or the next word) is the secret. */
  value?: string[];
  /** Options whose value is user:SECRET (curl) or user%SECRET (smbclient) or user,SECRET (lftp). */
  userAndSecret?: { options: string[]; separator: string };
}

const MYSQL: ToolOptions = { glued: ['-p'] };
const LDAP: ToolOptions = { value: ['-w'] };
const TOOLS: Record<string, ToolOptions> = {
  mysql: MYSQL,
  mysqldump: MYSQL,
  mysqladmin: MYSQL,
  mysqlcheck: MYSQL,
  mysqlimport: MYSQL,
  mysqlshow: MYSQL,
  mariadb: MYSQL,
  'mariadb-dump': MYSQL,
  'mariadb-admin': MYSQL,
  'mariadb-check': MYSQL,
  ldapsearch: LDAP,
  ldapadd: LDAP,
  ldapmodify: LDAP,
  ldapdelete: LDAP,
  ldapmodrdn: LDAP,
  ldapwhoami: LDAP,
  ldapcompare: LDAP,
  ldapexop: LDAP,
  ldappasswd: { value: ['-w', '-s', '-a'] },
  sshpass: { value: ['-p'] },
  'redis-cli': { value: ['-a'] },
  mosquitto_pub: { value: ['-P'] },
  mosquitto_sub: { value: ['-P'] },
  sqlcmd: { value: ['-P'] },
  curl: {
    value: ['--oauth2-bearer'],
    userAndSecret: { options: ['-u', '--user', '-U', '--proxy-user'], separator: ':' },
  },
  smbclient: { userAndSecret: { options: ['-U', '--user'], separator: '%' } },
  lftp: { userAndSecret: { options: ['-u', '--user'], separator: ',' } },
};

const COMMAND = new RegExp(
  `(?<=^|[\\s;|&(\`'"])(?:[\\w./-]*/)?(${Object.keys(TOOLS)
    .map((name) => name.replace(/[-]/g, '\\-'))
    .join('|')})(?=[ \\t])`,
  'gm',
);
const LONG_OPTION =
  /(?<=^|\s)--([A-Za-z][\w-]*)(=|[ \t]+)(?!-)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s;|&)`]+)/gm;

/**
 * The words of a command read for its options: enough for any real command line, and a bound on
 * the work for a file where a tool's name comes back many times on one long line.
 */
const MAX_TOKENS = 256;

/** The words of a command from `at` to its end (a line end, `;`, `|`, `&`, a backtick). */
function tokensFrom(text: string, at: number): Token[] {
  const tokens: Token[] = [];
  // Words go on past a backslash at the end of a line (a command continued).
  const word =
    /(?:[ \t]|\\\n)*("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:[^\s;|&`"')\\]|\\.)+(?:"[^"\n]*"|'[^'\n]*')?)/y;
  word.lastIndex = at;
  for (let match = word.exec(text); match && tokens.length < MAX_TOKENS; match = word.exec(text)) {
    const token = match[1] ?? '';
    tokens.push({ text: token, start: (match.index ?? 0) + match[0].length - token.length });
  }
  return tokens;
}

/** A token's text without its quotes, and where that lies. */
function unquoted(token: Token, skip = 0): { start: number; end: number; text: string } {
  let start = token.start + skip;
  let end = token.start + token.text.length;
  const inner = token.text.slice(skip);
  if (/^(["']).*\1$/s.test(inner) && inner.length >= 2) {
    start++;
    end--;
  }
  return { start, end, text: inner };
}

function toolSecrets(text: string, tool: string, tokens: Token[]): Span[] {
  const options = TOOLS[tool] ?? {};
  const spans: Span[] = [];
  const what = `${tool} password`;
  const add = (span: { start: number; end: number; text: string }): void => {
    if (span.end > span.start && !isHarmlessValue(text.slice(span.start, span.end)))
      spans.push({ start: span.start, end: span.end, what });
  };
  tokens.forEach((token, index) => {
    for (const option of options.glued ?? [])
      if (token.text.startsWith(option) && token.text.length > option.length)
        add(unquoted(token, option.length));
    for (const option of options.value ?? []) {
      const next = tokens[index + 1];
      if (token.text === option && next && !next.text.startsWith('-')) add(unquoted(next));
      else if (token.text.startsWith(`${option}=`)) add(unquoted(token, option.length + 1));
      else if (!option.startsWith('--') && token.text.startsWith(option) && token.text.length > 2)
        add(unquoted(token, option.length));
    }
    const pair = options.userAndSecret;
    if (pair?.options.includes(token.text)) {
      const next = tokens[index + 1];
      if (!next) return;
      const value = unquoted(next);
      const cut = text.slice(value.start, value.end).indexOf(pair.separator);
      if (cut !== -1) add({ ...value, start: value.start + cut + 1 });
    }
  });
  return spans;
}

/** An option named for a secret and its value as two items of an argument list (JSON, YAML). */
const ARRAY_OPTION = /(["'])--?([A-Za-z][\w-]*)\1[ \t]*,[ \t]*(["'])((?:(?!\3)[^\\\n]|\\.)*)\3/g;

function argumentListSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const match of text.matchAll(ARRAY_OPTION)) {
    const [whole, , option = '', , value = ''] = match;
    if (!isSecretKey(option) || isHarmlessValue(value)) continue;
    const start = (match.index ?? 0) + whole.length - value.length - 1;
    spans.push({ start, end: start + value.length, what: option });
  }
  return spans;
}

export function commandLineSecrets(text: string): Span[] {
  const spans: Span[] = [];
  // Where the words last read for each tool end: the tool named again among them was read.
  const readUntil = new Map<string, number>();
  for (const match of text.matchAll(COMMAND)) {
    const tool = match[1] ?? '';
    if ((match.index ?? 0) < (readUntil.get(tool) ?? 0)) continue;
    const tokens = tokensFrom(text, (match.index ?? 0) + match[0].length);
    const last = tokens.at(-1);
    if (last) readUntil.set(tool, last.start + last.text.length);
    spans.push(...toolSecrets(text, tool, tokens));
  }
  for (const match of text.matchAll(LONG_OPTION)) {
    const [whole, option = '', , value = ''] = match;
    if (!isSecretKey(option)) continue;
    let start = (match.index ?? 0) + whole.length - value.length;
    let end = start + value.length;
    if (/^["']/.test(value)) {
      start++;
      end--;
    }
    if (end > start && !isHarmlessValue(text.slice(start, end)))
      spans.push({ start, end, what: `--${option}` });
  }
  spans.push(...argumentListSecrets(text));
  return spans;
}
