/** Trees carry a version; one newer than this reader knows is refused, not misread. */
export function checkVersion<T extends { v: number }>(tree: T, what: string, id: string): T {
  if (tree.v !== 1)
    throw new Error(`${what} ${id}: unsupported version ${String(tree.v)} (upgrade mailvault)`);
  return tree;
}
