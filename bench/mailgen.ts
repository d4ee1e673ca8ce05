// Deterministic, realistic mail for the benchmark: plain text and multipart/alternative messages
// of a few kilobytes to a few tens of kilobytes, some with base64 attachments (10–200 KB, a few
// forwarded again and again), about one in a thousand with a 1–5 MB attachment, with the headers
// a delivered message carries (Received, DKIM-Signature, Message-ID, Date, From, To, Subject).
// Everything comes from a seeded PRNG: the same seed and count give the same bytes.
import { Prng } from './prng.js';

export interface FolderSpec {
  path: string;
  /** Share of the mailbox's messages. */
  weight: number;
  /** Dates of its messages (Date header and INTERNALDATE), as [from, to] in UTC. */
  years: [string, string];
  kind: 'inbox' | 'sent' | 'drafts' | 'junk' | 'trash' | 'list' | 'archive';
}

/** 20 folders; "Lists" is only a parent (no messages of its own, \Noselect in Maildir++). */
export const FOLDERS: readonly FolderSpec[] = [
  { path: 'INBOX', weight: 20, years: ['2025-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Sent', weight: 10, years: ['2023-01-01', '2025-11-01'], kind: 'sent' },
  { path: 'Trash', weight: 3, years: ['2025-06-01', '2025-11-01'], kind: 'trash' },
  { path: 'Drafts', weight: 0.5, years: ['2025-01-01', '2025-11-01'], kind: 'drafts' },
  { path: 'Junk', weight: 3, years: ['2025-08-01', '2025-11-01'], kind: 'junk' },
  { path: 'Archive', weight: 3, years: ['2019-01-01', '2022-01-01'], kind: 'archive' },
  { path: 'Archive/2022', weight: 8, years: ['2022-01-01', '2023-01-01'], kind: 'archive' },
  { path: 'Archive/2023', weight: 8, years: ['2023-01-01', '2024-01-01'], kind: 'archive' },
  { path: 'Archive/2024', weight: 8, years: ['2024-01-01', '2025-01-01'], kind: 'archive' },
  { path: 'Work', weight: 6, years: ['2024-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Work/Projects', weight: 5, years: ['2024-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Work/Clients', weight: 4, years: ['2024-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Lists/dovecot', weight: 4, years: ['2024-06-01', '2025-11-01'], kind: 'list' },
  { path: 'Lists/linux', weight: 4, years: ['2024-06-01', '2025-11-01'], kind: 'list' },
  { path: 'Lists/node', weight: 3, years: ['2024-06-01', '2025-11-01'], kind: 'list' },
  { path: 'Family', weight: 2.5, years: ['2022-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Travel', weight: 1.5, years: ['2022-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Receipts', weight: 2, years: ['2022-01-01', '2025-11-01'], kind: 'inbox' },
  { path: 'Newsletters', weight: 3, years: ['2024-01-01', '2025-11-01'], kind: 'list' },
  { path: 'Notes', weight: 1.5, years: ['2020-01-01', '2025-11-01'], kind: 'inbox' },
];

export type MessageKind = 'plain' | 'alternative' | 'attachment' | 'huge';

export interface AttachmentSpec {
  seed: number;
  /** Decoded size in bytes. */
  size: number;
  type: 'pdf' | 'jpeg' | 'docx' | 'csv';
  filename: string;
}

/** One message before its bytes are made. */
export interface MailSpec {
  /** Position in the mailbox plan; seeds the message's own PRNG stream. */
  index: number;
  folder: string;
  kind: MessageKind;
  /** Size of the text part(s), roughly. */
  textSize: number;
  attachments: AttachmentSpec[];
  date: Date;
  /** INTERNALDATE: delivery, a little after the Date header. */
  internalDate: Date;
  /** IMAP flags and keywords, e.g. ['\\Seen', '$Forwarded']. */
  flags: string[];
  reply: boolean;
}

export interface MailboxPlan {
  user: string;
  seed: number;
  messages: MailSpec[];
}

/** The keywords a plan uses, in the order of their Maildir letters (a, b, c, ...). */
export const KEYWORDS = ['$Forwarded', '$Label1', 'NonJunk', '$Label2'] as const;

/** About one message in a thousand carries a 1–5 MB attachment (20 in 20,000). */
const HUGE_EVERY = 1000;

/**
 * The messages of one mailbox: folder, kind, sizes, dates and flags. Within a folder they are in
 * date order (as delivered), so Maildir names, and hence UIDs, follow the dates.
 */
export function planMailbox(user: string, count: number, seed: number): MailboxPlan {
  const rng = new Prng(seed, 0xfeed);
  const weights = FOLDERS.map((folder) => folder.weight);
  const pool: AttachmentSpec[] = [];
  const messages: MailSpec[] = [];
  for (let index = 0; index < count; index++) {
    const folder = FOLDERS[rng.weighted(weights)] ?? FOLDERS[0];
    if (!folder) throw new Error('no folders');
    let kind: MessageKind;
    const attachments: AttachmentSpec[] = [];
    if (index % HUGE_EVERY === HUGE_EVERY / 2) {
      kind = 'huge';
      attachments.push(newAttachment(rng, rng.int(1024 * 1024, 5 * 1024 * 1024)));
    } else {
      const x = rng.float();
      kind = x < 0.4 ? 'plain' : x < 0.64 ? 'alternative' : 'attachment';
      if (kind === 'attachment') {
        const n = rng.chance(0.15) ? 2 : 1;
        for (let i = 0; i < n; i++) {
          // One attachment in ten is one seen before: the same file forwarded again.
          const reused = pool.length > 0 && rng.chance(0.1);
          const attachment = reused
            ? rng.pick(pool)
            : newAttachment(rng, rng.logUniform(10 * 1024, 200 * 1024));
          if (!reused) {
            if (pool.length < 64) pool.push(attachment);
            else pool[rng.int(0, pool.length - 1)] = attachment;
          }
          attachments.push(attachment);
        }
      }
    }
    // Mostly 2–50 KB in all; the text of messages with attachments is shorter.
    const textSize =
      kind === 'plain' || kind === 'alternative'
        ? rng.logUniform(1500, 56 * 1024)
        : rng.logUniform(400, 6 * 1024);
    const from = Date.parse(`${folder.years[0]}T00:00:00Z`);
    const to = Date.parse(`${folder.years[1]}T00:00:00Z`);
    const date = new Date(Math.floor(from + rng.float() * (to - from)));
    const internalDate = new Date(date.getTime() + rng.int(2, 180) * 1000);
    messages.push({
      index,
      folder: folder.path,
      kind,
      textSize,
      attachments,
      date: new Date(Math.floor(date.getTime() / 1000) * 1000),
      internalDate: new Date(Math.floor(internalDate.getTime() / 1000) * 1000),
      flags: flagsFor(rng, folder.kind),
      reply: folder.kind !== 'junk' && rng.chance(0.3),
    });
  }
  messages.sort((a, b) => {
    if (a.folder !== b.folder) return folderOrder(a.folder) - folderOrder(b.folder);
    return a.internalDate.getTime() - b.internalDate.getTime() || a.index - b.index;
  });
  return { user, seed, messages };
}

function folderOrder(path: string): number {
  return FOLDERS.findIndex((folder) => folder.path === path);
}

const ATTACHMENT_TYPES: Array<AttachmentSpec['type']> = ['pdf', 'jpeg', 'docx', 'csv'];

function newAttachment(rng: Prng, size: number): AttachmentSpec {
  const type = ATTACHMENT_TYPES[rng.weighted([35, 35, 15, 15])] ?? 'pdf';
  const stem = rng.pick([
    'invoice',
    'report',
    'scan',
    'IMG',
    'contract',
    'minutes',
    'budget',
    'photo',
    'statement',
    'slides',
  ]);
  const extension = { pdf: 'pdf', jpeg: 'jpg', docx: 'docx', csv: 'csv' }[type];
  return { seed: rng.u32(), size, type, filename: `${stem}-${rng.int(1, 9999)}.${extension}` };
}

function flagsFor(rng: Prng, kind: FolderSpec['kind']): string[] {
  const flags: string[] = [];
  switch (kind) {
    case 'sent':
      flags.push('\\Seen');
      break;
    case 'drafts':
      flags.push('\\Draft', '\\Seen');
      break;
    case 'junk':
      if (rng.chance(0.3)) flags.push('\\Seen');
      break;
    case 'trash':
      flags.push('\\Seen');
      break;
    default:
      if (rng.chance(kind === 'inbox' ? 0.8 : 0.95)) flags.push('\\Seen');
      if (rng.chance(0.15)) flags.push('\\Answered');
      if (rng.chance(0.06)) flags.push('\\Flagged');
      if (rng.chance(0.05)) flags.push('$Forwarded');
      if (rng.chance(0.04)) flags.push('$Label1');
      if (kind === 'list' && rng.chance(0.5)) flags.push('NonJunk');
  }
  return flags;
}

// ---------------------------------------------------------------------------------------------
// Bytes

const COMMON = (
  'the of and to a in is that for it as was with be by on not he this are or his from at which ' +
  'but have an they you were her she there been one all we their has would when if so no will ' +
  'can more about said some what out up into them could only time new other these two may then ' +
  'do first any my now such like our over also did just where most through back after years ' +
  'much before good well very way should because each those people how too little state make ' +
  'server backup mailbox message folder please thanks meeting report attached project update ' +
  'review deadline budget client release version issue question answer team week monday ' +
  'friday tomorrow today morning evening call schedule draft final send sent received office'
).split(' ');
const SYLLABLES = (
  'ka lo mi ne ra to shu vel dor an ix tri pel gan mor sen qua bri fel den lor tam vix zu ' +
  'pra ost eld rin mak tor sil vah gor nim'
).split(' ');
const FIRST = (
  'Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert ' +
  'Sybil Trent Victor Walter Yasmin Zoe Hugo Ines Jonas Klara Luca Marta Noah Oscar Paula'
).split(' ');
const LAST = (
  'Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre ' +
  'Michel Garcia Muller Schmidt Schneider Fischer Weber Meyer Wagner Becker Rossi Russo Ferrari'
).split(' ');
const DOMAINS = (
  'example.com example.net example.org mail.example.com lists.example.org corp.example ' +
  'partner.example shop.example bank.example travel.example news.example'
).split(' ');

function makeVocabulary(): string[] {
  const rng = new Prng(0x5eed, 1);
  const words = [...COMMON];
  while (words.length < 3000) {
    let word = '';
    const n = rng.int(1, 4);
    for (let i = 0; i < n; i++) word += rng.pick(SYLLABLES);
    words.push(word);
  }
  return words;
}

/** Also the words of the synthetic catalog's texts (bench/catalog-fill.ts). */
export const VOCABULARY = makeVocabulary();

export function word(rng: Prng): string {
  // Frequent words often, rare ones rarely (roughly Zipf-like).
  const x = rng.float();
  return x < 0.55
    ? (COMMON[Math.floor(rng.float() * COMMON.length)] ?? 'the')
    : (VOCABULARY[Math.floor(x * x * x * VOCABULARY.length)] ?? 'the');
}

function sentence(rng: Prng): string {
  const n = rng.int(4, 18);
  let text = word(rng);
  text = text.charAt(0).toUpperCase() + text.slice(1);
  for (let i = 1; i < n; i++) text += (rng.chance(0.08) ? ', ' : ' ') + word(rng);
  return text + (rng.chance(0.1) ? '?' : '.');
}

function wrappedParagraph(rng: Prng): string {
  const lines: string[] = [];
  let line = '';
  const sentences = rng.int(2, 7);
  for (let s = 0; s < sentences; s++) {
    for (const w of sentence(rng).split(' ')) {
      if (line.length + w.length + 1 > 72) {
        lines.push(line);
        line = w;
      } else {
        line = line ? `${line} ${w}` : w;
      }
    }
  }
  if (line) lines.push(line);
  return lines.join('\n');
}

/**
 * Paragraphs drawn from a fixed pool (20,000 distinct ones, about 8 MB): making every word of
 * a gigabyte of mail afresh would make the data take longer to generate than to back up. A
 * message draws a few to a few hundred of them, so messages stay distinct, and compress like
 * text does.
 */
const PARAGRAPHS: string[] = (() => {
  const rng = new Prng(0x7e47, 2);
  return Array.from({ length: 20_000 }, () => wrappedParagraph(rng));
})();

/** Paragraphs of text wrapped at 72 columns, about `size` bytes, LF line endings. */
function paragraphs(rng: Prng, size: number): string[] {
  const out: string[] = [];
  let total = 0;
  while (total < size) {
    const paragraph = PARAGRAPHS[Math.floor(rng.float() * PARAGRAPHS.length)] ?? '';
    out.push(paragraph);
    total += paragraph.length + 2;
  }
  return out;
}

export function person(rng: Prng): { name: string; address: string } {
  const first = rng.pick(FIRST);
  const last = rng.pick(LAST);
  const domain = rng.pick(DOMAINS);
  return {
    name: `${first} ${last}`,
    address: `${first.toLowerCase()}.${last.toLowerCase()}@${domain}`,
  };
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An RFC 5322 date in +0000. */
export function rfc5322Date(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${DAYS[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]} ` +
    `${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:` +
    `${pad(date.getUTCSeconds())} +0000`
  );
}

function ip(rng: Prng): string {
  return `${rng.int(11, 223)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

function fold(name: string, value: string): string {
  // Folds a long structured value (base64-ish) at 76 columns with a leading tab.
  const lines: string[] = [];
  let rest = `${name}: ${value}`;
  while (rest.length > 76) {
    lines.push(rest.slice(0, 76));
    rest = `\t${rest.slice(76)}`;
  }
  lines.push(rest);
  return lines.join('\n');
}

/** Base64 in 76-column lines with LF, as mail clients write attachments. */
export function base64Lines(bytes: Buffer): Buffer {
  const encoded = Buffer.from(bytes.toString('base64'), 'latin1');
  const lines = Math.ceil(encoded.length / 76);
  const out = Buffer.allocUnsafe(encoded.length + lines);
  let to = 0;
  for (let from = 0; from < encoded.length; from += 76) {
    to += encoded.copy(out, to, from, Math.min(from + 76, encoded.length));
    out[to++] = 10;
  }
  return out;
}

function quotedPrintable(text: string): string {
  return text.replace(/=/g, '=3D');
}

const ATTACHMENT_MIME: Record<AttachmentSpec['type'], string> = {
  pdf: 'application/pdf',
  jpeg: 'image/jpeg',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  csv: 'text/csv',
};

/** An attachment's decoded bytes: random (already compressed formats) or CSV text. */
export function attachmentBytes(spec: AttachmentSpec): Buffer {
  const rng = new Prng(spec.seed, 7);
  if (spec.type === 'csv') {
    const rows: string[] = ['date,account,description,amount,balance'];
    let size = rows[0]?.length ?? 0;
    while (size < spec.size) {
      const row =
        `2025-${String(rng.int(1, 12)).padStart(2, '0')}-${String(rng.int(1, 28)).padStart(2, '0')},` +
        `${rng.int(10000, 99999)},${word(rng)} ${word(rng)},${(rng.float() * 2000 - 1000).toFixed(2)},` +
        `${(rng.float() * 90000).toFixed(2)}`;
      rows.push(row);
      size += row.length + 2;
    }
    return Buffer.from(rows.join('\r\n').slice(0, spec.size), 'latin1');
  }
  const bytes = rng.fill(Buffer.alloc(spec.size));
  const magic = { pdf: '%PDF-1.5\n', jpeg: '\xff\xd8\xff\xe0\x00\x10JFIF\x00', docx: 'PK\x03\x04' }[
    spec.type
  ];
  bytes.write(magic, 0, 'latin1');
  return bytes;
}

function boundary(rng: Prng): string {
  return `----=_Part_${rng.int(100000, 999999)}_${rng.hex(16)}`;
}

export interface Recipient {
  user: string;
  address: string;
}

/** Header fields a delivery adds (the part that differs between copies of one mail). */
export function deliveryHeaders(rng: Prng, to: Recipient, at: Date, fromAddress: string): string[] {
  const relay = rng.pick(DOMAINS);
  const mx = `mx${rng.int(1, 4)}.example.org`;
  return [
    `Return-Path: <${fromAddress}>`,
    `Delivered-To: ${to.address}`,
    `Received: from ${mx} (${mx} [10.0.${rng.int(0, 9)}.${rng.int(2, 250)}])`,
    `\tby mail.example.org (Postfix) with ESMTPS id ${rng.hex(10).toUpperCase()}`,
    `\tfor <${to.address}>; ${rfc5322Date(at)}`,
    `Received: from smtp.${relay} (smtp.${relay} [${ip(rng)}])`,
    `\tby mx.example.org (Postfix) with ESMTPS id ${rng.hex(11).toUpperCase()}`,
    `\tfor <${to.address}>; ${rfc5322Date(new Date(at.getTime() - rng.int(1, 30) * 1000))}`,
  ];
}

/** The message's bytes, LF line endings (as in a Maildir; IMAP serves them with CRLF). */
export function renderMessage(plan: MailboxPlan, spec: MailSpec): Buffer {
  const rng = new Prng(plan.seed, spec.index + 1);
  const me: Recipient = { user: plan.user, address: `${plan.user}@example.org` };
  const sent = spec.folder === 'Sent' || spec.folder === 'Drafts';
  const other = person(rng);
  const from = sent ? { name: 'Bench User', address: me.address } : other;
  const to = sent ? other : { name: 'Bench User', address: me.address };
  const subjectWords = Array.from({ length: rng.int(3, 9) }, () => word(rng)).join(' ');
  const subject =
    (spec.reply ? 'Re: ' : '') + subjectWords.charAt(0).toUpperCase() + subjectWords.slice(1);
  const domain = from.address.split('@')[1] ?? 'example.com';
  const headers: string[] = sent ? [] : deliveryHeaders(rng, me, spec.internalDate, from.address);
  if (!sent && rng.chance(0.7)) {
    headers.push(
      fold(
        'DKIM-Signature',
        `v=1; a=rsa-sha256; c=relaxed/relaxed; d=${domain}; s=mail; t=${Math.floor(spec.date.getTime() / 1000)}; ` +
          `bh=${rng.fill(Buffer.alloc(32)).toString('base64')}; h=From:To:Subject:Date:Message-ID:MIME-Version; ` +
          `b=${rng.fill(Buffer.alloc(256)).toString('base64')}`,
      ),
    );
  }
  headers.push(
    `Message-ID: <${rng.hex(16)}.${rng.hex(8)}@${domain}>`,
    `Date: ${rfc5322Date(spec.date)}`,
    `From: "${from.name}" <${from.address}>`,
    `To: "${to.name}" <${to.address}>`,
  );
  if (rng.chance(0.25)) {
    const cc = person(rng);
    headers.push(`Cc: "${cc.name}" <${cc.address}>`);
  }
  headers.push(`Subject: ${subject}`);
  if (spec.reply) {
    const parent = `<${rng.hex(16)}@${rng.pick(DOMAINS)}>`;
    headers.push(`In-Reply-To: ${parent}`, `References: ${parent}`);
  }
  if (rng.chance(0.4))
    headers.push(
      `User-Agent: ${rng.pick(['Mozilla Thunderbird', 'Roundcube Webmail/1.6', 'Mutt/2.2'])}`,
    );
  if (spec.folder.startsWith('Lists/') || spec.folder === 'Newsletters') {
    const list = spec.folder.split('/')[1] ?? 'news';
    headers.push(
      `List-Id: <${list}.lists.example.org>`,
      `List-Unsubscribe: <mailto:${list}-leave@lists.example.org>`,
    );
  }
  headers.push('MIME-Version: 1.0');

  let text = paragraphs(rng, spec.textSize);
  if (spec.reply) {
    const quoted = paragraphs(rng, Math.min(spec.textSize, 2000)).map((p) =>
      p
        .split('\n')
        .map((l) => `> ${l}`)
        .join('\n'),
    );
    text = [...text, `On ${rfc5322Date(spec.date)}, ${other.name} wrote:`, ...quoted];
  }
  text.push(`-- \n${from.name}\n${rng.pick(['Operations', 'Sales', 'Engineering', 'Accounts'])}`);
  const plainBody = text.join('\n\n') + '\n';

  let body: string;
  if (spec.kind === 'plain') {
    headers.push('Content-Type: text/plain; charset=utf-8; format=flowed');
    headers.push('Content-Transfer-Encoding: 8bit');
    body = plainBody;
  } else {
    const alternative = spec.kind === 'alternative' || rng.chance(0.5);
    const textPart = alternative
      ? alternativePart(rng, text, plainBody)
      : `Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${plainBody}`;
    if (spec.kind === 'alternative') {
      body = textPart.slice(textPart.indexOf('\n\n') + 2);
      headers.push(textPart.slice(0, textPart.indexOf('\n\n')));
    } else {
      const b = boundary(rng);
      headers.push(`Content-Type: multipart/mixed; boundary="${b}"`);
      const pieces: Buffer[] = [
        Buffer.from(
          `${headers.join('\n')}\n\nThis is a multi-part message in MIME format.\n` +
            `--${b}\n${textPart}`,
          'utf8',
        ),
      ];
      for (const attachment of spec.attachments) {
        pieces.push(
          Buffer.from(
            `\n--${b}\n` +
              `Content-Type: ${ATTACHMENT_MIME[attachment.type]}; name="${attachment.filename}"\n` +
              `Content-Disposition: attachment; filename="${attachment.filename}"\n` +
              `Content-Transfer-Encoding: base64\n\n`,
            'utf8',
          ),
          base64Lines(attachmentBytes(attachment)),
        );
      }
      pieces.push(Buffer.from(`\n--${b}--\n`, 'utf8'));
      return Buffer.concat(pieces);
    }
  }
  return Buffer.from(`${headers.join('\n')}\n\n${body}`, 'utf8');
}

function alternativePart(rng: Prng, text: string[], plainBody: string): string {
  const b = boundary(rng);
  const html =
    '<html>\n<head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>\n' +
    '<body style="font-family: Arial, sans-serif; font-size: 14px">\n' +
    text
      .map((p) => `<p style="margin: 0 0 1em 0">\n${p.replace(/\n/g, '<br>\n')}\n</p>`)
      .join('\n') +
    '\n</body>\n</html>\n';
  return (
    `Content-Type: multipart/alternative; boundary="${b}"\n\n` +
    `--${b}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n${plainBody}\n` +
    `--${b}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n` +
    `${quotedPrintable(html)}\n--${b}--\n`
  );
}

/** The size IMAP reports (RFC822.SIZE) for LF bytes: every LF becomes CRLF. */
export function crlfSize(raw: Buffer): number {
  let lines = 0;
  for (let i = raw.indexOf(10); i >= 0; i = raw.indexOf(10, i + 1)) lines++;
  return raw.length + lines;
}

/** LF bytes to CRLF (what a client APPENDs; Dovecot serves Maildir files this way). */
export function toCrlf(raw: Buffer): Buffer {
  const out = Buffer.allocUnsafe(crlfSize(raw));
  let from = 0;
  let to = 0;
  for (let i = raw.indexOf(10); i >= 0; i = raw.indexOf(10, i + 1)) {
    to += raw.copy(out, to, from, i);
    out[to++] = 13;
    out[to++] = 10;
    from = i + 1;
  }
  raw.copy(out, to, from);
  return out;
}
