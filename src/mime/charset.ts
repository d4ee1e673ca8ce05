// Bytes in a declared charset to text, for bodies and encoded words alike. iconv-lite knows most
// charsets mail is written in (UTF-7 included); the ISO-2022-JP family, still common in Japanese
// mail, it does not, and libmime decodes that one (through encoding-japanese).
import { createRequire } from 'node:module';
import iconv from 'iconv-lite';

/**
 * iconv-lite codecs that are transfer encodings, not charsets: a name for one is unknown here.
 * Found at the first decode, not at load: asking for a codec loads every table iconv-lite has,
 * which a command that decodes nothing (most of them import this through the catalog) should
 * not pay for.
 */
let notCharsets: Set<unknown> | undefined;
const isNotCharset = (name: string): boolean =>
  (notCharsets ??= new Set(['base64', 'hex'].map((codec) => iconv.getCodec(codec)))).has(
    iconv.getCodec(name),
  );
const UTF8 = /^(?:utf-?8|us-?ascii|ascii|7bit)$/;
const JAPANESE_7BIT = /^(?:iso-?2022-?jp(?:-\d)?|csiso2022jp|jis)$/;

/**
 * libmime's charset decoder, loaded the first time a Japanese 7-bit charset is met: its tables
 * take a few hundred milliseconds to load, which a text worker would pay for nothing otherwise.
 */
let japanese: ((bytes: Buffer, charset: string) => string) | undefined;
function decodeJapanese(bytes: Buffer, name: string): string {
  japanese ??= (
    createRequire(import.meta.url)('libmime/lib/charset.js') as {
      decode: (bytes: Buffer, charset: string) => string;
    }
  ).decode;
  return japanese(bytes, name);
}

/** A charset name as mail declares it: lowercase, without quotes or an RFC 2231 language (`*en`). */
export function charsetName(declared: string): string {
  return declared
    .trim()
    .replace(/^["']|["']$/g, '')
    .replace(/\*.*$/, '')
    .toLowerCase();
}

/** Whether the charset reads as UTF-8: UTF-8 itself, and ASCII (whose 8-bit bytes are a mistake). */
export function isUtf8Like(name: string): boolean {
  return UTF8.test(name);
}

/**
 * The text `bytes` hold in the named charset (as given by charsetName), or null when the charset
 * is not one this reader knows: the caller then keeps what it had. Never throws.
 */
export function decodeCharset(bytes: Buffer, name: string): string | null {
  if (isUtf8Like(name)) return bytes.toString('utf8');
  try {
    if (JAPANESE_7BIT.test(name)) return decodeJapanese(bytes, name);
    if (!iconv.encodingExists(name) || isNotCharset(name)) return null;
    return iconv.decode(bytes, name);
  } catch {
    return null;
  }
}
