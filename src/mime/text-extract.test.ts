import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { corporaDir, corpusMessages } from '../../test/support/corpus.js';
import { extractText, TEXT_LIMIT } from './text-extract.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');

describe('text for search', () => {
  it('decodes quoted-printable Latin-1 and base64 UTF-8 parts, and leaves attachments out', () => {
    const raw = crlf([
      'Subject: x',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain; charset=iso-8859-1',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=E9 cr=E8me, soft line=',
      ' continues',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('Grüße aus Zürich').toString('base64'),
      '--b',
      'Content-Type: application/pdf',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('%PDF secret invoice text').toString('base64'),
      '--b--',
      '',
    ]);
    const text = extractText(raw);
    expect(text).toContain('Café crème, soft line continues');
    expect(text).toContain('Grüße aus Zürich');
    expect(text).not.toContain('invoice');
  });

  it('reads the words of HTML and takes one of several alternatives', () => {
    const raw = crlf([
      'Content-Type: multipart/alternative; boundary=alt',
      '',
      '--alt',
      'Content-Type: text/html; charset=utf-8',
      '',
      '<html><style>p{}</style><p>Meeting&nbsp;at <b>noon</b> &amp; lunch &#233;t&#xE9;</p></html>',
      '--alt',
      'Content-Type: text/plain',
      '',
      'Meeting at noon and lunch (plain copy)',
      '--alt--',
    ]);
    const text = extractText(raw);
    expect(text).toBe('Meeting at noon & lunch été');
  });

  it('decodes every HTML entity, and leaves scripts, styles and templates out', () => {
    const raw = crlf([
      'Content-Type: text/html; charset=us-ascii',
      '',
      '<html><head><style>p { color: red }</style><script>var hidden = 1;</script></head>',
      '<body><p>Caf&eacute; cr&egrave;me &ndash; 5&euro; &hellip; it&rsquo;s &copy;&nbsp;2026',
      '&#x1F600; &#233;t&#xE9; &NotEqualTilde; &amp;c</p><template>not shown</template></body></html>',
    ]);
    expect(extractText(raw)).toBe('Café crème – 5€ … it’s © 2026 😀 été ≂̸ &c');
  });

  it('keeps a word whole across inline tags and apart across block ones', () => {
    const raw = crlf([
      'Content-Type: text/html; charset=utf-8',
      '',
      '<div>Caf<b>&eacute;</b><span>s</span></div><p>au</p><table><tr><td>lait</td><td>chaud</td></tr></table>line<br>break',
    ]);
    expect(extractText(raw)).toBe('Cafés au lait chaud line break');
  });

  it('decodes bodies in UTF-7 and the other charsets iconv-lite knows, and keeps unknown ones readable', () => {
    const part = (charset: string, body: Buffer | string): Buffer =>
      Buffer.concat([
        Buffer.from(`Content-Type: text/plain; charset=${charset}\r\n\r\n`),
        Buffer.from(body),
      ]);
    expect(extractText(part('utf-7', 'Die Fr+APY-sche +AOQ-rgern sich'))).toBe(
      'Die Frösche ärgern sich',
    );
    expect(extractText(part('"KOI8-R"', Buffer.from('f0d2c9d7c5d4', 'hex')))).toBe('Привет');
    expect(extractText(part('ISO-2022-JP', Buffer.from('GyRCJEskWyRzGyhC', 'base64')))).toBe(
      'にほん',
    );
    // Not charsets, though iconv-lite has codecs by these names; an unknown one is read as UTF-8.
    expect(extractText(part('base64', 'plain words'))).toBe('plain words');
    expect(extractText(part('x-unknown', 'Café'))).toBe('Café');
  });

  it('finds the words of a newsletter after tens of kilobytes of styles', () => {
    const raw = crlf([
      'Content-Type: text/html; charset=utf-8',
      '',
      `<html><head><style>${'.c { margin: 0 auto; padding: 0 } '.repeat(3000)}</style></head>`,
      '<body><p>Caf&eacute; opening on Monday</p></body></html>',
    ]);
    expect(extractText(raw)).toBe('Café opening on Monday');
  });

  it('reads hostile HTML in bounded time', () => {
    const html = (body: string): Buffer =>
      crlf(['Content-Type: text/html; charset=utf-8', '', body]);
    const started = Date.now();
    // Unclosed elements by the ten thousand: a parser keeping a stack of them takes seconds.
    expect(extractText(html('first words' + '<font><div>'.repeat(100_000)))).toBe('first words');
    expect(extractText(html(`<a title="${'x'.repeat(1_000_000)}">`))).toBe('');
    expect(extractText(html('<p>' + '&eacute;'.repeat(200_000)))).toHaveLength(TEXT_LIMIT);
    // Generous, for a loaded machine: each takes milliseconds.
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reads the UTF-7 and HTML messages of the corpora as their readers show them', () => {
    const corpus = (...path: string[]): Buffer => readFileSync(join(corporaDir(), ...path));
    const outlook = extractText(
      corpus('stalwart-mail-parser', 'resources', 'eml', 'legacy', '001.eml'),
    );
    expect(outlook).toContain('Die Hasen klagten einst über ihre mißliche Lage; "wir leben"');
    const bounce = extractText(
      corpus('sisimai-set-of-emails', 'maildir', 'bsd', 'rhost-aol-01.eml'),
    );
    expect(bounce).toContain('© 2014 AOL Inc. - All Rights Reserved');
    expect(bounce).not.toContain('font-family');
  });

  it('never throws on the corpora and stays within its limit', () => {
    const messages = corpusMessages({ everything: true });
    expect(messages.length).toBeGreaterThan(1000);
    let withText = 0;
    for (const { raw } of messages) {
      const text = extractText(raw);
      expect(text.length).toBeLessThanOrEqual(TEXT_LIMIT);
      if (text.length > 20) withText++;
    }
    expect(withText).toBeGreaterThan(messages.length / 2);
  });
});
