import type { FolderRecord } from '../mailbox/account-tree.js';

/**
 * Where a backed-up folder goes on the target: the same name, with the target's hierarchy
 * separator, optionally below another folder (`--into-folder`).
 */
export function targetPath(
  record: Pick<FolderRecord, 'path' | 'delimiter'>,
  targetDelimiter: string,
  intoFolder?: string,
): string {
  const parts = record.delimiter ? record.path.split(record.delimiter) : [record.path];
  const joined = parts.join(targetDelimiter);
  return intoFolder ? `${intoFolder}${targetDelimiter}${joined}` : joined;
}

/** Whether a folder is one of those asked for (a named folder includes its subfolders). */
export function isSelected(
  record: Pick<FolderRecord, 'path' | 'delimiter'>,
  wanted: readonly string[] | undefined,
): boolean {
  if (!wanted || wanted.length === 0) return true;
  return wanted.some((name) => {
    const normalized = name.replace(/^inbox$/i, 'INBOX');
    if (record.path === normalized) return true;
    return record.delimiter !== null && record.path.startsWith(normalized + record.delimiter);
  });
}
