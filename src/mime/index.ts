export { splitMessage, MAX_MIME_DEPTH } from './split-message.js';
export { assembleMessage, segmentBytes } from './message-layout.js';
export type { MessageLayout, Segment } from './message-layout.js';
export { encodeBase64Lines } from './base64-lines.js';
export type { Base64Eol } from './base64-lines.js';
export { findHeaderEnd } from './header-block.js';
export { summarizeHeader } from './header-summary.js';
export type { HeaderSummary } from './header-summary.js';
