import BTreeModule from 'sorted-btree';

// sorted-btree ships CommonJS with `exports.default`: Node's ESM loader hands back the whole exports object.
const BTree: typeof BTreeModule = (BTreeModule as unknown as { default?: typeof BTreeModule }).default ?? BTreeModule;

/**
 * Strings in sorted order (a B+ tree), so a prefix or cursor range costs
 * what it returns plus O(log n), never a walk over the whole set.
 */
export class SortedKeySet {
  private readonly tree = new BTree<string, undefined>();

  get size(): number {
    return this.tree.size;
  }

  add(key: string): void {
    this.tree.set(key, undefined);
  }

  delete(key: string): boolean {
    return this.tree.delete(key);
  }

  clear(): void {
    this.tree.clear();
  }

  /** Keys from `start` (inclusive) upward, in order. Do not mutate the set while iterating. */
  from(start: string): IterableIterator<string> {
    return this.tree.keys(start);
  }

  /** A copy of all keys, for callers that delete while they walk. */
  toArray(): string[] {
    return this.tree.keysArray();
  }
}
