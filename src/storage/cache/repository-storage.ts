import { ForwardingStorage } from '../wrappers/forwarding-storage.js';
import type { StorageRequestCounts } from '../wrappers/counting-storage.js';
import type { CountedStorage } from '../wrappers/wrap-storage.js';

/** Files saved to the local cache and not on the remote yet. */
export interface PendingUploads {
  files: number;
  bytes: number;
  /** Why the remote took none lately, while it fails; absent while it answers. */
  remoteError?: string;
}

/**
 * A repository's storage as a command opens it: counted, and for a remote repository cached, its
 * saves waiting in the cache until the remote takes them.
 */
export interface RepositoryStorage extends CountedStorage {
  pendingUploads(): PendingUploads;
  /** Whether files this run saved are among them (a run that only read left none). */
  savedFilesWaiting(): boolean;
  /**
   * Waits while pending files upload; gives up once none has reached the remote for
   * `patienceMs`, and says what is left.
   */
  finishUploads(patienceMs: number): Promise<PendingUploads>;
}

export const NOTHING_PENDING: PendingUploads = { files: 0, bytes: 0 };

/** A storage every save of which reaches it at once: a local one, or a remote one without a cache. */
export class UncachedStorage extends ForwardingStorage implements RepositoryStorage {
  constructor(private readonly counted: CountedStorage) {
    super(counted);
  }

  requestCounts(): StorageRequestCounts {
    return this.counted.requestCounts();
  }

  pendingUploads(): PendingUploads {
    return { ...NOTHING_PENDING };
  }

  savedFilesWaiting(): boolean {
    return false;
  }

  finishUploads(): Promise<PendingUploads> {
    return Promise.resolve({ ...NOTHING_PENDING });
  }
}
