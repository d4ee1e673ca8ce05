import { randomBytes } from 'node:crypto';
import { chunkerParamsProblem } from '../chunking/index.js';

/**
 * The `config` file at the root of a repository: plain JSON, readable without the key, so that
 * any mailvault can say which format it is looking at before asking for a passphrase.
 */
export interface RepositoryConfig {
  format: 'mailvault-repository';
  /** The repository format version. A reader refuses versions newer than it knows. */
  version: number;
  /** Random, identifies the repository (catalogs and caches are tied to it). */
  id: string;
  created: string;
  chunker: { minSize: number; avgSize: number; maxSize: number };
}

/** The newest format this build writes; it reads every version from 1 up to this one. */
export const FORMAT_VERSION = 1;

export class UnsupportedFormatError extends Error {
  constructor(version: unknown) {
    super(
      `repository format version ${String(version)} is newer than this mailvault reads (up to ${FORMAT_VERSION}); upgrade mailvault`,
    );
    this.name = 'UnsupportedFormatError';
  }
}

export function newRepositoryConfig(chunker: RepositoryConfig['chunker']): RepositoryConfig {
  return {
    format: 'mailvault-repository',
    version: FORMAT_VERSION,
    id: randomBytes(16).toString('hex'),
    created: new Date().toISOString(),
    chunker,
  };
}

export function parseRepositoryConfig(bytes: Buffer, location: string): RepositoryConfig {
  let parsed: RepositoryConfig;
  try {
    parsed = JSON.parse(bytes.toString('utf8')) as RepositoryConfig;
  } catch {
    throw new Error(`${location} is not a mailvault repository: its config file is not JSON`);
  }
  if (parsed.format !== 'mailvault-repository')
    throw new Error(`${location} is not a mailvault repository`);
  if (!Number.isInteger(parsed.version) || parsed.version < 1) {
    throw new Error(`${location}: invalid repository format version ${String(parsed.version)}`);
  }
  if (parsed.version > FORMAT_VERSION) throw new UnsupportedFormatError(parsed.version);
  // Sizes no mailvault writes: a damaged or forged file. Taken as they are, a zero or a huge
  // maxSize would make every backup fail at its first message, or hold gigabytes in memory.
  const chunkerProblem = chunkerParamsProblem(parsed.chunker);
  if (chunkerProblem !== null)
    throw new Error(`${location}: the repository's config file has ${chunkerProblem}`);
  return parsed;
}
