import type { RestoreTarget, TargetFolder } from './restore-target.js';

/**
 * The target account has no INBOX: it does not exist on that server. Some servers let an
 * administrator act for any name, mailbox or not (Cyrus), and then refuse every folder created
 * for it; so an account exists when its INBOX does, not when a login for it succeeds.
 */
export class AccountMissingError extends Error {
  readonly kind = 'missing-account';
  constructor(where: string) {
    super(
      `${where}: the account has no INBOX, so it does not exist on that server (a login for it is not proof); create it first (its server's provisioning command)`,
    );
    this.name = 'AccountMissingError';
  }
}

/** Whether the target account exists: whether it has an INBOX. */
export async function hasInbox(target: RestoreTarget): Promise<boolean> {
  return (await target.folders()).some((folder) => folder.path.toUpperCase() === 'INBOX');
}

/**
 * The folders a target has, and bringing back those it lacks: created (with special-use where the
 * server lets a client set it) and subscribed as asked. Never deletes or renames anything.
 */
export class TargetFolders {
  private constructor(
    private readonly target: RestoreTarget,
    private readonly existing: Map<string, TargetFolder>,
  ) {}

  /** The target's folders; refuses (AccountMissingError) an account without INBOX. */
  static async of(target: RestoreTarget): Promise<TargetFolders> {
    const folders = await target.folders();
    if (!folders.some((folder) => folder.path.toUpperCase() === 'INBOX'))
      throw new AccountMissingError(target.where);
    return new TargetFolders(target, new Map(folders.map((folder) => [folder.path, folder])));
  }

  has(path: string): boolean {
    return this.existing.has(path);
  }

  /** Creates the folder if missing; returns whether it did. */
  async ensure(path: string, specialUse: string | null): Promise<boolean> {
    if (this.existing.has(path)) return false;
    const created = await this.target.create(path, specialUse);
    this.existing.set(path, {
      path,
      delimiter: this.target.delimiter,
      subscribed: false,
      selectable: true,
    });
    return created;
  }

  /** Subscribes the folder unless it is already; returns whether it did. */
  async subscribe(path: string): Promise<boolean> {
    const folder = this.existing.get(path);
    if (folder?.subscribed) return false;
    await this.target.subscribe(path);
    if (folder) folder.subscribed = true;
    return true;
  }
}
