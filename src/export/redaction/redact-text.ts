import { authHeaderSecrets } from './auth-headers.js';
import { commandLineSecrets } from './command-lines.js';
import { fileKindSecrets } from './file-kinds.js';
import { inlinePairSecrets } from './inline-pairs.js';
import { keyLineSecrets } from './key-lines.js';
import { positionalSecrets } from './positional.js';
import { applySpans, type Redaction, type Rule } from './spans.js';
import { tokenShapeSecrets } from './token-shapes.js';
import { urlSecrets } from './urls.js';
import { xmlSecrets } from './xml.js';

/*
 * Every rule reads the whole text and says where secrets lie; the spans are then replaced
 * together. Rules overlap on purpose (a `password = x` line is a key line and a pair; a URL in a
 * JSON value is both): each form of a file is read by the rule that knows it, whatever the file's
 * kind, as configuration files mix forms (shell in unit files, URLs in YAML, JSON in env files).
 */
const RULES: readonly Rule[] = [
  fileKindSecrets,
  keyLineSecrets,
  inlinePairSecrets,
  xmlSecrets,
  urlSecrets,
  commandLineSecrets,
  authHeaderSecrets,
  positionalSecrets,
  tokenShapeSecrets,
];

/** Redacts the secrets of one text file; redactions are listed by line (from 1), never by value. */
export function redactText(path: string, text: string): { text: string; redactions: Redaction[] } {
  return applySpans(
    text,
    RULES.flatMap((rule) => rule(text, path)),
  );
}
