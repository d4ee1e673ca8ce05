// How fast search text is extracted from messages (src/mime/text-extract.ts), the work a backup's
// text worker does for every new message. Not part of `npm run bench`: run it by itself, before
// and after a change to the extraction, and compare.
//
//   npx tsx bench/text-extraction.ts            (BENCH_MESSAGES=3000 generated messages, seed 1)
//
// Sets: the real-world corpora (../shared/corpora), generated mail as the backup bench makes it,
// the HTML parts of that mail as HTML-only messages (multipart/alternative is read from its plain
// text, so HTML is otherwise rare), and a few hostile HTML bodies. For each: the first call
// (lazy set-up included), then the best of five passes in CPU time (this process's user and
// system time: a busy machine slows the wall clock far more).
//
// BENCH_BASELINE=path/to/other/text-extract.ts measures that version too, its passes interleaved
// with this one's, so both see the same machine (e.g. `git show REV:src/mime/text-extract.ts`
// with the files it imports, put in a folder of src/ so that its imports resolve).
import { performance } from 'node:perf_hooks';
import { corpusMessages } from '../test/support/corpus.js';
import { extractText } from '../src/mime/text-extract.js';

import { planMailbox, renderMessage } from './mailgen.js';

const count = Number(process.env.BENCH_MESSAGES ?? 3000);

function generated(): Buffer[] {
  const plan = planMailbox('bench', count, 1);
  return plan.messages.map((spec) => renderMessage(plan, spec));
}

/** The HTML part of each generated multipart/alternative message, as a message of its own. */
function htmlOnly(messages: readonly Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const raw of messages) {
    const text = raw.toString('utf8');
    const at = text.indexOf('Content-Type: text/html');
    if (at < 0) continue;
    const bodyAt = text.indexOf('\n\n', at);
    const end = text.indexOf('\n--', bodyAt);
    out.push(
      Buffer.from(
        'Subject: html\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n' +
          text.slice(bodyAt + 2, end < 0 ? undefined : end),
        'utf8',
      ),
    );
  }
  return out;
}

function hostile(): Buffer[] {
  const html = (body: string): Buffer =>
    Buffer.from(`Subject: hostile\nContent-Type: text/html; charset=utf-8\n\n${body}`, 'utf8');
  return [
    html('<div>'.repeat(200_000) + 'deep' + '</div>'.repeat(200_000)),
    html('<p>' + '&eacute;&amp;&#233;&#x1F600;'.repeat(50_000) + '</p>'),
    html(`<a title="${'x'.repeat(500_000)}">long attribute</a>`),
    html('<table>' + '<tr><td>cell</td><td>cell</td></tr>'.repeat(50_000) + '</table>'),
    html('<' + 'a'.repeat(400_000)),
    html('<style>' + 'p{color:red}'.repeat(40_000) + '</style><p>after the style</p>'),
  ];
}

type Extract = (raw: Uint8Array) => string;

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function measure(
  name: string,
  messages: readonly Buffer[],
  versions: Array<[string, Extract]>,
): void {
  if (messages.length === 0) return;
  const bytes = messages.reduce((sum, raw) => sum + raw.length, 0);
  const results = versions.map(([label, extract]) => {
    const started = performance.now();
    extract(messages[0] as Buffer);
    return { label, extract, first: performance.now() - started, best: Infinity, slowest: 0 };
  });
  for (let pass = 0; pass < 5; pass++) {
    for (const result of results) {
      const passStarted = cpuMs();
      for (const raw of messages) {
        const one = performance.now();
        result.extract(raw);
        result.slowest = Math.max(result.slowest, performance.now() - one);
      }
      result.best = Math.min(result.best, cpuMs() - passStarted);
    }
  }
  for (const { label, first, best, slowest } of results)
    console.log(
      `${`${name} ${label}`.padEnd(20)} ${String(messages.length).padStart(6)} msgs ${(bytes / 2 ** 20).toFixed(1).padStart(6)} MiB` +
        `  first call ${first.toFixed(1).padStart(6)} ms  pass ${best.toFixed(0).padStart(6)} ms CPU` +
        `  ${((messages.length / best) * 1000).toFixed(0).padStart(7)} msg/s  slowest ${slowest.toFixed(1)} ms`,
    );
}

const mail = generated();
const which = process.argv[2];
const sets: Array<[string, () => Buffer[]]> = [
  ['corpora', () => corpusMessages().map((m) => m.raw)],
  ['generated', () => mail],
  ['html-only', () => htmlOnly(mail)],
  ['hostile', hostile],
];
const versions: Array<[string, Extract]> = [['this', extractText]];
const baseline = process.env.BENCH_BASELINE;
if (baseline) {
  const module = (await import(baseline)) as { extractText: Extract };
  versions.push(['baseline', module.extractText]);
}
for (const [name, make] of sets) if (!which || which === name) measure(name, make(), versions);
