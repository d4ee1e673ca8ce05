import type { HeaderSummary } from '../mime/header-summary.js';

/**
 * Summaries of the messages an account's backup stored, handed to the catalog with its snapshot
 * so that it need not read them back from the repository. Capped, so that memory stays flat
 * however large the account: beyond the cap the catalog reads the manifests instead.
 */
export class SummaryHints {
  readonly map = new Map<string, HeaderSummary>();

  constructor(private readonly limit = 50_000) {}

  add(manifest: string, summary: HeaderSummary): void {
    if (this.map.size < this.limit) this.map.set(manifest, summary);
  }
}
