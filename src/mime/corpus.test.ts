import { describe, expect, it } from 'vitest';
import { corpusMessages } from '../../test/support/corpus.js';
import { summarizeHeader } from './header-summary.js';
import { assembleMessage } from './message-layout.js';
import type { MessageLayout } from './message-layout.js';
import { splitMessage, splitMessageUnchecked } from './split-message.js';

/** Fewer files than this means the corpora were not found where expected, not a small corpus. */
const MIN_CORPUS_MESSAGES = 1000;
const messages = corpusMessages({ everything: true });

function reassembles(layout: MessageLayout, raw: Buffer): boolean {
  return Buffer.from(assembleMessage(layout)).equals(raw);
}

/** Empty segments and unmerged literals would only cost objects; they must not occur. */
function wellFormed(layout: MessageLayout): boolean {
  return layout.body.every((segment, i) => {
    const previous = layout.body[i - 1];
    if (segment.kind === 'literal' && previous?.kind === 'literal') return false;
    if (segment.kind === 'base64') return segment.decoded.length > 0 && segment.lineLength > 0;
    return segment.bytes.length > 0;
  });
}

/** Same message with every line ending rewritten: the other common shape of the same mail. */
function withLineEndings(raw: Buffer, eol: '\r\n' | '\n'): Buffer {
  return Buffer.from(raw.toString('latin1').replace(/\r?\n/g, eol), 'latin1');
}

describe('corpus', () => {
  it(`finds at least ${MIN_CORPUS_MESSAGES} raw messages`, () => {
    expect(messages.length).toBeGreaterThanOrEqual(MIN_CORPUS_MESSAGES);
  });

  it('splits every message byte-exactly without needing the fallback', () => {
    const failures: string[] = [];
    for (const { name, raw } of messages) {
      const layout = splitMessage(raw);
      if (!reassembles(layout, raw) || !wellFormed(layout)) failures.push(`${name}: split`);
      if (!reassembles(splitMessageUnchecked(raw), raw)) failures.push(`${name}: parser`);
    }
    expect(failures).toEqual([]);
  });

  it('round-trips the CRLF, LF and truncated variants of every message', () => {
    const failures: string[] = [];
    for (const { name, raw } of messages) {
      const variants = [withLineEndings(raw, '\r\n'), withLineEndings(raw, '\n')];
      for (const cut of [0.25, 0.5, 0.9])
        variants.push(raw.subarray(0, Math.floor(raw.length * cut)));
      variants.forEach((variant, i) => {
        if (!reassembles(splitMessage(variant), variant)) failures.push(`${name} #${i}`);
        if (!reassembles(splitMessageUnchecked(variant), variant))
          failures.push(`${name} #${i} parser`);
      });
    }
    expect(failures).toEqual([]);
  });

  it('stores base64 attachments decoded in a good share of the corpus', () => {
    const withBase64 = messages.filter(({ raw }) =>
      splitMessage(raw).body.some((segment) => segment.kind === 'base64'),
    );
    // 129 when this was written; a sharp drop means base64 detection broke.
    expect(withBase64.length).toBeGreaterThanOrEqual(120);
  });

  it('decodes the same attachment to the same bytes whatever the line endings', () => {
    let compared = 0;
    for (const { raw } of messages) {
      const decoded = (layout: MessageLayout) =>
        layout.body.flatMap((s) => (s.kind === 'base64' ? [Buffer.from(s.decoded)] : []));
      const crlf = decoded(splitMessage(withLineEndings(raw, '\r\n')));
      const lf = decoded(splitMessage(withLineEndings(raw, '\n')));
      if (crlf.length === 0) continue;
      expect(lf).toEqual(crlf);
      compared++;
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('summarizes every header without throwing and within the field cap', () => {
    let dated = 0;
    for (const { raw } of messages) {
      const summary = summarizeHeader(splitMessage(raw).header);
      for (const field of [summary.from, summary.to, summary.cc, summary.subject]) {
        expect(field.length).toBeLessThanOrEqual(1000);
      }
      if (summary.date !== null) dated++;
    }
    // Most corpus messages carry a valid Date; the CR-only and broken ones need not.
    expect(dated).toBeGreaterThan(messages.length * 0.8);
  });
});
