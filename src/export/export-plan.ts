import { resolve } from 'node:path';
import { checkOutput, OutputError, type OutputKind } from './output-place.js';

export const EXPORT_FORMATS = ['mbox', 'maildir', 'eml'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Formats of the CLI contract that come with calendar and contact backup, not yet. */
const LATER_FORMATS = ['ics', 'vcf'];

/** What an export writes where, decided from the command line alone (nothing read yet). */
export interface ExportPlan {
  format: ExportFormat;
  /** Absolute path of the export. */
  output: string;
  kind: OutputKind;
  /** mbox: one file for one folder (without its subfolders). */
  singleMbox: boolean;
  /** eml: a zip file of the tree. */
  zip: boolean;
  /** --all-versions: the manifest files beside the export. */
  manifest: { json: string; csv: string } | null;
}

export function parseFormat(text: string): ExportFormat {
  const format = text.toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(format)) return format as ExportFormat;
  if (LATER_FORMATS.includes(format))
    throw new OutputError(
      `--format ${text}: calendar and contact export is not available yet; use mbox, maildir or eml`,
    );
  throw new OutputError(`--format ${text}: unknown format; use mbox, maildir or eml`);
}

/**
 * The output's shape: `--output X.zip` with eml is a zip file; `--output X.mbox` with mbox is a
 * single mbox file and takes exactly one --folder; anything else is a directory.
 */
export function planExport(
  formatText: string,
  output: string,
  folders: readonly string[],
  allVersions: boolean,
): ExportPlan {
  const format = parseFormat(formatText);
  if (output.trim() === '') throw new OutputError('--output: name the file or directory to write');
  const path = resolve(output);
  const zip = format === 'eml' && /\.zip$/i.test(path);
  const singleMbox = format === 'mbox' && /\.mbox$/i.test(path);
  if (singleMbox && folders.length !== 1)
    throw new OutputError(
      `--output ${output}: a single .mbox file holds one folder; name it with one --folder, or name a directory`,
    );
  return {
    format,
    output: path,
    kind: zip || singleMbox ? 'file' : 'directory',
    singleMbox,
    zip,
    manifest: allVersions ? { json: `${path}.manifest.json`, csv: `${path}.manifest.csv` } : null,
  };
}

/** Checks every path the export will write (see checkOutput). */
export async function checkPlan(plan: ExportPlan, force: boolean): Promise<void> {
  await checkOutput(plan.output, plan.kind, force);
  if (plan.manifest) {
    await checkOutput(plan.manifest.json, 'file', force);
    await checkOutput(plan.manifest.csv, 'file', force);
  }
}
