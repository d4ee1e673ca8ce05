import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './config-error.js';
import { checkConfigFiles } from './file-checks.js';
import { configSchema, type Config } from './schema.js';
import { checkServer } from './server-checks.js';

export { ConfigError };
export { configPath, DEFAULT_CONFIG_PATH, type LoadedConfig } from './loaded-config.js';
import type { LoadedConfig } from './loaded-config.js';

export async function loadConfig(path: string): Promise<LoadedConfig> {
  const absolute = resolve(path);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? // Most often the default ./mailvault.yml, looked for in another folder.
          'no such file (name the configuration with --config FILE or $MAILVAULT_CONFIG)'
        : code === 'EACCES'
          ? 'permission denied'
          : String(error);
    throw new ConfigError(`cannot read configuration ${absolute}: ${why}`);
  }
  const loaded = {
    path: absolute,
    directory: dirname(absolute),
    config: parseConfig(text, absolute),
  };
  await checkConfigFiles(loaded);
  return loaded;
}

export function parseConfig(text: string, where: string): Config {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const yamlError = document.errors[0];
  if (yamlError) {
    const line = yamlError.linePos?.[0];
    throw new ConfigError(
      `${where}${line ? `:${line.line}` : ''}: invalid YAML: ${(yamlError.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  const result = configSchema.safeParse(plainValue(document, where) ?? {});
  if (!result.success) {
    // A misspelt key also makes the key it was meant to be look missing: name the misspelling.
    const issues = result.error.issues;
    const first = issues.find((issue) => issue.code === 'unrecognized_keys') ?? issues[0];
    throw new ConfigError(`${where}: ${describeIssue(first)}`);
  }
  const config = result.data;
  const names = new Set<string>();
  for (const [i, server] of config.servers.entries()) {
    if (names.has(server.name))
      throw new ConfigError(`${where}: servers[${i}].name: duplicate server name ${server.name}`);
    names.add(server.name);
    checkAuth(server, i, where);
    checkServer(server, i, where);
  }
  checkSetNames(config, where);
  return config;
}

/**
 * The document as plain values. Aliases are expanded here, and a few lines of nested aliases
 * (a "billion laughs") would expand to gigabytes: the parser stops counting at
 * MAX_ALIAS_EXPANSIONS and the file is refused. A real configuration needs no alias at all.
 */
function plainValue(document: Document, where: string): unknown {
  try {
    return document.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    if (error instanceof ReferenceError && /alias/i.test(error.message))
      throw new ConfigError(
        `${where}: invalid YAML: its aliases (*name) expand too far (more than ${MAX_ALIAS_EXPANSIONS} times over); write the values out`,
      );
    throw error;
  }
}

const MAX_ALIAS_EXPANSIONS = 100;

/**
 * `backup NAME` and the snapshot listings find file sets and commands by name alone, so a name
 * may be given once, whichever of the two it names.
 */
function checkSetNames(config: Config, where: string): void {
  const seen = new Map<string, string>();
  const sets = [
    ...config.files.map((set, i) => ({ name: set.name, key: `files[${i}]` })),
    ...config.commands.map((command, i) => ({ name: command.name, key: `commands[${i}]` })),
  ];
  for (const { name, key } of sets) {
    const first = seen.get(name);
    if (first !== undefined)
      throw new ConfigError(`${where}: ${key}.name: ${name} is already the name of ${first}`);
    seen.set(name, key);
  }
}

function checkAuth(server: Config['servers'][number], i: number, where: string): void {
  const auth = server.imap.auth;
  const at = `${where}: servers[${i}].imap.auth`;
  if (auth.mode === 'per-account') {
    const list = server.accounts.list;
    if (!list)
      throw new ConfigError(
        `${at}: mode per-account needs accounts.list with a passwordFile per account`,
      );
    const bare = list.find((entry) => typeof entry === 'string');
    if (bare !== undefined) {
      throw new ConfigError(
        `${where}: servers[${i}].accounts.list: account ${String(bare)} needs a passwordFile (auth mode per-account)`,
      );
    }
  } else {
    if (!auth.user) throw new ConfigError(`${at}.user: required for mode ${auth.mode}`);
    if (!auth.passwordFile)
      throw new ConfigError(`${at}.passwordFile: required for mode ${auth.mode}`);
  }
}

function describeIssue(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return 'invalid configuration';
  const path = formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const prefix = path ? `${path}.` : '';
    return `unknown key ${issue.keys.map((key) => prefix + key).join(', ')}`;
  }
  const message = issue.message
    .replace(/^Invalid input: /, '')
    .replace(/, received undefined$/, ' (required)');
  return path ? `${path}: ${message}` : message;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}
