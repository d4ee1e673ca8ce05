/**
 * An item as --json prints it: `id` is the item id that tables print under ID and that `show`,
 * `restore item` and `search` take back. The catalog calls it `key`, which stays for scripts
 * written against it.
 */
export function itemJson<T extends { key: string }>(item: T): { id: string } & T {
  return { id: item.key, ...item };
}
