// Answers of the hot read paths (token lookup, run-time read), kept in memory while the store's
// cache epoch stays the same (Storage.cacheEpoch): this instance's own commits change it at
// once, other processes' and instances' through the store's change feed. While the feed is down
// the epoch is null and nothing is cached. Dropped, not just bypassed, when the epoch moves, so a
// replaced or deleted secret does not stay in memory.

export class Memo<V> {
  private readonly entries = new Map<string, V>();
  private stamp: string | null = null;

  constructor(private readonly epoch: () => string | null) {}

  /** The current epoch (dropping every entry when it moved), or null: do not cache now. */
  private current(): string | null {
    const epoch = this.epoch();
    if (epoch !== this.stamp) {
      this.entries.clear();
      this.stamp = epoch;
    }
    return epoch;
  }

  get(key: string): V | undefined {
    return this.current() === null ? undefined : this.entries.get(key);
  }

  /**
   * Reads through the memo. A value read while the epoch moved (a change committed meanwhile)
   * is answered but not kept: it may predate the change.
   */
  async through(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const before = this.current();
    if (before !== null) {
      const hit = this.entries.get(key);
      if (hit !== undefined) return hit;
    }
    const value = await load();
    if (value !== null && before !== null && this.current() === before) this.entries.set(key, value);
    return value;
  }
}
