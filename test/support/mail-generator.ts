// Synthetic mail for tests that need volume (fault tests kill a backup or restore halfway, so
// it must take a noticeable time): many distinct small messages and some large ones with a
// base64 attachment of random bytes, which neither compresses nor deduplicates.
import { randomBytes } from 'node:crypto';
import type { FixtureMessage } from './imap-fixture.js';

export interface GenerateOptions {
  /** Distinguishes the messages of one call from another's (Message-ID, Subject). */
  tag: string;
  /** How many messages. */
  count: number;
  /** Every n-th message (n = largeEvery) carries an attachment of `largeBytes`; 0: none. */
  largeEvery?: number;
  /** Decoded size of the large messages' attachment. Default 150 KiB. */
  largeBytes?: number;
}

const FLAG_SETS: string[][] = [
  [],
  ['\\Seen'],
  ['\\Seen', '\\Flagged'],
  ['$Label1'],
  ['\\Answered'],
];

function base64Lines(bytes: Buffer): string {
  const text = bytes.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += 76) lines.push(text.slice(i, i + 76));
  return lines.join('\r\n');
}

/**
 * Messages with CRLF line endings (as Dovecot serves them, so what a test appends is what a
 * backup reads), varied flags and INTERNALDATEs, and every one different from every other.
 */
export function generateMessages(options: GenerateOptions): FixtureMessage[] {
  const largeEvery = options.largeEvery ?? 0;
  const largeBytes = options.largeBytes ?? 150 * 1024;
  const messages: FixtureMessage[] = [];
  const base = Date.UTC(2024, 0, 1);
  for (let i = 0; i < options.count; i++) {
    const date = new Date(base + i * 3_600_000);
    const id = `${options.tag}-${i}`;
    const headers = [
      `Return-Path: <sender${i % 17}@example.org>`,
      `Received: from mx${i % 5}.example.org by mail.example.com; ${date.toUTCString()}`,
      `From: Sender ${i % 17} <sender${i % 17}@example.org>`,
      'To: Alice <alice@example.com>',
      `Subject: ${options.tag} message ${i}`,
      `Date: ${date.toUTCString()}`,
      `Message-ID: <${id}@example.org>`,
      'MIME-Version: 1.0',
    ];
    // A few paragraphs of varying length: messages of 1 to 4 KiB.
    const paragraph = `This is line of message ${id}, written for the fault tests of mailvault. `;
    const text = Array.from({ length: 10 + (i % 40) }, (_, n) => `${paragraph}${n}`).join('\r\n');
    let raw: string;
    if (largeEvery > 0 && i % largeEvery === largeEvery - 1) {
      const boundary = `b-${id}`;
      raw = [
        ...headers,
        `Content-Type: multipart/mixed; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: text/plain; charset=us-ascii',
        '',
        text,
        `--${boundary}`,
        `Content-Type: application/octet-stream; name="data-${id}.bin"`,
        'Content-Transfer-Encoding: base64',
        `Content-Disposition: attachment; filename="data-${id}.bin"`,
        '',
        base64Lines(randomBytes(largeBytes)),
        `--${boundary}--`,
        '',
      ].join('\r\n');
    } else {
      raw = [...headers, 'Content-Type: text/plain; charset=us-ascii', '', text, ''].join('\r\n');
    }
    messages.push({
      raw: Buffer.from(raw, 'latin1'),
      flags: FLAG_SETS[i % FLAG_SETS.length] ?? [],
      internalDate: date,
    });
  }
  return messages;
}
