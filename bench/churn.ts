// One day in the life of a mailbox, over IMAP: 1 % of its messages deleted, as many new ones
// delivered, 1 % re-flagged. Deterministic for a given seed and day.
import type { DovecotServer } from '../test/support/dovecot.js';
import { StreamImap, imapDateTime, quote } from './imap-stream.js';
import { planMailbox, renderMessage, toCrlf } from './mailgen.js';
import { Prng } from './prng.js';

export interface ChurnResult {
  messagesBefore: number;
  deleted: number;
  added: number;
  reflagged: number;
  /** IMAP bytes of the new messages. */
  addedBytes: number;
}

function uidSet(uids: number[]): string {
  return [...uids].sort((a, b) => a - b).join(',');
}

/** Applies day `day` (1-based) of churn at `rate` to the account's folders. */
export async function churnDay(
  server: DovecotServer,
  user: string,
  folders: readonly string[],
  day: number,
  seed: number,
  rate = 0.01,
): Promise<ChurnResult> {
  const rng = new Prng(seed, 0xc0de + day);
  const client = await StreamImap.connect(server.host, server.port);
  try {
    await client.masterLogin(user, server.master.user, server.master.password);
    const all: Array<{ folder: string; uid: number }> = [];
    for (const folder of folders) {
      await client.ok([`SELECT ${quote(folder)}`]);
      const searched = await client.ok(['UID SEARCH ALL']);
      for (const line of searched.lines) {
        if (!line.startsWith('* SEARCH')) continue;
        for (const uid of line.slice('* SEARCH'.length).trim().split(' '))
          if (uid) all.push({ folder, uid: Number(uid) });
      }
    }
    const count = Math.max(1, Math.round(all.length * rate));
    // Draw 2 × count distinct messages: the first half is deleted, the second re-flagged.
    const chosen = new Set<number>();
    while (chosen.size < Math.min(all.length, 2 * count)) chosen.add(rng.int(0, all.length - 1));
    const picks = [...chosen].map((i) => all[i]).filter((m) => m !== undefined);
    const doomed = picks.slice(0, count);
    const reflag = picks.slice(count);
    const flagChange =
      day % 3 === 0
        ? '-FLAGS.SILENT (\\Seen)'
        : day % 3 === 1
          ? '+FLAGS.SILENT (\\Flagged)'
          : '+FLAGS.SILENT ($Label2)';
    for (const folder of folders) {
      const gone = doomed.filter((m) => m.folder === folder).map((m) => m.uid);
      const changed = reflag.filter((m) => m.folder === folder).map((m) => m.uid);
      if (gone.length === 0 && changed.length === 0) continue;
      await client.ok([`SELECT ${quote(folder)}`]);
      if (gone.length > 0) {
        await client.ok([`UID STORE ${uidSet(gone)} +FLAGS.SILENT (\\Deleted)`]);
        await client.ok([`UID EXPUNGE ${uidSet(gone)}`]);
      }
      if (changed.length > 0) await client.ok([`UID STORE ${uidSet(changed)} ${flagChange}`]);
    }
    // New mail, delivered today: planned like the rest of the mailbox, dated on the day.
    const plan = planMailbox(user, count, seed * 31 + day);
    const today = Date.parse('2025-11-01T06:00:00Z') + day * 86_400_000;
    let addedBytes = 0;
    const byFolder = new Map<string, Array<string | Buffer>>();
    plan.messages.forEach((spec, i) => {
      spec.internalDate = new Date(today + i * 97_000);
      spec.date = new Date(spec.internalDate.getTime() - 40_000);
      spec.flags = spec.flags.filter((flag) => flag !== '\\Seen');
      const folder = folders.includes(spec.folder) ? spec.folder : 'INBOX';
      const raw = toCrlf(renderMessage(plan, spec));
      addedBytes += raw.length;
      const pieces = byFolder.get(folder) ?? [];
      pieces.push(
        ` (${spec.flags.join(' ')}) "${imapDateTime(spec.internalDate)}" {${raw.length}+}\r\n`,
        raw,
      );
      byFolder.set(folder, pieces);
    });
    for (const [folder, pieces] of byFolder)
      await client.ok([`APPEND ${quote(folder)}`, ...pieces]);
    return {
      messagesBefore: all.length,
      deleted: doomed.length,
      added: plan.messages.length,
      reflagged: reflag.length,
      addedBytes,
    };
  } finally {
    await client.logout();
  }
}
