import type { Span } from './spans.js';

/*
 * Credentials recognised by their shape wherever they stand, under whatever name: the published
 * prefixes of cloud and service tokens, and JSON Web Tokens. Each shape is specific enough that
 * ordinary configuration values do not take it.
 */
const SHAPES: Array<[string, RegExp]> = [
  ['AWS access key id', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g],
  ['GitHub token', /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/g],
  ['GitLab token', /\bglpat-[A-Za-z0-9_-]{20,}\b/g],
  ['Slack token', /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/g],
  ['Stripe key', /\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}\b/g],
  ['Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ['SendGrid key', /\bSG\.[\w-]{16,}\.[\w-]{16,}\b/g],
  ['npm token', /\bnpm_[A-Za-z0-9]{36}\b/g],
  ['Mailgun key', /\bkey-[0-9a-f]{32}\b/g],
  ['JSON Web Token', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
];

export function tokenShapeSecrets(text: string): Span[] {
  const spans: Span[] = [];
  for (const [what, shape] of SHAPES)
    for (const match of text.matchAll(shape)) {
      const start = match.index ?? 0;
      spans.push({ start, end: start + match[0].length, what });
    }
  return spans;
}
