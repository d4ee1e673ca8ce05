import { describe, expect, it } from 'vitest';
import { printable, printableLines, terminalSafeJson } from './printable.js';

describe('printable', () => {
  it('writes escape sequences and control characters as visible escapes', () => {
    expect(printable('Inbox\x1b[2J\x1b]0;owned\x07')).toBe('Inbox\\x1b[2J\\x1b]0;owned\\x07');
    expect(printable('a\u009b31mb\u007f')).toBe('a\\x9b31mb\\x7f');
    expect(printable('line\r\nnext\tcell\0')).toBe('line\\r\\nnext\\tcell\\x00');
    expect(printable('evil\u202Etxt.exe\u2066')).toBe('evil\\u202etxt.exe\\u2066');
  });

  it('leaves everything else as it is', () => {
    const names = ['INBOX', 'Résumé & Co', 'Archive/2023', '日本語', 'back\\slash', 'emoji 📬'];
    for (const name of names) expect(printable(name)).toBe(name);
  });

  it('keeps the line ends of a text of several lines', () => {
    expect(printableLines('first\nsecond \x1b[31mred\r')).toBe('first\nsecond \\x1b[31mred\\r');
  });
});

describe('terminalSafeJson', () => {
  it('escapes what JSON leaves raw, keeping the same JSON value', () => {
    const value = { folder: 'a\u009b31m\u007f\u202eb\x1b' };
    const line = terminalSafeJson(JSON.stringify(value));
    expect(line).toBe('{"folder":"a\\u009b31m\\u007f\\u202eb\\u001b"}');
    expect(JSON.parse(line)).toEqual(value);
  });
});
