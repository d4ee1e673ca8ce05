import type {
  FetchedMessage,
  FolderChanges,
  FolderSince,
  FolderStatus,
} from '../sources/imap/imap-account-reader.js';

/** What the backup needs from a mail source for one account (the IMAP reader is one). */
export interface MailboxReader {
  readonly usable: boolean;
  folders(): Promise<{ folders: FolderStatus[]; orphanSubscriptions: string[] }>;
  changes(path: string, since: FolderSince | null): Promise<FolderChanges>;
  messages(path: string, uids: readonly number[]): AsyncIterable<FetchedMessage>;
  /** Which of these UIDs the folder still holds. */
  present(path: string, uids: readonly number[]): Promise<Set<number>>;
  close(): Promise<void>;
}

export type { FetchedMessage, FolderChanges, FolderSince, FolderStatus };

/** The size of a fetched message's bytes, wherever they are held. */
export function fetchedSize(message: FetchedMessage): number {
  return message.spool ? message.spool.length : message.raw.length;
}
