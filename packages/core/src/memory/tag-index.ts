import { stringBytes } from './heap-bytes';
import { SortedKeySet } from './sorted-key-set';

/** One distinct tag in the index: its Map slot and a B+ tree with its root node (measured 390-420), beyond the tag string. */
const TAG_INDEX_BYTES = 440;
function tagBytes(tag: string): number {
  return TAG_INDEX_BYTES + stringBytes(tag);
}

/**
 * tag → the keys carrying it. Sorted per tag so `scan({ tag })` pages by
 * cursor in O(log n + page); a tag whose last key leaves is dropped, so the
 * index never outgrows the live keys.
 */
export class TagIndex {
  private readonly byTag = new Map<string, SortedKeySet>();
  /** Estimated heap bytes of the index's own structures per distinct tag (the per-key slots are counted with the keys). */
  bytes = 0;

  /** How many tags have at least one key. */
  get size(): number {
    return this.byTag.size;
  }

  add(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (keys === undefined) {
        this.byTag.set(tag, (keys = new SortedKeySet()));
        this.bytes += tagBytes(tag);
      }
      keys.add(key);
    }
  }

  remove(key: string, tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.byTag.get(tag);
      if (keys === undefined) continue;
      keys.delete(key);
      if (keys.size === 0) {
        this.byTag.delete(tag);
        this.bytes -= tagBytes(tag);
      }
    }
  }

  keys(tag: string): SortedKeySet | undefined {
    return this.byTag.get(tag);
  }

  clear(): void {
    this.byTag.clear();
    this.bytes = 0;
  }
}

/** Whether two tag lists hold the same tags in the same order (the common "set again with the same tags" case). */
export function sameTags(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
