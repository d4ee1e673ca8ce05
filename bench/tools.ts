// The tools an administrator would use instead, run side by side with mailvault on the same
// server and the same mail: mbsync (isync) to pull an account to a Maildir and push it back,
// restic and borg to back up that Maildir.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DovecotServer } from '../test/support/dovecot.js';
import { fileBytes, run, timed, type Timed } from './proc.js';

export const MBSYNC = '/usr/bin/mbsync';
export const RESTIC = '/usr/bin/restic';
export const BORG = '/usr/bin/borg';

/**
 * mbsync between Dovecot accounts and one local Maildir: channel `pull` copies `from` into the
 * Maildir, channel `push` copies the Maildir into `to`. INTERNALDATE is kept both ways
 * (CopyArrivalDate), as mailvault keeps it.
 */
export class Mbsync {
  readonly maildir: string;
  private readonly config: string;

  private constructor(readonly dir: string) {
    this.maildir = join(dir, 'maildir');
    this.config = join(dir, 'mbsyncrc');
  }

  static async create(
    server: DovecotServer,
    dir: string,
    from: string,
    to: string,
  ): Promise<Mbsync> {
    const mbsync = new Mbsync(dir);
    await mkdir(mbsync.maildir, { recursive: true });
    await mkdir(join(dir, 'state-pull'), { recursive: true });
    await mkdir(join(dir, 'state-push'), { recursive: true });
    const account = (name: string, user: string): string[] => [
      `IMAPAccount ${name}`,
      `Host ${server.host}`,
      `Port ${server.port}`,
      `User ${user}*${server.master.user}`,
      `Pass ${server.master.password}`,
      'SSLType None',
      'AuthMechs LOGIN',
      '',
      `IMAPStore ${name}-store`,
      `Account ${name}`,
      '',
    ];
    await writeFile(
      mbsync.config,
      [
        // Not mbsync's default (yes: an fsync per message, 3–4× slower here): the PRODUCT.md
        // figures (≈1,500 msg/s) were taken without it, and mailvault syncs per 8 MB pack.
        'FSync no',
        '',
        ...account('from', from),
        ...account('to', to),
        'MaildirStore local',
        `Path ${mbsync.maildir}/`,
        `Inbox ${mbsync.maildir}/INBOX`,
        'SubFolders Verbatim',
        '',
        'Channel pull',
        'Far :from-store:',
        'Near :local:',
        'Patterns *',
        'Create Near',
        'Sync Pull',
        'CopyArrivalDate yes',
        `SyncState ${join(dir, 'state-pull')}/`,
        '',
        'Channel push',
        'Far :to-store:',
        'Near :local:',
        'Patterns *',
        'Create Far',
        'Sync Push',
        'CopyArrivalDate yes',
        `SyncState ${join(dir, 'state-push')}/`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return mbsync;
  }

  pull(): Promise<Timed> {
    return timed(MBSYNC, ['-c', this.config, '-q', 'pull']);
  }

  /**
   * A run with nothing to do. mbsync sleeps until the next second when a Maildir folder was
   * modified in the current one (so that it cannot miss a message delivered in that second);
   * right after the first run that would add a second that a nightly run never pays.
   */
  async pullAgain(): Promise<Timed> {
    await new Promise((resolve) => setTimeout(resolve, 1100));
    return this.pull();
  }

  push(): Promise<Timed> {
    return timed(MBSYNC, ['-c', this.config, '-q', 'push']);
  }
}

/** restic with its defaults (repository format 2, compression auto), cache kept in `dir`. */
export class Restic {
  readonly repository: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(readonly dir: string) {
    this.repository = join(dir, 'repo');
    this.env = {
      ...process.env,
      RESTIC_PASSWORD: 'correct horse battery staple',
      RESTIC_CACHE_DIR: join(dir, 'cache'),
      RESTIC_REPOSITORY: this.repository,
    };
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await timed(RESTIC, ['init', '--repository-version', '2'], { env: this.env });
  }

  /** Backs up `path` (the same host and path each time, so later runs use the previous as parent). */
  backup(path: string): Promise<Timed> {
    return timed(RESTIC, ['backup', '--quiet', '--host', 'bench', path], { env: this.env });
  }

  size(): Promise<number> {
    return fileBytes(this.repository);
  }
}

/** borg with `--compression zstd` (level 3) and repokey encryption, its cache kept in `dir`. */
export class Borg {
  readonly repository: string;
  private readonly env: NodeJS.ProcessEnv;
  private archives = 0;

  constructor(readonly dir: string) {
    this.repository = join(dir, 'repo');
    this.env = {
      ...process.env,
      BORG_PASSPHRASE: 'correct horse battery staple',
      BORG_BASE_DIR: join(dir, 'base'),
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await timed(BORG, ['init', '--encryption', 'repokey', this.repository], { env: this.env });
  }

  backup(path: string): Promise<Timed> {
    this.archives++;
    return timed(
      BORG,
      ['create', '--compression', 'zstd', `${this.repository}::run${this.archives}`, path],
      { env: this.env },
    );
  }

  size(): Promise<number> {
    return fileBytes(this.repository);
  }
}

/** Versions of the tools, for the report. */
export async function toolVersions(): Promise<Record<string, string>> {
  const first = async (command: string, args: string[]): Promise<string> => {
    const result = await run(command, args).catch(() => ({ stdout: '', stderr: '' }));
    return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? '';
  };
  return {
    node: process.version,
    dovecot: await first('/usr/sbin/dovecot', ['--version']),
    mbsync: await first(MBSYNC, ['--version']),
    restic: await first(RESTIC, ['version']),
    borg: await first(BORG, ['--version']),
  };
}
