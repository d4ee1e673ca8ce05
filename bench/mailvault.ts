// mailvault under measurement: its own configuration, repository and catalog in a folder, the
// real CLI (bin/mailvault.js, built from this checkout) run under GNU time.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DovecotServer } from '../test/support/dovecot.js';
import { MAILVAULT_BIN } from '../test/support/workspace.js';
import { fileBytes, timed, type Timed } from './proc.js';

export interface MailvaultRun extends Timed {
  /** The --json document the command printed. */
  json: Record<string, unknown>;
  /** Peaks of process.memoryUsage() sampled inside the CLI, when asked for (MiB). */
  memory?: MemoryPeaks;
}

export interface MemoryPeaks {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/**
 * Preloaded into the CLI (node --import) to sample process.memoryUsage() every 100 ms and write
 * the peaks at exit: says whether a peak RSS is JavaScript objects kept (heapUsed) or buffers
 * in flight (external).
 */
const MEMORY_SAMPLER = `import { writeFileSync } from 'node:fs';
const peaks = { rss: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
const sample = () => {
  const m = process.memoryUsage();
  for (const key of Object.keys(peaks)) peaks[key] = Math.max(peaks[key], m[key] / 1048576);
};
setInterval(sample, 100).unref();
process.on('exit', () => {
  sample();
  writeFileSync(process.env.MAILVAULT_BENCH_MEMORY, JSON.stringify(peaks));
});
`;

export interface MailvaultOptions {
  /** Write a V8 CPU profile of each run into this folder. */
  profileDir?: string;
}

export class MailvaultWorkspace {
  readonly config: string;
  readonly repository: string;

  private constructor(
    readonly dir: string,
    private readonly options: MailvaultOptions,
  ) {
    this.config = join(dir, 'mailvault.yml');
    this.repository = join(dir, 'repo');
  }

  /**
   * A configuration with the defaults a user gets (backup concurrency, restore batch size, the
   * default scrypt cost of the repository key), authenticating as the Dovecot master user.
   */
  static async create(
    server: DovecotServer,
    dir: string,
    accounts: string[],
    options: MailvaultOptions = {},
  ): Promise<MailvaultWorkspace> {
    await mkdir(dir, { recursive: true });
    const workspace = new MailvaultWorkspace(dir, options);
    await writeFile(join(dir, 'repo.pass'), 'correct horse battery staple\n', { mode: 0o600 });
    await writeFile(join(dir, 'admin.pass'), `${server.master.password}\n`, { mode: 0o600 });
    await writeFile(
      workspace.config,
      [
        'repository:',
        `  url: ${workspace.repository}`,
        `  passwordFile: ${join(dir, 'repo.pass')}`,
        'catalog:',
        `  url: ${join(dir, 'catalog.sqlite')}`,
        'servers:',
        '  - name: mail1',
        `    imap: { host: ${server.host}, port: ${server.port}, tls: none, auth: { mode: authzid, user: ${server.master.user}, passwordFile: ${join(dir, 'admin.pass')} } }`,
        `    accounts: { list: [${accounts.join(', ')}] }`,
        '',
      ].join('\n'),
    );
    await workspace.run(['init']);
    return workspace;
  }

  /**
   * Runs `mailvault --json <args>` under GNU time; `profile` names the CPU profile, if one is
   * kept; `sampleMemory` also records the peaks of the process's memory usage.
   */
  async run(args: string[], profile?: string, sampleMemory = false): Promise<MailvaultRun> {
    const node: string[] = [];
    const env = { ...process.env };
    delete env.MAILVAULT_PASSWORD;
    delete env.MAILVAULT_CONFIG;
    const memoryFile = join(this.dir, 'memory-peaks.json');
    if (sampleMemory) {
      const sampler = join(this.dir, 'memory-sampler.mjs');
      await writeFile(sampler, MEMORY_SAMPLER);
      await rm(memoryFile, { force: true });
      node.push(`--import=${pathToFileURL(sampler).href}`);
      env.MAILVAULT_BENCH_MEMORY = memoryFile;
    }
    if (profile && this.options.profileDir) {
      await mkdir(this.options.profileDir, { recursive: true });
      node.push(
        '--cpu-prof',
        `--cpu-prof-dir=${this.options.profileDir}`,
        `--cpu-prof-name=${profile}.cpuprofile`,
      );
    }
    const result = await timed(
      process.execPath,
      [...node, MAILVAULT_BIN, '--config', this.config, '--no-progress', '--json', ...args],
      { env },
    );
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(result.stdout) as Record<string, unknown>;
    } catch {
      throw new Error(
        `mailvault ${args.join(' ')} printed no JSON:\n${result.stdout}\n${result.stderr}`,
      );
    }
    const memory = sampleMemory
      ? (JSON.parse(await readFile(memoryFile, 'utf8')) as MemoryPeaks)
      : undefined;
    return { ...result, json, memory };
  }

  repositoryBytes(): Promise<number> {
    return fileBytes(this.repository);
  }
}

/** The figures of a `backup --json` report the benchmark uses. */
export interface BackupFigures {
  /** Seconds the backup run itself took (after the repository was opened), as reported. */
  runSeconds: number;
  imapCommands: number;
  items: number;
  newItems: number;
  bytesRead: number;
  bytesAdded: number;
}

export function backupFigures(run: MailvaultRun): BackupFigures {
  const json = run.json as {
    seconds?: number;
    imapCommands?: number;
    totals?: { items?: number; newItems?: number; bytesRead?: number; bytesAdded?: number };
    failures?: unknown[];
  };
  if ((json.failures?.length ?? 0) > 0)
    throw new Error(`backup reported failures: ${JSON.stringify(json.failures).slice(0, 2000)}`);
  return {
    runSeconds: json.seconds ?? NaN,
    imapCommands: json.imapCommands ?? NaN,
    items: json.totals?.items ?? NaN,
    newItems: json.totals?.newItems ?? NaN,
    bytesRead: json.totals?.bytesRead ?? NaN,
    bytesAdded: json.totals?.bytesAdded ?? NaN,
  };
}
