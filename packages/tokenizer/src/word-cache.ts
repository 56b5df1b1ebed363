// word → BPE result, looked up straight from a range of the input (no substring
// is created, ever). Every entry lives in one Int32Array arena as
// [length, char codes…, 3·tokens, (id, start, end)…], so a hit reads the slot,
// then one contiguous run for both the comparison and the result: a cold pass
// over a large corpus misses the cache once or twice per word instead of four
// times (slot, string object, its characters, a result array), and the cache
// holds no JS objects for the GC to trace. Slots hold [hash, entry offset] side
// by side and double as words arrive. Bounded: cleared when full, so memory
// stays flat on endless input.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const INITIAL_CAPACITY = 4096;
const INITIAL_ARENA = 1 << 16;

export class WordCache {
  private slots: Int32Array;
  private mask: number;
  private count = 0;
  /** Entries, see the file comment; replaced when it grows, written over from the start after `clear()`: read an entry right after `get`/`setLast`. */
  arena: Int32Array;
  private used = 0;
  /** Hash of the range given to the last `get`, reused by `setLast`. */
  private lastHash = 0;

  constructor(readonly limit: number) {
    this.slots = WordCache.emptySlots(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.arena = new Int32Array(INITIAL_ARENA);
  }

  private static emptySlots(capacity: number): Int32Array {
    const slots = new Int32Array(capacity * 2);
    for (let i = 1; i < slots.length; i += 2) slots[i] = -1;
    return slots;
  }

  get size(): number {
    return this.count;
  }

  /**
   * Where the result of word `text[start, end)` starts in `arena` (at its
   * 3·tokens count, followed by the triples), or -1 when it is not cached.
   */
  get(text: string, start: number, end: number): number {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    h ^= h >>> 16;
    this.lastHash = h;
    const length = end - start;
    const slots = this.slots;
    const arena = this.arena;
    let slot = h & this.mask;
    for (;;) {
      const at = slots[2 * slot + 1];
      if (at < 0) return -1;
      if (slots[2 * slot] === h && arena[at] === length) {
        let i = 0;
        while (i < length && arena[at + 1 + i] === text.charCodeAt(start + i)) i++;
        if (i === length) return at + 1 + length;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * Stores `result` ([id, start, end]…) for the word of the last missed `get`
   * (`text[start, end)`, the same range) and returns where it starts, as `get` does.
   */
  setLast(text: string, start: number, end: number, result: Int32Array): number {
    if (this.count >= this.limit) this.clear();
    if ((this.count + 1) * 4 > this.slots.length) this.grow();
    const length = end - start;
    const size = 2 + length + result.length;
    if (this.used + size > this.arena.length) {
      let capacity = this.arena.length * 2;
      while (capacity < this.used + size) capacity *= 2;
      const grown = new Int32Array(capacity);
      grown.set(this.arena.subarray(0, this.used));
      this.arena = grown;
    }
    const arena = this.arena;
    const at = this.used;
    arena[at] = length;
    for (let i = 0; i < length; i++) arena[at + 1 + i] = text.charCodeAt(start + i);
    arena[at + 1 + length] = result.length;
    arena.set(result, at + 2 + length);
    this.used += size;
    this.insert(this.lastHash, at);
    this.count++;
    return at + 1 + length;
  }

  private insert(hash: number, at: number): void {
    let slot = hash & this.mask;
    while (this.slots[2 * slot + 1] >= 0) slot = (slot + 1) & this.mask;
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = at;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = old.length; // two numbers per slot: this doubles the slot count
    this.slots = WordCache.emptySlots(capacity);
    this.mask = capacity - 1;
    for (let i = 1; i < old.length; i += 2) if (old[i] >= 0) this.insert(old[i - 1], old[i]);
  }

  /**
   * Forgets every word but keeps the slot table and arena at their size: a full cache refills to
   * about the same size, and regrowing from small copied, rehashed and page-faulted ~2× the final
   * size again on every refill (the arrays never exceed what `limit` words take).
   */
  clear(): void {
    if (this.count === 0) return;
    this.slots.fill(-1);
    this.used = 0;
    this.count = 0;
  }
}
