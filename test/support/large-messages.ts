// What the large-message tests share: a multipart message of a chosen size, and a CLI run whose
// peak memory is measured by GNU time.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MAILVAULT_BIN, type Workspace } from './workspace.js';

/**
 * A multipart message of about `size` bytes, CRLF: a text part holding `text`, then a base64
 * attachment of random bytes (incompressible, so the repository stores it all).
 */
export function largeMultipart(size: number, subject: string, text: string): Buffer {
  const attachment = randomBytes(
    Math.max(1000, Math.floor((size - text.length - 2000) * (3 / 4) * (76 / 78))),
  );
  return Buffer.from(
    [
      'From: Alice <alice@example.com>',
      'To: Bob <bob@example.com>',
      `Subject: ${subject}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@example.com>`,
      'Date: Thu, 05 Mar 2026 10:00:00 +0000',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      text,
      '--b1',
      'Content-Type: application/octet-stream; name="scans.bin"',
      'Content-Transfer-Encoding: base64',
      '',
      attachment.toString('base64').replace(/.{76}(?!$)/g, '$&\r\n'),
      '--b1--',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/**
 * A multipart message of about `size` bytes: a short text part with `early`, an attachment, then
 * a short text part with `late`: for what is searched of a large message (its first bytes only).
 */
export function textAround(size: number, early: string, late: string): Buffer {
  const filler = Buffer.alloc(Math.floor(((size - 400) * 3) / 4.1), 7).toString('base64');
  return Buffer.from(
    [
      'From: c@example.com',
      'Subject: long text',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      `${early} opens the message`,
      '--b',
      'Content-Type: application/octet-stream',
      'Content-Transfer-Encoding: base64',
      '',
      (filler.match(/.{1,76}/g) ?? []).join('\r\n'),
      '--b',
      'Content-Type: text/plain',
      '',
      `${late} closes it`,
      '--b--',
      '',
    ].join('\r\n'),
  );
}

export interface MeasuredRun {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** Peak resident set size of the CLI process, KiB. */
  peakKiB: number;
}

/** Runs the CLI on `ws` under /usr/bin/time: its exit, output and peak RSS. */
export async function measuredRun(
  ws: Workspace,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<MeasuredRun> {
  const peakFile = join(ws.dir, `peak-${process.pid}-${randomBytes(4).toString('hex')}`);
  const child = spawn(
    '/usr/bin/time',
    ['-f', '%M', '-o', peakFile, process.execPath, MAILVAULT_BIN, '--config', ws.config].concat([
      '--no-progress',
      ...args,
    ]),
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  );
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (data: Buffer) => out.push(data));
  child.stderr.on('data', (data: Buffer) => err.push(data));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  const peakKiB = Number((await readFile(peakFile, 'utf8')).trim().split('\n').pop());
  await rm(peakFile, { force: true });
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), peakKiB };
}
