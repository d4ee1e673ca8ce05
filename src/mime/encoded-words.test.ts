import { describe, expect, it } from 'vitest';
import { decodeEncodedWords } from './encoded-words.js';

// Expected texts are written out by hand (what a mail reader shows), and the encoded forms made
// from them with the charset's own definition, not with the code under test.
describe('decodeEncodedWords', () => {
  it.each([
    ['UTF-7, Q', '=?UTF-7?Q?Caf+AOk-?=', 'Café'],
    ['UTF-7, B', `=?utf-7?B?${Buffer.from('Caf+AOk-').toString('base64')}?=`, 'Café'],
    ['UTF-7 with a language', '=?UTF-7*de?Q?Gr+APwA3w-e?=', 'Grüße'],
    ['ISO-8859-1', '=?ISO-8859-1?Q?Caf=E9_cr=E8me?=', 'Café crème'],
    ['windows-1252', '=?windows-1252?Q?=93quoted=94_=80?=', '“quoted” €'],
    ['KOI8-R', '=?koi8-r?B?8NLJ18XU?=', 'Привет'],
    ['GB2312', '=?gb2312?B?xOO6ww==?=', '你好'],
    ['Big5', '=?big5?B?pKSk5Q==?=', '中文'],
    ['Shift_JIS', '=?shift_jis?B?g26DjYFb?=', 'ハロー'],
    ['ISO-2022-JP (not an iconv-lite charset)', '=?ISO-2022-JP?B?GyRCJEskWyRzGyhC?=', 'にほん'],
    ['UTF-8 without base64 padding', '=?UTF-8?B?Q2Fmw6k?=', 'Café'],
  ])('decodes %s', (_name, encoded, text) => {
    expect(decodeEncodedWords(encoded)).toBe(text);
  });

  it('joins the bytes of adjacent words, so a character split between them survives', () => {
    expect(decodeEncodedWords('=?utf-8?Q?Caf=C3?= =?utf-8?Q?=A9?=')).toBe('Café');
    expect(decodeEncodedWords('=?utf-8?B?Q2Fmww==?=\r\n =?utf-8?B?qQ==?=')).toBe('Café');
    // UTF-7's shifted run cut in two words.
    expect(decodeEncodedWords('=?utf-7?Q?Gr+APw?= =?utf-7?Q?A3w-e?=')).toBe('Grüße');
  });

  it('drops white space between encoded words only, keeping ordinary text as it is', () => {
    expect(decodeEncodedWords('Re: =?utf-8?Q?a?=  =?iso-8859-1?Q?b?= and =?utf-8?Q?c?= (x)')).toBe(
      'Re: ab and c (x)',
    );
    expect(decodeEncodedWords('no words here, =? just text')).toBe('no words here, =? just text');
  });

  it('keeps malformed words as written, and decodes the others around them', () => {
    expect(decodeEncodedWords('=?utf-8?B?!!!?=')).toBe('=?utf-8?B?!!!?=');
    expect(decodeEncodedWords('=?utf-8?B?Q?=')).toBe('=?utf-8?B?Q?=');
    expect(decodeEncodedWords('=?x-unknown?Q?Caf=E9?=')).toBe('=?x-unknown?Q?Caf=E9?=');
    // Transfer encodings iconv-lite knows by these names are not charsets.
    expect(decodeEncodedWords('=?base64?B?QUJD?= =?hex?Q?41?=')).toBe(
      '=?base64?B?QUJD?= =?hex?Q?41?=',
    );
    expect(decodeEncodedWords('a =?x-bad?Q?a?= =?utf-8?Q?b?= c')).toBe('a =?x-bad?Q?a?= b c');
    // An "=" that starts no byte stands for itself.
    expect(decodeEncodedWords('=?utf-8?Q?50=_off=3?=')).toBe('50= off=3');
  });

  it('never throws, whatever it is given', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) % 97;
    const alphabet = '=?BbQq_-+/AZaz09 \t\r\n\x00\x80é中utf-7iso-2022-jp';
    for (let round = 0; round < 2000; round++) {
      let value = '';
      for (let i = 0; i < 60; i++) value += alphabet[next() % alphabet.length] ?? '';
      expect(() => decodeEncodedWords(`=?${value}?=${value}`)).not.toThrow();
    }
  });
});
