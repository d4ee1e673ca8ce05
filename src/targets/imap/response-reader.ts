/**
 * Splits what an IMAP server sends into whole responses: one line, with any literals it carries
 * ({n} followed by n bytes) folded in, so a literal never breaks the framing.
 */
export interface ServerResponse {
  /** '*' untagged, '+' continuation, or the command tag. */
  tag: string;
  /** The response after the tag, literals replaced by their length in braces. */
  text: string;
}

const LITERAL_AT_END = /\{(\d+)\+?\}$/;

export class ResponseReader {
  private buffer: Buffer = Buffer.alloc(0);
  private scanFrom = 0;
  private parts: string[] = [];
  private literalBytes = -1;

  constructor(private readonly onResponse: (response: ServerResponse) => void) {}

  push(data: Buffer): void {
    this.buffer = this.buffer.length === 0 ? data : Buffer.concat([this.buffer, data]);
    for (;;) {
      if (this.literalBytes >= 0) {
        if (this.buffer.length < this.literalBytes) return;
        // The literal's content is of no interest to a writer; keep the framing only.
        this.buffer = this.buffer.subarray(this.literalBytes);
        this.literalBytes = -1;
        this.scanFrom = 0;
        continue;
      }
      const end = this.buffer.indexOf('\r\n', this.scanFrom, 'latin1');
      if (end < 0) {
        this.scanFrom = Math.max(0, this.buffer.length - 1);
        return;
      }
      const line = this.buffer.toString('utf8', 0, end);
      this.buffer = this.buffer.subarray(end + 2);
      this.scanFrom = 0;
      this.parts.push(line);
      const literal = LITERAL_AT_END.exec(line);
      if (literal) {
        this.literalBytes = Number(literal[1]);
        continue;
      }
      const whole = this.parts.join('');
      this.parts = [];
      const space = whole.indexOf(' ');
      this.onResponse(
        space < 0
          ? { tag: whole, text: '' }
          : { tag: whole.slice(0, space), text: whole.slice(space + 1) },
      );
    }
  }
}

/** The status and response code of a tagged or untagged status response: "OK [APPENDUID 1 2] done". */
export function parseStatus(text: string): { status: string; code: string | null; detail: string } {
  const match = /^(OK|NO|BAD|BYE|PREAUTH)\s*(?:\[([^\]]*)\])?\s*(.*)$/i.exec(text);
  if (!match) return { status: '', code: null, detail: text };
  return { status: (match[1] ?? '').toUpperCase(), code: match[2] ?? null, detail: match[3] ?? '' };
}
