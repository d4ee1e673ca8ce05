import { isAbsolute, resolve } from 'node:path';

/**
 * The repository as a hook is told of it: a URL without its password (a hook's environment
 * shows up in process listings and logs), or an absolute path for a local repository, resolved
 * as the configuration resolves it (relative to its folder).
 */
export function repositoryLocation(url: string, configDirectory: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) return isAbsolute(url) ? url : resolve(configDirectory, url);
  if (scheme === 'file') return decodeURIComponent(new URL(url).pathname);
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1@');
}
