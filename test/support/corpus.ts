// Real-world raw messages from shared/corpora (see its SOURCES.md), for round-trip tests.
//
// What Dovecot 2.3.19 (maildir, the harness's configuration) does with them, found by APPENDing
// each file and FETCHing BODY.PEEK[] (the bytes a backup sees), and checked again by
// dovecot.test.ts: of the 1,026 files, 1 is rejected, 293 are served byte for byte as
// appended, and 732 are served altered, all exactly as servedByDovecot() below predicts:
// - a 0-byte message is refused: "NO Can't save a zero byte message" (mailbox/size-0);
//   1- and 3-byte ones are accepted;
// - a bare LF becomes CRLF (649 files, sisimai maildir/bsd and many of the others);
// - a CR directly before CRLF is dropped: CR CR LF is served as CR LF (1 file);
// - a CR at the very end of the message is dropped (81 files: the 80 CR-only sisimai
//   maildir/mac files and 1 other); other bare CRs (CR-only line ends) are kept;
// - NUL is served as 0x80 in BODY[] (3 files), though it is stored as NUL and BINARY[] serves
//   it as NUL (heldByDovecot() below); other 8-bit bytes are kept;
// - RFC822.SIZE always equals the length of what BODY[] serves.
// That is: on save CRLF becomes LF and a final CR is lost, on output LF becomes CRLF.
// Serving is NOT idempotent: 46 of the mac files end in CR CR, are served ending in one CR,
// and lose that one too when the served bytes are APPENDed again (a restore); so a restored
// message can differ from its backup wherever servedByDovecot(served) !== served.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CorpusMessage {
  /** Path relative to the corpora folder, e.g. "james-mime4j/core/.../simple.msg". */
  name: string;
  raw: Buffer;
}

/**
 * The bytes Dovecot serves as BODY[] for a message APPENDed as `raw` (rules at the top of
 * this file), or null when it refuses the APPEND.
 */
export function servedByDovecot(raw: Uint8Array): Buffer | null {
  return dovecotBytes(raw, 0x80);
}

/**
 * The message Dovecot holds for one APPENDed as `raw`, as a reader that fetches NUL bytes with
 * BINARY sees it (readAccount, and mailvault's backups): served as BODY[] is, but with its NUL
 * bytes.
 */
export function heldByDovecot(raw: Uint8Array): Buffer | null {
  return dovecotBytes(raw, 0);
}

function dovecotBytes(raw: Uint8Array, nul: number): Buffer | null {
  if (raw.length === 0) return null;
  // Saving: CRLF to LF (a CR followed by LF or by the end of the message goes), NUL to 0x80.
  const saved = Buffer.alloc(raw.length);
  let length = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (byte === 0x0d && (i + 1 === raw.length || raw[i + 1] === 0x0a)) continue;
    saved[length++] = byte === 0 ? nul : (byte ?? 0);
  }
  // Serving: LF not preceded by CR to CRLF.
  const served: number[] = [];
  for (let i = 0; i < length; i++) {
    if (saved[i] === 0x0a && (i === 0 || saved[i - 1] !== 0x0d)) served.push(0x0d);
    served.push(saved[i] ?? 0);
  }
  return Buffer.from(served);
}

/** shared/corpora: $MAILVAULT_CORPORA, else ../shared/corpora beside the checkout. */
export function corporaDir(): string {
  const fromEnv = process.env.MAILVAULT_CORPORA;
  if (fromEnv) return resolve(fromEnv);
  // This file is test/support/corpus.ts inside the checkout.
  const checkout = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
  return resolve(checkout, '..', 'shared', 'corpora');
}

function walk(dir: string, keep: (path: string) => boolean, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry);
    const stat = statSync(path);
    if (stat.isDirectory()) walk(path, keep, out);
    else if (stat.isFile() && keep(path)) out.push(path);
  }
}

/**
 * Every raw message file of the corpora, sorted by name: sisimai maildir/** and mailbox/**
 * (mailbox/ holds two mbox files and 0-, 1- and 3-byte files, each taken whole as one
 * message), james-mime4j **\/*.msg, and stalwart-mail-parser resources/eml/** (not its
 * resources/maildir, whose files are 2-byte placeholders). Empty if the corpora are absent.
 * `everything` adds the files that are not quite messages, for parsers: sisimai's
 * to-be-debugged-because/, james-mime4j's split mbox files and stalwart's Maildir placeholders.
 */
export function corpusMessages(options: { everything?: boolean } = {}): CorpusMessage[] {
  const root = corporaDir();
  const paths: string[] = [];
  const all = (): boolean => true;
  walk(join(root, 'sisimai-set-of-emails', 'maildir'), all, paths);
  walk(join(root, 'sisimai-set-of-emails', 'mailbox'), all, paths);
  walk(join(root, 'james-mime4j'), (path) => path.endsWith('.msg'), paths);
  walk(
    join(root, 'stalwart-mail-parser', 'resources', 'eml'),
    (path) => path.endsWith('.eml'),
    paths,
  );
  if (options.everything) {
    walk(join(root, 'sisimai-set-of-emails', 'to-be-debugged-because'), all, paths);
    walk(join(root, 'james-mime4j'), (path) => /\/mbox\.rlug[^/]*$/.test(path), paths);
    walk(join(root, 'stalwart-mail-parser', 'resources', 'maildir'), all, paths);
  }
  return paths
    .map((path) => ({ name: relative(root, path), raw: readFileSync(path) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
