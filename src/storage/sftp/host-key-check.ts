import { readFile } from 'node:fs/promises';
import {
  checkHostKey,
  fingerprint,
  keyTypeOf,
  knownHostsLine,
  knownHostsName,
  knownKeyTypes,
  parseKnownHosts,
  type KnownHostEntry,
} from './known-hosts.js';

export interface HostKeyPolicy {
  knownHostsFile: string;
  /** Trust a key the file does not know (never one that contradicts it). */
  acceptUnknownHostKey: boolean;
  warn(message: string): void;
}

/** The server host key algorithms ssh2 offers, in its own default order. */
const DEFAULT_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** The algorithms that prove a server holds a key of this type. */
function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/**
 * Decides about the key one connection's server presents, and keeps the reason when it refuses
 * it: ssh2 reports only "Host denied", and a person needs the fingerprint and the line to add.
 */
export class HostKeyCheck {
  /** Why the key was refused, once it has been. */
  refusal: string | undefined;
  /** ssh2 asks again at each key re-exchange of a long transfer: the warning is said once. */
  private warned = false;

  private constructor(
    private readonly entries: KnownHostEntry[],
    private readonly host: string,
    private readonly port: number,
    private readonly policy: HostKeyPolicy,
  ) {}

  /** Reads the known_hosts file afresh (a missing file knows no host). */
  static async load(host: string, port: number, policy: HostKeyPolicy): Promise<HostKeyCheck> {
    let text = '';
    try {
      text = await readFile(policy.knownHostsFile, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    return HostKeyCheck.fromText(text, host, port, policy);
  }

  static fromText(text: string, host: string, port: number, policy: HostKeyPolicy): HostKeyCheck {
    return new HostKeyCheck(parseKnownHosts(text), host, port, policy);
  }

  /**
   * Host key algorithms with the types the file records for this host first, as ssh does: a
   * server holding several keys then proves the one we know, not one we would call unknown.
   */
  algorithms(): string[] {
    const preferred = knownKeyTypes(this.entries, this.host, this.port).flatMap(algorithmsFor);
    return [...new Set([...preferred, ...DEFAULT_ALGORITHMS])];
  }

  /** ssh2's hostVerifier: true lets the connection go on. */
  verify(key: Buffer): boolean {
    const verdict = checkHostKey(this.entries, this.host, this.port, key);
    const line = knownHostsLine(this.host, this.port, key);
    const presented = `${keyTypeOf(key)} key ${fingerprint(key)}`;
    const file = this.policy.knownHostsFile;
    switch (verdict.status) {
      case 'known':
        return true;
      case 'unknown':
        if (this.policy.acceptUnknownHostKey) {
          if (this.warned) return true;
          this.warned = true;
          this.policy.warn(
            `accepting the unknown host key of ${knownHostsName(this.host, this.port)} ` +
              `(${presented}) because acceptUnknownHostKey is set; to trust it for good, add ` +
              `this line to ${file}: ${line}`,
          );
          return true;
        }
        this.refusal =
          `the server's host key is not in ${file} (${presented}); if that is the server's ` +
          `key (compare with ssh-keygen -lf on the server's host key), add this line to the ` +
          `file: ${line}`;
        return false;
      case 'mismatch':
        this.refusal =
          `the server presents a ${presented} that differs from the host key recorded in ` +
          `${file} (line ${verdict.lines.join(', ')}): refusing to connect, as someone may be ` +
          `impersonating the server; if its key was changed on purpose, replace that line ` +
          `with: ${line}`;
        return false;
      case 'revoked':
        this.refusal = `the server presents a ${presented} that ${file} marks @revoked (line ${verdict.line})`;
        return false;
    }
  }
}
