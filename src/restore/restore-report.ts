/** What a restore did, per folder: the report printed at the end, and its JSON form. */
export interface RestoreFailure {
  folder: string;
  item?: string;
  uid?: number;
  reason: string;
}

export interface FolderRestoreReport {
  /** The folder as it was backed up. */
  folder: string;
  /** Where it went on the target. */
  target: string;
  created: boolean;
  subscribed: boolean;
  restored: number;
  alreadyPresent: number;
  failed: number;
}

export interface RestoreReport {
  account: string;
  target: string;
  snapshot: string;
  snapshotTime: string;
  folders: FolderRestoreReport[];
  failures: RestoreFailure[];
  totals: {
    restored: number;
    alreadyPresent: number;
    failed: number;
    foldersCreated: number;
    bytes: number;
  };
}
