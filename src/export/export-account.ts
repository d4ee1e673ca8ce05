import { basename } from 'node:path';
import { createAssembler, type MessageAssembler } from '../mailbox/assembly/message-assembler.js';
import { messageRecipe } from '../mailbox/message-store.js';
import { isLargeMessage, verifyMessage } from '../mailbox/message-stream.js';
import type { Repository } from '../repository/repository.js';
import { EmlWriter } from './eml-writer.js';
import { checkPlan, type ExportPlan } from './export-plan.js';
import type { ExportSource, SourceMessage } from './export-source.js';
import type { ExportDescription, ExportWriter, StreamedMessage } from './export-writer.js';
import { MaildirWriter } from './maildir-writer.js';
import { ManifestWriter, manifestRecord } from './manifest.js';
import { MboxWriter } from './mbox-writer.js';
import { beginOutput, commitOutput, discardOutput, type OutputPlace } from './output-place.js';
import { readAhead } from './read-ahead.js';

export interface ExportOptions {
  repository: Repository;
  plan: ExportPlan;
  force: boolean;
  source: ExportSource;
  description: ExportDescription;
  /** Threads that put messages together (default: one per core). */
  workers?: number;
  onFolder?: (folder: string) => void;
  onMessages?: (count: number, bytes: number) => void;
  /** Messages at least this large are written as a stream (default LARGE_MESSAGE_BYTES). */
  largeMessageBytes?: number;
}

export interface FolderExport {
  folder: string;
  messages: number;
  bytes: number;
  failed: number;
}

export interface ExportFailure {
  folder: string;
  uid: number;
  item: string | null;
  reason: string;
}

export interface ExportOutcome {
  output: string;
  manifest: { json: string; csv: string } | null;
  folders: FolderExport[];
  failures: ExportFailure[];
  messages: number;
  bytes: number;
  warnings: string[];
}

function createWriter(
  plan: ExportPlan,
  root: string,
  description: ExportDescription,
): ExportWriter {
  if (plan.format === 'maildir') return new MaildirWriter(root, description);
  if (plan.format === 'eml') return new EmlWriter(root, description, plan.zip);
  return new MboxWriter(root, description, plan.singleMbox ? basename(plan.output) : undefined);
}

/**
 * Writes the messages of an export source in the plan's format, message by message (a few read
 * and put together ahead), under temporary names moved into place only when everything is
 * written. A message that cannot be read from the repository is reported and skipped; any
 * other failure removes what was written and is thrown.
 */
export async function exportAccount(options: ExportOptions): Promise<ExportOutcome> {
  const { plan } = options;
  // Checked again here: the command checked before opening the repository, time has passed.
  await checkPlan(plan, options.force);
  const places: OutputPlace[] = [];
  let writer: ExportWriter | null = null;
  let manifest: ManifestWriter | null = null;
  const assembler = createAssembler(options.repository.key.encryption, options.workers);
  try {
    const main = await beginOutput(plan.output, plan.kind);
    places.push(main);
    writer = createWriter(plan, main.temporary, options.description);
    if (plan.manifest) {
      const json = await beginOutput(plan.manifest.json, 'file');
      places.push(json);
      const csv = await beginOutput(plan.manifest.csv, 'file');
      places.push(csv);
      manifest = await ManifestWriter.create(json.temporary, csv.temporary, {
        ...options.description,
        export: basename(plan.output),
      });
    }
    const outcome = await writeAll(options, writer, manifest, assembler);
    await writer.finish();
    await manifest?.close();
    // The export itself last: once it is in place, everything is.
    for (const place of [...places.slice(1), main]) await commitOutput(place);
    return { ...outcome, warnings: writer.warnings };
  } catch (error) {
    await writer?.abort().catch(() => undefined);
    await manifest?.abort();
    for (const place of places) await discardOutput(place).catch(() => undefined);
    throw error;
  } finally {
    await assembler.close();
  }
}

async function writeAll(
  options: ExportOptions,
  writer: ExportWriter,
  manifest: ManifestWriter | null,
  assembler: MessageAssembler,
): Promise<Omit<ExportOutcome, 'warnings'>> {
  const outcome: Omit<ExportOutcome, 'warnings'> = {
    output: options.plan.output,
    manifest: options.plan.manifest,
    folders: [],
    failures: [],
    messages: 0,
    bytes: 0,
  };
  const load = (message: SourceMessage): Promise<Buffer | StreamedMessage | Error> =>
    (isLargeMessage(message.size, options.largeMessageBytes)
      ? streamed(options.repository, message.manifest)
      : messageRecipe(options.repository, message.manifest).then((recipe) =>
          assembler.assemble(recipe),
        )
    ).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  for (const folder of options.source.folders) {
    options.onFolder?.(folder.path);
    const report: FolderExport = { folder: folder.path, messages: 0, bytes: 0, failed: 0 };
    outcome.folders.push(report);
    await writer.openFolder(
      folder,
      writer.keywordsFirst ? await keywordsOf(options.source.messages(folder)) : undefined,
    );
    for await (const [message, bytes] of readAhead(options.source.messages(folder), load)) {
      if (bytes instanceof Error) {
        const reason = `cannot read it from the repository: ${bytes.message}`;
        report.failed++;
        outcome.failures.push({
          folder: folder.path,
          uid: message.uid,
          item: message.history?.key ?? null,
          reason,
        });
        await manifest?.add(manifestRecord(message, null, reason));
        continue;
      }
      const file = Buffer.isBuffer(bytes)
        ? await writer.write(message, bytes)
        : await writer.writeStream(message, bytes);
      const size = Buffer.isBuffer(bytes) ? bytes.length : bytes.size;
      await manifest?.add(manifestRecord(message, file, null));
      report.messages++;
      report.bytes += size;
      options.onMessages?.(1, size);
    }
    await writer.closeFolder();
    outcome.messages += report.messages;
    outcome.bytes += report.bytes;
  }
  return outcome;
}

/**
 * A large message checked in a pass that keeps only its first piece (the header object, at most
 * 256 KiB), to be written as it is read again.
 */
async function streamed(repository: Repository, manifest: string): Promise<StreamedMessage> {
  let header: Buffer | null = null;
  const verified = await verifyMessage(repository, manifest, (piece) => {
    header ??= piece;
  });
  return {
    size: verified.size,
    header: header ?? Buffer.alloc(0),
    pieces: () => verified.pieces(),
  };
}

/**
 * Every keyword the messages have, in the order first met: a pass over the folder's listing
 * (its flags, no message bytes) before it is written.
 */
async function keywordsOf(messages: AsyncIterable<SourceMessage>): Promise<string[]> {
  const keywords = new Set<string>();
  for await (const message of messages)
    for (const flag of message.flags) if (!flag.startsWith('\\')) keywords.add(flag);
  return [...keywords];
}
