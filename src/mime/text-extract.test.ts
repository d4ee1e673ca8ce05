import { describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
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
