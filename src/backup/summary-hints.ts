import type { HeaderSummary } from '../mime/header-summary.js';

/**
 * Summaries of the messages the backup stores, which the catalog needs for browsing, handed over
 * with the account's snapshot so the catalog need not read them back from the repository. Capped, so that memory stays flat however large the
 * account: beyond the caps the catalog reads them from the repository instead.
 */
export class SummaryHints {
  readonly map = new Map<string, HeaderSummary>();

  constructor(private readonly limit = 10_000) {}

  add(manifest: string, summary: HeaderSummary): void {
    if (this.map.size < this.limit) this.map.set(manifest, summary);
  }
}
