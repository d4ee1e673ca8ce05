import type { AppendMessage, AppendOutcome } from '../targets/imap/imap-writer.js';
import type {
  BodyHashes,
  PresentMessage,
  TargetFolder,
} from '../targets/imap/imap-target-reader.js';

/** Where a mail restore writes: an account on a server (IMAP is one such target). */
export interface RestoreTarget {
  /** The account and server, for messages ("alice on mail1"). */
  readonly where: string;
  /** The target's hierarchy separator. */
  readonly delimiter: string;
  /** APPEND commands that may be in flight at once. */
  readonly appendsInFlight: number;
  folders(): Promise<TargetFolder[]>;
  present(path: string): Promise<PresentMessage[]>;
  bodyHashes(path: string, uids: readonly number[]): Promise<Map<number, BodyHashes>>;
  create(path: string, specialUse: string | null): Promise<boolean>;
  subscribe(path: string): Promise<void>;
  append(path: string, messages: readonly AppendMessage[]): Promise<AppendOutcome>;
  close(): Promise<void>;
}

export type { AppendMessage, BodyHashes, PresentMessage, TargetFolder };
