/**
 * Progress of long work, as typed events: the CLI draws them as a bar, the server will stream
 * them to a browser. A service emits them to the sink its caller gives and never waits on it.
 */

/** One part of the work: an account, a file set or a command (a source's name for it). */
export interface WorkPart {
  kind: 'account' | 'files' | 'command';
  source: string;
  name: string;
}

export type ProgressEvent =
  /** The work starts, with the number of parts when known. */
  | { type: 'started'; operation: string; parts: number | null }
  | { type: 'part-started'; part: WorkPart }
  /** A folder (or collection) of an account begins. */
  | { type: 'folder'; part: WorkPart; folder: string }
  /** Items done since the last event of this kind, and their bytes. */
  | { type: 'items'; items: number; bytes: number }
  | { type: 'part-finished'; part: WorkPart; ok: boolean }
  /** Another run holds this part: the work does the rest first, then waits for it. */
  | { type: 'waiting'; part: WorkPart; holder: string }
  | { type: 'finished'; outcome: 'ok' | 'partial' | 'failed' };

export type ProgressSink = (event: ProgressEvent) => void;

export const NO_PROGRESS: ProgressSink = () => undefined;
