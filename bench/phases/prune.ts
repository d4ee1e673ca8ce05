// 15. Prune at scale: a repository of BENCH_PRUNE_OBJECTS small objects (a million by default),
// written through the repository's own writer, referenced by command-output snapshots of
// BENCH_PRUNE_CHUNKS_PER_SNAPSHOT chunks each; a tenth of the snapshots are then forgotten (their
// files removed), so their objects are unneeded. Measured: `mailvault prune` that condemns (the
// mark over every snapshot, a bit per object), then `prune --grace 0s` that deletes, each with
// its wall time and peak RSS, and the `check` after. Packs hold objects of several snapshots, so
// the first prune also repacks those more than a tenth unneeded (--max-unused's default); the
// writer is flushed every BENCH_PRUNE_FLUSH_EVERY snapshots (10).
//
// Standalone: `npx tsx bench/phases/prune.ts` (after `npm run build`).
import { createHash, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Repository } from '../../src/repository/repository.js';
import type { Snapshot } from '../../src/repository/snapshot/snapshot.js';
import { LocalStorage } from '../../src/storage/local/local-storage.js';
import { makeTempDir, removeTempDir } from '../../test/support/servers.js';
import { MAILVAULT_BIN } from '../../test/support/workspace.js';
import { progress, type Bench } from '../common.js';
import { timed, type Timed } from '../proc.js';
import { Report, fmtCount, fmtMiB, fmtSeconds } from '../report.js';

const PASSPHRASE = 'bench prune passphrase';

export interface PruneResult {
  objects: number;
  snapshots: number;
  forgotten: number;
  buildSeconds: number;
  condemn: Timed & {
    condemned: number;
    repacked: number;
    objectsRepacked: number;
    bytesWritten: number;
  };
  remove: Timed & { removed: number };
  check: Timed;
}

