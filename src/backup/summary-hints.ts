import type { HeaderSummary } from '../mime/header-summary.js';
import { extractText } from '../mime/text-extract.js';

/**
 * What the backup learns of the messages it stores that the catalog needs too (summaries for
 * browsing, text for search), handed over with the account's snapshot so the catalog need not
 * read the messages back from the repository. Capped, so that memory stays flat however large the
 * account: beyond the caps the catalog reads them from the repository instead.
 */
export class SummaryHints {
  readonly map = new Map<string, HeaderSummary>();
  readonly texts = new Map<string, string>();
  private textBytes = 0;

  constructor(
    private readonly limit = 50_000,
    private readonly textLimitBytes = 64 * 1024 * 1024,
  ) {}

  add(manifest: string, summary: HeaderSummary, sha256: string, raw: Buffer): void {
    if (this.map.size < this.limit) this.map.set(manifest, summary);
    if (this.textBytes < this.textLimitBytes && !this.texts.has(sha256)) {
      const text = extractText(raw);
      this.texts.set(sha256, text);
      this.textBytes += text.length * 2;
    }
  }
}
