// A large message read from the server in ranges (BODY.PEEK[]<start.length>) into a spool file,
// so that neither imapflow nor mailvault ever holds it whole.
import type { ImapFlow } from 'imapflow';
import { normalizeFlags } from '../../imap/flags.js';
import { NulScreen } from '../../imap/nul-bytes.js';
import { SpoolFile } from '../../spool/spool-file.js';

/** Bytes asked for per range: a few MiB, so a 64 MB message takes a score of round trips. */
export const RANGE_BYTES = 4 * 1024 * 1024;

export interface SpooledMessage {
  uid: number;
  flags: string[];
  date: string;
  spool: SpoolFile;
  /** mayHideNul() of the message, judged range by range as they arrived. */
  mayHideNul: boolean;
}

export interface SpoolOptions {
  /** Where spool files go (the system's temporary folder by default). */
  dir?: string;
  rangeBytes?: number;
}

/**
 * Reads message `uid` of the open folder into a new spool file, range after range until the server
 * sends a short one (RFC822.SIZE is only a hint of where that is). Null when the server no longer
 * returns the message (expunged meanwhile): the caller then reports it as not delivered. The spool
 * is closed on any failure; otherwise the caller closes it.
 */
export async function fetchToSpool(
  client: ImapFlow,
  uid: number,
  options: SpoolOptions = {},
): Promise<SpooledMessage | null> {
  const rangeBytes = options.rangeBytes ?? RANGE_BYTES;
  const spool = await SpoolFile.create(options.dir);
  try {
    let flags: string[] = [];
    let date = '';
    const screen = new NulScreen();
    for (;;) {
      const start = spool.length;
      const first = start === 0;
      let range: Buffer | null = null;
      for await (const message of client.fetch(
        String(uid),
        {
          uid: true,
          flags: first,
          internalDate: first,
          source: { start, maxLength: rangeBytes },
        },
        { uid: true },
      )) {
        if (message.uid !== uid) continue;
        range = message.source ?? Buffer.alloc(0);
        if (first) {
          flags = normalizeFlags(message.flags);
          const when =
            message.internalDate instanceof Date
              ? message.internalDate
              : new Date(String(message.internalDate));
          date = when.toISOString();
        }
      }
      if (range === null) {
        await spool.close();
        return null;
      }
      if (range.length > 0) {
        screen.feed(range);
        await spool.append(range);
      }
      if (range.length < rangeBytes) break;
    }
    if (spool.length === 0) {
      // Nothing to store, as fetchBodies skips a message without a body.
      await spool.close();
      return null;
    }
    return { uid, flags, date, spool, mayHideNul: screen.end() };
  } catch (error) {
    await spool.close();
    throw error;
  }
}
