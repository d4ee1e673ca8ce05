// The words of an HTML part, for search. htmlparser2's tokenizer reads the markup as a browser
// would (every HTML5 entity, raw text in scripts and styles, broken markup) and hands over text
// as it goes. Its tokenizer is used rather than its parser: the parser keeps a stack of open
// elements that costs time in proportion to its depth at every tag (thousands of unclosed tags
// took seconds), while search needs no tree at all. So the cost stays linear in the input, and
// the reading stops as soon as the collector is full. Layout is of no use to search; only word
// boundaries are: a block element separates words, an inline one (`<b>Caf</b>é`) does not.
import { createRequire } from 'node:module';
import type { Tokenizer, TokenizerCallbacks } from 'htmlparser2';
import type { TextCollector } from './text-collector.js';

/**
 * htmlparser2, loaded the first time an HTML part is read: loading it takes about 0.1 s of CPU,
 * which a text worker would otherwise pay at every start, whether or not HTML ever comes (a backup
 * run with no change starts one too).
 */
let tokenizerClass: typeof Tokenizer | undefined;
function newTokenizer(callbacks: TokenizerCallbacks): Tokenizer {
  tokenizerClass ??= (
    createRequire(import.meta.url)('htmlparser2') as { Tokenizer: typeof Tokenizer }
  ).Tokenizer;
  return new tokenizerClass({ xmlMode: false, decodeEntities: true }, callbacks);
}

/** Elements whose content is not text a reader sees. */
const HIDDEN = new Set(['script', 'style', 'template']);

/** Elements that end a word (block and line-breaking elements, table cells, images). */
const SEPARATING = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'br',
  'caption',
  'center',
  'dd',
  'details',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'head',
  'header',
  'hr',
  'html',
  'img',
  'li',
  'main',
  'nav',
  'ol',
  'option',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'title',
  'tr',
  'ul',
]);

/** How much markup is handed to the parser at a time, between looks at whether to stop. */
const SLICE = 8 * 1024;

/** Adds the text of `html` to the collector, as one part. */
export function addHtmlText(html: string, collector: TextCollector): void {
  // The element whose content is being passed over (script, style), or null.
  let hidden: string | null = null;
  const tag = (start: number, end: number): string => html.slice(start, end).toLowerCase();
  const ignore = (): void => undefined;
  const callbacks: TokenizerCallbacks = {
    onopentagname(start, end) {
      const name = tag(start, end);
      if (hidden !== null) return;
      if (HIDDEN.has(name)) hidden = name;
      else if (SEPARATING.has(name)) collector.separate();
    },
    onclosetag(start, end) {
      const name = tag(start, end);
      if (hidden === name) hidden = null;
      else if (hidden === null && SEPARATING.has(name)) collector.separate();
    },
    ontext(start, end) {
      if (hidden === null) collector.add(html.slice(start, end));
    },
    ontextentity(codepoint) {
      if (hidden === null) collector.add(String.fromCodePoint(codepoint));
    },
    onattribdata: ignore,
    onattribentity: ignore,
    onattribend: ignore,
    onattribname: ignore,
    oncdata: ignore,
    oncomment: ignore,
    ondeclaration: ignore,
    onend: ignore,
    onopentagend: ignore,
    onprocessinginstruction: ignore,
    onselfclosingtag: ignore,
  };
  const tokenizer = newTokenizer(callbacks);
  for (let at = 0; at < html.length && !collector.full; at += SLICE)
    tokenizer.write(html.slice(at, at + SLICE));
  if (!collector.full) tokenizer.end();
  collector.endPart();
}
