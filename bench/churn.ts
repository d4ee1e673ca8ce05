// One day in the life of a mailbox, over IMAP: some of its messages deleted, some moved to another
// folder, some re-flagged, some new ones delivered, each a share of the mailbox (1 % by
// default). Deterministic for a given seed, day and mix.
import type { DovecotServer } from '../test/support/dovecot.js';
import { StreamImap, imapDateTime, quote } from './imap-stream.js';
import { planMailbox, renderMessage, toCrlf } from './mailgen.js';
import { Prng } from './prng.js';

/** Shares of the mailbox's messages touched each day. */
export interface ChurnMix {
  deleted: number;
  moved: number;
  reflagged: number;
  /** New messages delivered, as a share of the messages already there. */
  delivered: number;
}

/** 1 % deleted, 1 % moved to another folder, 1 % re-flagged, nothing new. */
export const CHURN_WITHOUT_NEW_MAIL: ChurnMix = {
  deleted: 0.01,
  moved: 0.01,
  reflagged: 0.01,
  delivered: 0,
};

/** 1 % deleted, 1 % re-flagged, 1 % new mail delivered. */
export const CHURN_WITH_NEW_MAIL: ChurnMix = {
  deleted: 0.01,
  moved: 0,
  reflagged: 0.01,
  delivered: 0.01,
};

export interface ChurnResult {
  messagesBefore: number;
  deleted: number;
  moved: number;
  added: number;
  reflagged: number;
  /** IMAP bytes of the new messages. */
  addedBytes: number;
}

function uidSet(uids: number[]): string {
  return [...uids].sort((a, b) => a - b).join(',');
}

/** Applies day `day` (1-based) of churn with the given mix to the account's folders. */
export async function churnDay(
  server: DovecotServer,
  user: string,
  folders: readonly string[],
  day: number,
  seed: number,
  mix: ChurnMix = CHURN_WITH_NEW_MAIL,
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
    const count = (share: number): number =>
      share > 0 ? Math.max(1, Math.round(all.length * share)) : 0;
    const nDeleted = count(mix.deleted);
    const nReflagged = count(mix.reflagged);
    const nMoved = count(mix.moved);
    // Draw distinct messages: the first ones are deleted, the next re-flagged, the last moved.
    const chosen = new Set<number>();
    while (chosen.size < Math.min(all.length, nDeleted + nReflagged + nMoved))
      chosen.add(rng.int(0, all.length - 1));
    const picks = [...chosen].map((i) => all[i]).filter((m) => m !== undefined);
    const doomed = picks.slice(0, nDeleted);
    const reflag = picks.slice(nDeleted, nDeleted + nReflagged);
    // Each moved message goes to another folder, drawn after the picks.
    const moves = picks.slice(nDeleted + nReflagged).map((m) => {
      const others = folders.filter((folder) => folder !== m.folder);
      return { ...m, to: others[rng.int(0, others.length - 1)] ?? 'INBOX' };
    });
    const flagChange =
      day % 3 === 0
        ? '-FLAGS.SILENT (\\Seen)'
        : day % 3 === 1
          ? '+FLAGS.SILENT (\\Flagged)'
          : '+FLAGS.SILENT ($Label2)';
    for (const folder of folders) {
      const gone = doomed.filter((m) => m.folder === folder).map((m) => m.uid);
      const changed = reflag.filter((m) => m.folder === folder).map((m) => m.uid);
      const leaving = moves.filter((m) => m.folder === folder);
      if (gone.length === 0 && changed.length === 0 && leaving.length === 0) continue;
      await client.ok([`SELECT ${quote(folder)}`]);
      if (gone.length > 0) {
        await client.ok([`UID STORE ${uidSet(gone)} +FLAGS.SILENT (\\Deleted)`]);
        await client.ok([`UID EXPUNGE ${uidSet(gone)}`]);
      }
      if (changed.length > 0) await client.ok([`UID STORE ${uidSet(changed)} ${flagChange}`]);
      for (const to of new Set(leaving.map((m) => m.to))) {
        const uids = leaving.filter((m) => m.to === to).map((m) => m.uid);
        await client.ok([`UID MOVE ${uidSet(uids)} ${quote(to)}`]);
      }
    }
    // New mail, delivered today: planned like the rest of the mailbox, dated on the day.
    const plan = planMailbox(user, count(mix.delivered), seed * 31 + day);
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
      moved: moves.length,
      added: plan.messages.length,
      reflagged: reflag.length,
      addedBytes,
    };
  } finally {
    await client.logout();
  }
}
