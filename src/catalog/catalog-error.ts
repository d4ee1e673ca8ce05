/** The catalog cannot be used as configured (unreadable, or another repository's). */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}
