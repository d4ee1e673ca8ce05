import { readFile } from 'node:fs/promises';

/**
 * The system's user and group names, from /etc/passwd and /etc/group, read once. Backups record
 * owners by name as well as by id; restores look the name up first, then fall back to the id,
 * which is what an administrator moving configuration between machines expects.
 */
export class SystemAccounts {
  private constructor(
    private readonly users: NameTable,
    private readonly groups: NameTable,
  ) {}

  static async load(
    files: { passwd: string; group: string } = { passwd: '/etc/passwd', group: '/etc/group' },
  ): Promise<SystemAccounts> {
    return new SystemAccounts(await readTable(files.passwd), await readTable(files.group));
  }

  /** For tests and for systems without account files. */
  static fromText(passwd: string, group: string): SystemAccounts {
    return new SystemAccounts(parseTable(passwd), parseTable(group));
  }

  userName(uid: number): string | null {
    return this.users.byId.get(uid) ?? null;
  }

  groupName(gid: number): string | null {
    return this.groups.byId.get(gid) ?? null;
  }

  /** The id to give a restored file: the name's id on this system, else the recorded id. */
  uidFor(name: string | null, uid: number): number {
    return (name !== null ? this.users.byName.get(name) : undefined) ?? uid;
  }

  gidFor(name: string | null, gid: number): number {
    return (name !== null ? this.groups.byName.get(name) : undefined) ?? gid;
  }
}

interface NameTable {
  byId: Map<number, string>;
  byName: Map<string, number>;
}

async function readTable(path: string): Promise<NameTable> {
  try {
    return parseTable(await readFile(path, 'utf8'));
  } catch {
    // No account file (a minimal container): ids alone.
    return { byId: new Map(), byName: new Map() };
  }
}

/** name:password:id:... lines; the first name of an id wins, as getpwuid(3) would return. */
function parseTable(text: string): NameTable {
  const table: NameTable = { byId: new Map(), byName: new Map() };
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue;
    const [name, , idText] = line.split(':');
    if (!name || idText === undefined || !/^\d+$/.test(idText)) continue;
    const id = Number(idText);
    if (!table.byId.has(id)) table.byId.set(id, name);
    if (!table.byName.has(name)) table.byName.set(name, id);
  }
  return table;
}
