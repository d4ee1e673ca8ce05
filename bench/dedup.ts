// The same mail delivered to many mailboxes: identical but for the header lines each delivery
// adds (Return-Path, Delivered-To, Received), with a 500 KB attachment.
import type { DovecotServer } from '../test/support/dovecot.js';
import { StreamImap, imapDateTime } from './imap-stream.js';
import { attachmentBytes, base64Lines, deliveryHeaders, rfc5322Date, toCrlf } from './mailgen.js';
import { Prng } from './prng.js';

const SENT = new Date('2025-10-20T09:15:00Z');
const ATTACHMENT_SIZE = 500 * 1024;

/** The copy delivered to `user` (CRLF, as appended). */
export function deliveredCopy(user: string, copy: number): Buffer {
  const rng = new Prng(0xd0d0, copy);
  const from = 'announce@corp.example';
  const at = new Date(SENT.getTime() + (3 + copy) * 1000);
  const boundary = '----=_Part_4711_0123456789abcdef';
  const head = [
    ...deliveryHeaders(rng, { user, address: `${user}@example.org` }, at, from),
    'Message-ID: <all-hands-2025-10@corp.example>',
    `Date: ${rfc5322Date(SENT)}`,
    'From: "Corporate Announcements" <announce@corp.example>',
    'To: "All staff" <staff@example.org>',
    'Subject: All-hands slides and the Q4 plan',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    'Hello all,',
    '',
    'The slides of this morning are attached, with the plan for the quarter.',
    'Questions to the usual address, please.',
    '',
    '-- ',
    'Corporate Communications',
    '',
    `--${boundary}`,
    'Content-Type: application/pdf; name="all-hands-q4.pdf"',
    'Content-Disposition: attachment; filename="all-hands-q4.pdf"',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ].join('\n');
  const attachment = attachmentBytes({
    seed: 0x5eedf00d,
    size: ATTACHMENT_SIZE,
    type: 'pdf',
    filename: 'all-hands-q4.pdf',
  });
  const lf = Buffer.concat([
    Buffer.from(head, 'utf8'),
    base64Lines(attachment),
    Buffer.from(`\n--${boundary}--\n`, 'utf8'),
  ]);
  return toCrlf(lf);
}

/** Appends copy i of the mail to the INBOX of users[i]; returns the size of each copy. */
export async function deliverToAll(
  server: DovecotServer,
  users: readonly string[],
): Promise<number[]> {
  const sizes: number[] = [];
  for (const [i, user] of users.entries()) {
    const raw = deliveredCopy(user, i);
    sizes.push(raw.length);
    const client = await StreamImap.connect(server.host, server.port);
    try {
      await client.masterLogin(user, server.master.user, server.master.password);
      await client.ok([
        `APPEND INBOX (\\Seen) "${imapDateTime(new Date(SENT.getTime() + 60_000))}" {${raw.length}+}\r\n`,
        raw,
      ]);
    } finally {
      await client.logout();
    }
  }
  return sizes;
}
