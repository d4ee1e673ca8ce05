import { readFileSync } from 'node:fs';

function version(): string {
  try {
    const url = new URL('../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** Recorded in snapshots: which program wrote them. */
export const PROGRAM = `mailvault ${version()}`;
