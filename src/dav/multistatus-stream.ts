// A 207 Multi-Status answer read as it arrives, one response element at a time, for answers as
// large as a collection (a calendar-query on a server that sends every item whole). Only the
// response being read is held: each is parsed on its own, wrapped in the root element's start
// tag so that the namespace prefixes declared there still apply.
import { parseMultistatus, type MultistatusResponse } from './multistatus.js';
import { XmlError } from './xml-tree.js';

/** Cuts a multistatus document, fed in pieces, into its top-level children. */
export class MultistatusSplitter {
  private buffer = '';
  /** Where scanning resumes in `buffer`. */
  private at = 0;
  /** Element depth at `at`: 0 outside the root, 1 between the root's children. */
  private depth = 0;
  /** Where the root's child being read began in `buffer`, or -1 between children. */
  private childStart = -1;
  private root: { startTag: string; name: string } | null = null;
  private closed = false;

  /** The responses completed by this piece of text. */
  push(text: string): MultistatusResponse[] {
    this.buffer += text;
    const completed: MultistatusResponse[] = [];
    while (!this.closed) {
      const open = this.buffer.indexOf('<', this.at);
      if (open === -1) {
        this.at = this.buffer.length;
        break;
      }
      const end = markupEnd(this.buffer, open);
      if (end === -1) {
        this.at = open;
        break;
      }
      this.at = end;
      completed.push(...this.markup(open, end));
    }
    this.forgetRead();
    return completed;
  }

  /** Characters held: the response being read, and markup not yet complete. */
  get held(): number {
    return this.buffer.length;
  }

  /** Throws when the document stopped before its root element closed. */
  end(): void {
    if (!this.closed) throw new XmlError('the answer ended before its root element closed');
  }

  private markup(open: number, end: number): MultistatusResponse[] {
    const tag = this.buffer.slice(open, Math.min(end, open + 9));
    // Comments, CDATA, processing instructions and declarations do not change the depth.
    if (tag.startsWith('<!') || tag.startsWith('<?')) return [];
    if (tag.startsWith('</')) return this.endTag(end);
    const selfClosing = this.buffer[end - 2] === '/';
    if (this.depth === 0) {
      const startTag = this.buffer.slice(open, end);
      this.root = { startTag, name: tagName(startTag) };
      this.closed = selfClosing;
    } else if (this.depth === 1 && !selfClosing) this.childStart = open;
    if (!selfClosing) this.depth++;
    return [];
  }

  private endTag(end: number): MultistatusResponse[] {
    this.depth--;
    if (this.depth === 0) {
      this.closed = true;
      return [];
    }
    if (this.depth !== 1 || this.root === null) return [];
    const child = this.buffer.slice(this.childStart, end);
    this.childStart = -1;
    const { startTag, name } = this.root;
    return parseMultistatus(`${startTag}${child}</${name}>`).responses;
  }

  /** Drops what was read and is not part of the child being read. */
  private forgetRead(): void {
    const keepFrom = this.childStart === -1 ? this.at : this.childStart;
    if (keepFrom === 0) return;
    this.buffer = this.buffer.slice(keepFrom);
    this.at -= keepFrom;
    if (this.childStart !== -1) this.childStart -= keepFrom;
  }
}

/** The responses of an answer's body, as it arrives; an XmlError when it is not a whole document. */
export async function* streamMultistatus(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<MultistatusResponse> {
  const decoder = new TextDecoder('utf-8');
  const splitter = new MultistatusSplitter();
  for await (const chunk of body) yield* splitter.push(decoder.decode(chunk, { stream: true }));
  yield* splitter.push(decoder.decode());
  splitter.end();
}

const TERMINATORS: readonly (readonly [string, string])[] = [
  ['<!--', '-->'],
  ['<![CDATA[', ']]>'],
  ['<?', '?>'],
];

/** The index just past the markup opened at `open`, or -1 when it has not all arrived. */
function markupEnd(text: string, open: number): number {
  for (const [start, terminator] of TERMINATORS) {
    if (text.startsWith(start, open)) {
      const close = text.indexOf(terminator, open + start.length);
      return close === -1 ? -1 : close + terminator.length;
    }
  }
  return tagEnd(text, open);
}

/** Past the '>' that ends a tag, skipping quoted attribute values and a DOCTYPE's internal subset. */
function tagEnd(text: string, open: number): number {
  let quote: string | null = null;
  let brackets = 0;
  for (let i = open + 1; i < text.length; i++) {
    const c = text[i];
    if (quote !== null) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') brackets++;
    else if (c === ']') brackets--;
    else if (c === '>' && brackets <= 0) return i + 1;
  }
  return -1;
}

/** The qualified name of a start tag, as written ("D:multistatus"). */
function tagName(startTag: string): string {
  return /^<([^\s/>]+)/.exec(startTag)?.[1] ?? '';
}
