/**
 * What a notification says. Operations (restore, export, scheduled jobs) describe themselves with
 * these plain values; the notifier turns them into a message, so none of them knows about SMTP.
 */
export type NoticeKind = 'restore' | 'export' | 'job-failure';

export type NoticePhase = 'started' | 'finished' | 'failed';

/** One row of the outcome table: a folder (or collection, account, file) and its counts. */
export interface NoticeRow {
  name: string;
  /** One count per column of the outcome, in the same order. */
  counts: number[];
  /** A short remark shown after the counts, such as "created". */
  note?: string;
}

export interface NoticeFailure {
  /** Where it happened: a folder, an item id, an account. */
  where: string;
  reason: string;
}

/** What an operation did, for its 'finished' notice (and a 'failed' one that got some way). */
export interface NoticeOutcome {
  /** What a row is, the table's first heading: "folder". */
  rowLabel: string;
  /** The count columns, e.g. ['restored', 'already present', 'failed']; also the subject's words. */
  columns: string[];
  rows: NoticeRow[];
  /** One total per column: given rather than summed, as failures need not belong to a row. */
  totals: number[];
  failures: NoticeFailure[];
  /** Extra one-line facts, such as "3 folders created". */
  notes?: string[];
}

export interface Notice {
  kind: NoticeKind;
  phase: NoticePhase;
  /** What is being done, one line without the phase: "restore of alice@example.com". */
  title: string;
  /**
   * The same for every notice of one operation (a UUID): the 'finished' message then answers the
   * 'started' one, so mail clients show them as one thread. Random when absent.
   */
  operationId?: string;
  /** The --notify address: it receives the notice along with the configured admins. */
  initiator?: string;
  /** The operation's parameters in display order: account, target, date, who asked. */
  parameters: Record<string, string>;
  startedAt?: Date;
  finishedAt?: Date;
  outcome?: NoticeOutcome;
  /** Why the operation failed (phase 'failed'). */
  error?: string;
  /** The operation's full report, attached as report.json (the same document --json prints). */
  report?: unknown;
}

/** What became of one notice. It never throws for a sending problem: the caller warns instead. */
export interface NoticeResult {
  /** 'skipped': nobody to tell, or no SMTP configured. */
  status: 'sent' | 'failed' | 'skipped';
  recipients: string[];
  /** Recipients the server refused while taking the message for the others. */
  rejected: string[];
  messageId?: string;
  /** Connection attempts made (at most two). */
  attempts: number;
  /** One line for the operator when something went wrong, ready for output.warn(). */
  warning?: string;
}