function envNumber(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A repository of `objects` chunks in snapshots of `perSnapshot` chunks each. */
export async function buildRepository(
  dir: string,
  objects: number,
  perSnapshot: number,
  flushEvery: number,
) {
  const repository = await Repository.init(new LocalStorage(dir), PASSPHRASE, { scryptCost: 10 });
  const writer = repository.writer();
  const snapshots: string[] = [];
  for (let done = 0; done < objects; done += perSnapshot) {
    const count = Math.min(perSnapshot, objects - done);
    const chunks: string[] = [];
    const hash = createHash('sha256');
    let size = 0;
    for (let i = 0; i < count; i++) {
      // Small and distinct, as a mail server's smallest objects (headers, short bodies) are.
      const data = randomBytes(64);
      hash.update(data);
      size += data.length;
      chunks.push((await writer.save('data', data)).id.toString('hex'));
    }
    const tree = {
      v: 1,
      command: `bench ${snapshots.length}`,
      exitCode: 0,
      stream: { size, sha256: hash.digest('hex'), chunks },
    };
    const treeId = (await writer.save('tree', Buffer.from(JSON.stringify(tree)))).id;
    // Packs span several snapshots, as a backup run's do: forgetting one leaves them sparse.
    if ((snapshots.length + 1) % flushEvery === 0) await writer.flush();
    const snapshot: Snapshot = {
      version: 1,
      kind: 'command',
      source: 'commands',
      name: `bench-${snapshots.length % 10}`,
      time: new Date(Date.now() - (objects - done) * 1000).toISOString(),
      run: `bench-${snapshots.length}`,
      tree: treeId.toString('hex'),
      parent: null,
      hostname: 'bench',
      program: 'bench/phases/prune.ts',
      summary: {},
    };
    snapshots.push(await repository.saveSnapshot(snapshot));
    if (snapshots.length % 10 === 0) progress(`prune bench: ${fmtCount(done + count)} objects`);
  }
  await writer.flush();
  await writer.close();
  await repository.storage.close();
  return snapshots;
}

export async function measurePrune(bench: Pick<Bench, 'work'>): Promise<PruneResult> {
  const objects = envNumber('BENCH_PRUNE_OBJECTS', 1_000_000);
  const perSnapshot = envNumber('BENCH_PRUNE_CHUNKS_PER_SNAPSHOT', 10_000);
  const dir = join(bench.work, 'prune');
  const repo = join(dir, 'repo');
  const started = performance.now();
  const flushEvery = envNumber('BENCH_PRUNE_FLUSH_EVERY', 10);
  const snapshots = await buildRepository(repo, objects, perSnapshot, flushEvery);
  const buildSeconds = (performance.now() - started) / 1000;
  // A tenth of the snapshots forgotten: their objects are what prune frees.
  const { rm } = await import('node:fs/promises');
  const forgotten = snapshots.filter((_, i) => i % 10 === 3);
  for (const name of forgotten) await rm(join(repo, 'snapshots', name));
  await writeFile(join(dir, 'pass'), `${PASSPHRASE}\n`);
  const config = join(dir, 'mailvault.yml');
  await writeFile(
    config,
    `repository:\n  url: ${repo}\n  passwordFile: ${join(dir, 'pass')}\ncatalog:\n  url: ${join(dir, 'catalog.sqlite')}\n`,
  );
  const cli = (args: string[]) =>
    timed(process.execPath, [MAILVAULT_BIN, '--config', config, '--no-progress', ...args]);
  progress('prune bench: prune (condemns)');
  const condemn = await cli(['--json', 'prune']);
  const first = JSON.parse(condemn.stdout) as {
    condemn: unknown[];
    repack: unknown[];
    outcome: { objectsRepacked: number; repackBytesWritten: number } | null;
  };
  const condemned = first.condemn.length;
  progress('prune bench: prune --grace 0s (deletes)');
  const remove = await cli(['--json', 'prune', '--grace', '0s']);
  const removed = (JSON.parse(remove.stdout) as { remove: unknown[] }).remove.length;
  const check = await cli(['check']);
  return {
    objects,
    snapshots: snapshots.length,
    forgotten: forgotten.length,
    buildSeconds,
    condemn: {
      ...condemn,
      condemned,
      repacked: first.repack.length,
      objectsRepacked: first.outcome?.objectsRepacked ?? 0,
      bytesWritten: first.outcome?.repackBytesWritten ?? 0,
    },
    remove: { ...remove, removed },
    check,
  };
}

export function reportPrune(bench: Pick<Bench, 'report' | 'details'>, result: PruneResult): void {
  const { report, details } = bench;
  details.prune = { ...result, condemn: { ...result.condemn, stdout: undefined } };
  const S = `15. Prune (${fmtCount(result.objects)} objects in ${fmtCount(result.snapshots)} snapshots, ${fmtCount(result.forgotten)} forgotten)`;
  report.add({
    id: 'prune.condemn',
    section: S,
    label:
      'prune: mark every snapshot, condemn the unneeded packs, repack the sparse ones (wall, peak RSS)',
    value: result.condemn.seconds,
    unit: 's',
    display: `${fmtSeconds(result.condemn.seconds)}, ${fmtMiB(result.condemn.maxRssKb)} peak RSS; ${result.condemn.condemned} packs condemned, ${result.condemn.repacked} repacked (${fmtCount(result.condemn.objectsRepacked)} objects, ${fmtMiB(result.condemn.bytesWritten / 1024)} written)`,
    target: '',
  });
  report.add({
    id: 'prune.remove',
    section: S,
    label: 'prune --grace 0s: mark again, rewrite the index, delete (wall, peak RSS)',
    value: result.remove.seconds,
    unit: 's',
    display: `${fmtSeconds(result.remove.seconds)}, ${fmtMiB(result.remove.maxRssKb)} peak RSS; ${result.remove.removed} packs deleted`,
    target: '',
  });
  report.add({
    id: 'prune.check',
    section: S,
    label: 'check after prune (wall)',
    value: result.check.seconds,
    unit: 's',
    display: `${fmtSeconds(result.check.seconds)}, ${fmtMiB(result.check.maxRssKb)} peak RSS (the repository took ${fmtSeconds(result.buildSeconds)} to write)`,
    target: '',
  });
}

// Standalone run.
if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const work = await makeTempDir('bench-prune');
  try {
    const report = new Report();
    const bench = { work, report, details: {} };
    reportPrune(bench, await measurePrune(bench));
    console.log(report.table());
  } finally {
    await removeTempDir(work);
  }
}
