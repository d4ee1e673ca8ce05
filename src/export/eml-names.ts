import { findHeaderEnd } from '../mime/header-block.js';
import { summarizeHeader } from '../mime/header-summary.js';
import { clipUtf8, safeComponent } from './folder-paths.js';

/** Bytes of UTF-8 the subject may take in a file name: readable, and far below the 255 limit. */
const SUBJECT_BYTES = 100;

/** The decoded subject of a message, from its header block. */
export function subjectOf(message: Buffer): string {
  return summarizeHeader(message.subarray(0, findHeaderEnd(message))).subject;
}

/**
 * `UID-SUBJECT.eml`, the subject made safe for any file system and shortened; `UID.eml` when
 * there is no subject to show.
 */
export function emlName(uid: number, subject: string): string {
  const flat = subject.replace(/\s+/g, ' ').trim();
  if (flat === '') return `${uid}.eml`;
  const safe = safeComponent(clipUtf8(flat, SUBJECT_BYTES));
  return safe === '_' ? `${uid}.eml` : `${uid}-${safe}.eml`;
}

/**
 * Names of one folder's files, unique without regard to case (the same UID can come twice in an
 * --all-versions export, after a UIDVALIDITY change): `NAME-2.eml`, `NAME-3.eml`... on a clash.
 */
export class UniqueNames {
  private readonly taken = new Set<string>();

  claim(name: string): string {
    const dot = name.lastIndexOf('.');
    const stem = dot > 0 ? name.slice(0, dot) : name;
    const extension = dot > 0 ? name.slice(dot) : '';
    let candidate = name;
    for (let n = 2; this.taken.has(candidate.toLowerCase()); n++)
      candidate = `${stem}-${n}${extension}`;
    this.taken.add(candidate.toLowerCase());
    return candidate;
  }
}
