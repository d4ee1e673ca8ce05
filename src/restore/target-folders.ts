import type { RestoreTarget, TargetFolder } from './restore-target.js';

/**
 * The folders a target has, and bringing back those it lacks: created (with special-use where the
 * server lets a client set it) and subscribed as asked. Never deletes or renames anything.
 */
export class TargetFolders {
  private constructor(
    private readonly target: RestoreTarget,
    private readonly existing: Map<string, TargetFolder>,
  ) {}

  static async of(target: RestoreTarget): Promise<TargetFolders> {
    return new TargetFolders(
      target,
      new Map((await target.folders()).map((folder) => [folder.path, folder])),
    );
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
