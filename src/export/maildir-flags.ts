// Maildir keeps a message's flags in its file name, after ":2,": one capital letter per system
// flag, in ASCII order (http://cr.yp.to/proto/maildir.html), and, as Dovecot does, one lower-case
// letter per keyword, whose names a `dovecot-keywords` file in the folder lists by index.

const SYSTEM_LETTERS: Record<string, string> = {
  '\\draft': 'D',
  '\\flagged': 'F',
  // "Passed": resent, forwarded or bounced; $Forwarded is what IMAP clients set for it.
  $forwarded: 'P',
  '\\answered': 'R',
  '\\seen': 'S',
  '\\deleted': 'T',
};

const LETTER_FLAGS: Record<string, string> = {
  D: '\\Draft',
  F: '\\Flagged',
  P: '$Forwarded',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};

/** Dovecot's 26 keyword letters, a to z, by index. */
const KEYWORD_LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** The keywords of one folder, numbered as they are first met. */
export class KeywordTable {
  private readonly names: string[] = [];
  private readonly byName = new Map<string, number>();
  /** Keywords met after the 26 letters were taken: they cannot be written in the file name. */
  readonly dropped = new Set<string>();

  /** The letter of a keyword, or null when the table is full. */
  letter(keyword: string): string | null {
    let index = this.byName.get(keyword);
    if (index === undefined) {
      if (this.names.length >= KEYWORD_LETTERS.length) {
        this.dropped.add(keyword);
        return null;
      }
      index = this.names.length;
      this.names.push(keyword);
      this.byName.set(keyword, index);
    }
    return KEYWORD_LETTERS[index] ?? null;
  }

  get size(): number {
    return this.names.length;
  }

  /** The `dovecot-keywords` file: "INDEX NAME" lines. */
  file(): string {
    return this.names.map((name, i) => `${i} ${name}\n`).join('');
  }
}

/**
 * The info part of a file name for these flags: `2,` and the letters in ASCII order. \Recent
 * (a session's state, not the message's) and unknown system flags have no letter.
 */
export function maildirInfo(flags: readonly string[], keywords: KeywordTable): string {
  const letters = new Set<string>();
  for (const flag of flags) {
    const system = SYSTEM_LETTERS[flag.toLowerCase()];
    if (system) letters.add(system);
    else if (!flag.startsWith('\\')) {
      const letter = keywords.letter(flag);
      if (letter) letters.add(letter);
    }
  }
  return `2,${[...letters].sort().join('')}`;
}

/** The flags a file name's info stands for, given a folder's `dovecot-keywords` text. */
export function flagsFromInfo(info: string, keywordsFile = ''): string[] {
  const names = new Map<string, string>();
  for (const line of keywordsFile.split('\n')) {
    const m = /^(\d+) (.+)$/.exec(line);
    if (m) names.set(KEYWORD_LETTERS[Number(m[1])] ?? '', m[2] ?? '');
  }
  const letters = info.startsWith('2,') ? info.slice(2) : '';
  const flags: string[] = [];
  for (const letter of letters) {
    const flag = LETTER_FLAGS[letter] ?? names.get(letter);
    if (flag) flags.push(flag);
  }
  return flags.sort();
}

/**
 * A message's file name: unique in its folder (the sequence number), with the time of the
 * INTERNALDATE first as Maildir names have it, Dovecot's `,S=` size, and the flags.
 */
export function maildirName(
  message: { uid: number; internalDate: Date; size: number },
  sequence: number,
  info: string,
): string {
  const seconds = Math.max(0, Math.floor(message.internalDate.getTime() / 1000));
  return `${seconds}.M${sequence}U${message.uid}.mailvault,S=${message.size}:${info}`;
}
