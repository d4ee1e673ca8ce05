import type { ProgressEvent, ProgressSink } from '../../app/progress.js';
import type { Output } from './output.js';

/**
 * A service's progress events drawn as the CLI's one-line bar (parts done of the total, items,
 * bytes and rate, what is being read); notes for what a person should know as it happens.
 */
export function progressView(
  output: Output,
  label: string,
): { sink: ProgressSink; finish(): void } {
  const bar = output.progress(label);
  const sink = (event: ProgressEvent): void => {
    switch (event.type) {
      case 'started':
        if (event.parts !== null) bar.setTotal(event.parts);
        break;
      case 'items':
        bar.add(event.items, event.bytes);
        break;
      case 'part-started':
        if (event.part.kind !== 'account') bar.setDetail(`${event.part.kind} ${event.part.name}`);
        break;
      case 'folder':
        bar.setDetail(`${event.part.name} ${event.folder}`);
        break;
      case 'part-finished':
        bar.step();
        break;
      case 'waiting':
        output.note(
          `${event.part.source}/${event.part.name}: ${event.holder} is backing it up; this run backs up the rest first, then waits for it and backs up what changed since`,
        );
        break;
      case 'finished':
        bar.finish();
        break;
    }
  };
  return { sink, finish: () => bar.finish() };
}

/** Runs `work` with a bar drawing its progress events, erased when it ends however it ends. */
export async function withProgressView<T>(
  output: Output,
  label: string,
  work: (sink: ProgressSink) => Promise<T>,
): Promise<T> {
  const view = progressView(output, label);
  try {
    return await work(view.sink);
  } finally {
    view.finish();
  }
}
