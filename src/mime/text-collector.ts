// Gathers the text of a message's parts up to a limit, with runs of white space made one space
// (search needs the words, not the layout), parts on lines of their own. Pieces come as they are
// decoded; once the limit is reached, `full` tells the producers to stop early, so a huge part
// costs no more than the text that can be kept of it.

/**
 * White space to make one space: runs, and single white space characters other than a space.
 * The same result as /\s+/g, about twice as fast: a lone space, by far the most common, is left.
 */
const SPACES = /\s{2,}|[^\S ]/g;

export class TextCollector {
  private readonly parts: string[] = [];
  private length = 0;
  /** The part being gathered: raw pieces, cleaned when they could fill what is left. */
  private pieces: string[] = [];
  private piecesLength = 0;
  /** A space is due before the next piece. */
  private space = false;

  constructor(private readonly limit: number) {}

  /** No more text fits: what a producer decodes from now on is wasted. */
  get full(): boolean {
    return this.length >= this.limit;
  }

  /** Adds text to the current part, joined to what came before without a space. */
  add(text: string): void {
    if (this.full || text.length === 0) return;
    if (this.space) {
      this.pieces.push(' ');
      this.space = false;
    }
    this.pieces.push(text);
    this.piecesLength += text.length;
    // Cleaning shrinks text; twice the room left is sure to be enough once cleaned, or close.
    if (this.piecesLength > 2 * (this.limit - this.length) + 64) this.settle(false);
  }

  /** Separates the words before from those after (cheaper than adding a space each time). */
  separate(): void {
    this.space = this.pieces.length > 0;
  }

  /** Ends the current part. */
  endPart(): void {
    this.settle(true);
  }

  /** The text gathered, parts on lines of their own, at most `limit` characters. */
  text(): string {
    this.endPart();
    return this.parts.join('\n').slice(0, this.limit);
  }

  private settle(ended: boolean): void {
    if (ended) this.space = false;
    if (this.pieces.length === 0) return;
    const joined = this.pieces.join('').replace(SPACES, ' ');
    const clean = ended ? joined.trim() : joined.trimStart();
    const room = this.limit - this.length;
    if (!ended && clean.length < room) {
      // Not enough to fill the room yet: keep gathering (cleaned, so it is not cleaned twice over).
      this.pieces = [clean];
      this.piecesLength = clean.length;
      return;
    }
    this.pieces = [];
    this.piecesLength = 0;
    if (clean.length === 0) return;
    this.parts.push(clean.slice(0, room));
    this.length += Math.min(clean.length, room) + 1;
  }
}
