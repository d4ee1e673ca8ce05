import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { Output } from './output.js';

// A command may read the catalog while the repository key is still being derived: what it says
// must wait for the key, and never appear if the key is refused.

let written: string[];

beforeEach(() => {
  written = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    written.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve: () => void = () => undefined;
  let reject: (e: Error) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => ([resolve, reject] = [res, rej]));
  return { promise, resolve, reject };
}

it('holds what a command prints until the key is unlocked, in order', async () => {
  const output = new Output(false, false, false);
  const key = deferred();
  output.hold(key.promise);
  output.line('first');
  output.table(['id'], [['1']]);
  expect(written).toEqual([]);
  key.resolve();
  await output.settled();
  expect(written.join('')).toMatch(/^first\nid\s*\n1\s*\n$/);
  output.line('after');
  expect(written.at(-1)).toBe('after\n');
});

it('drops what a command printed when the key is refused', async () => {
  const output = new Output(true, false, false);
  const key = deferred();
  output.hold(key.promise);
  output.result([{ subject: 'private' }]);
  key.reject(new Error('wrong passphrase'));
  await expect(output.settled()).rejects.toThrow('wrong passphrase');
  expect(written).toEqual([]);
});

it('writes at once when nothing is held', async () => {
  const output = new Output(false, false, false);
  output.line('now');
  expect(written).toEqual(['now\n']);
  await output.settled();
});

it('leaves a report out with --quiet, but not its problems, warnings or a listing', async () => {
  const errors: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    errors.push(String(chunk));
    return true;
  });
  const report = new Output(false, true, false);
  report.setKind('report');
  report.line('restored 3 items');
  report.table(['FOLDER'], [['INBOX']]);
  report.note('restoring alice');
  report.problem('FAILED  INBOX UID 7: refused');
  report.warn('uploads pending');
  expect(written).toEqual(['FAILED  INBOX UID 7: refused\n']);
  expect(errors).toEqual(['mailvault: warning: uploads pending\n']);

  const listing = new Output(false, true, false);
  listing.table(['FOLDER'], [['INBOX']]);
  expect(written.slice(1)).toEqual(['FOLDER\n', 'INBOX\n']);
});

it('prints names from servers with their control characters escaped', () => {
  const output = new Output(false, false, false);
  output.table(['FOLDER', 'SUBJECT'], [['Evil\u009b2J', 'a\x1b]0;title\x07\nb']]);
  output.line('FAILED  Inbox\x1b[31m: reason\nsecond line');
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  expect(written.join('')).not.toMatch(/[\x1b\x07\u009b]/);
  expect(written).toEqual([
    'FOLDER      SUBJECT\n',
    'Evil\\x9b2J  a\\x1b]0;title\\x07\\nb\n',
    'FAILED  Inbox\\x1b[31m: reason\nsecond line\n',
  ]);
});
