import { execFile, execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  symlinkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkOutputFile,
  OutputFileError,
  writeOutputFile,
  writeOutputStream,
} from './output-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailvault-output-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function* parts(...texts: string[]): AsyncGenerator<Buffer> {
  for (const text of texts) yield Buffer.from(text);
}

describe('--output files', () => {
  it('are written whole, readable by their owner only, with nothing left beside them', async () => {
    const path = join(dir, 'db.dump');
    expect(await writeOutputFile(path, parts('one ', 'two ', 'three'))).toBe(13);
    expect(readFileSync(path, 'utf8')).toBe('one two three');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['db.dump']);
  });

  it('are not created when the stream fails halfway', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('half a dump');
      throw new Error('damaged');
    }
    await expect(writeOutputFile(join(dir, 'db.dump'), failing())).rejects.toThrow('damaged');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('replace an existing file only once the new one is complete', async () => {
    const path = join(dir, 'db.dump');
    writeFileSync(path, 'old');
    await checkOutputFile(path, true);
    await writeOutputFile(path, parts('new'));
    expect(readFileSync(path, 'utf8')).toBe('new');
  });

  it('refuse an existing file without --force, a directory, and a missing folder', async () => {
    const path = join(dir, 'db.dump');
    writeFileSync(path, 'old');
    await expect(checkOutputFile(path, false)).rejects.toThrow(
      new OutputFileError(`--output ${path} exists; add --force to replace it`),
    );
    mkdirSync(join(dir, 'sub'));
    await expect(checkOutputFile(join(dir, 'sub'), true)).rejects.toThrow(/is a directory/);
    await expect(checkOutputFile(join(dir, 'nowhere', 'x'), false)).rejects.toThrow(
      /its folder .* does not exist/,
    );
    await checkOutputFile(join(dir, 'new.dump'), false);
    await checkOutputFile('-', false);
  });

  it('write a device or a named pipe in place, never renaming over it', async () => {
    await checkOutputFile('/dev/null', false);
    expect(await writeOutputFile('/dev/null', parts('discarded'))).toBe(9);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const reader = new Promise<string>((resolve, reject) =>
      execFile('cat', [fifo], (error, stdout) => (error ? reject(error) : resolve(stdout))),
    );
    expect(await writeOutputFile(fifo, parts('through ', 'a pipe'))).toBe(14);
    expect(await reader).toBe('through a pipe');
    expect(statSync(fifo).isFIFO()).toBe(true);
  });

  it('follow a symbolic link to the file it names', async () => {
    const real = join(dir, 'real.dump');
    const link = join(dir, 'latest.dump');
    writeFileSync(real, 'old');
    symlinkSync(real, link);
    await expect(checkOutputFile(link, false)).rejects.toThrow(/exists; add --force/);
    await writeOutputFile(link, parts('new'));
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, 'utf8')).toBe('new');
  });

  it('may be a stream such as standard output', async () => {
    const sink = new PassThrough();
    const received: Buffer[] = [];
    sink.on('data', (chunk: Buffer) => received.push(chunk));
    expect(await writeOutputStream(parts('a', 'bc'), sink)).toBe(3);
    expect(Buffer.concat(received).toString()).toBe('abc');
  });
});
