import { createHash } from 'node:crypto';
import { encodeBase64Lines } from '../../mime/message-layout.js';
import { openSealedObject } from '../../repository/open-sealed.js';

/**
 * What it takes to put one message together without the repository: its pieces in order, data
 * objects still sealed, and the size and SHA-256 the result must have. A recipe can cross to a
 * worker thread as it is (its buffers are ArrayBuffers of their own).
 */
export type RecipePart =
  | { t: 'l'; bytes: ArrayBuffer }
  | { t: 'o'; objects: SealedRef[] }
  | { t: 'b'; objects: SealedRef[]; line: number; eol: 'crlf' | 'lf'; trailer: ArrayBuffer };

export interface SealedRef {
  id: ArrayBuffer;
  sealed: ArrayBuffer;
}

export interface Recipe {
  parts: RecipePart[];
  size: number;
  sha256: string;
}

export class RecipeIntegrityError extends Error {
  constructor(sha256: string) {
    super(`message ${sha256} does not match the checksum taken at backup`);
    this.name = 'MessageIntegrityError';
  }
}

/** Every buffer a recipe holds, to hand over to a worker without copying. */
export function recipeBuffers(recipe: Recipe): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const part of recipe.parts) {
    if (part.t === 'l') buffers.push(part.bytes);
    else for (const ref of part.objects) buffers.push(ref.id, ref.sealed);
    if (part.t === 'b') buffers.push(part.trailer);
  }
  return buffers;
}

/** Opens, decodes and joins the pieces, and checks the result against the backup's checksum. */
export function assembleRecipe(key: Uint8Array, recipe: Recipe): Buffer {
  const message = Buffer.allocUnsafe(recipe.size);
  let at = 0;
  const put = (bytes: Uint8Array): void => {
    if (at + bytes.length > message.length) throw new RecipeIntegrityError(recipe.sha256);
    message.set(bytes, at);
    at += bytes.length;
  };
  const open = (ref: SealedRef): Buffer =>
    openSealedObject(key, new Uint8Array(ref.id), new Uint8Array(ref.sealed));
  for (const part of recipe.parts) {
    if (part.t === 'l') put(new Uint8Array(part.bytes));
    else if (part.t === 'o') for (const ref of part.objects) put(open(ref));
    else {
      const decoded =
        part.objects.length === 1
          ? open(part.objects[0] as SealedRef)
          : Buffer.concat(part.objects.map(open));
      put(encodeBase64Lines(decoded, part.line, part.eol));
      put(new Uint8Array(part.trailer));
    }
  }
  if (at !== recipe.size || createHash('sha256').update(message).digest('hex') !== recipe.sha256) {
    throw new RecipeIntegrityError(recipe.sha256);
  }
  return message;
}
