// word → BPE result, looked up straight from a range of the input (no substring
// is created unless the word is new). Slots hold [hash, entry index] side by
// side, so a probe reads one cache line before it compares characters; the
// table starts small and doubles as words arrive. Bounded: cleared when full,
// so memory stays flat on endless input.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const INITIAL_CAPACITY = 4096;

export class WordCache {
  private slots: Int32Array;
  private mask: number;
  private words: string[] = [];
  private values: Int32Array[] = [];
  /** Hash of the range given to the last `get`, reused by `setLast`. */
  private lastHash = 0;

  constructor(readonly limit: number) {
    this.slots = WordCache.emptySlots(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
  }

  private static emptySlots(capacity: number): Int32Array {
    const slots = new Int32Array(capacity * 2);
    for (let i = 1; i < slots.length; i += 2) slots[i] = -1;
    return slots;
  }

  get size(): number {
    return this.words.length;
  }

  get(text: string, start: number, end: number): Int32Array | undefined {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    h ^= h >>> 16;
    this.lastHash = h;
    const length = end - start;
    const slots = this.slots;
    let slot = h & this.mask;
    for (;;) {
      const index = slots[2 * slot + 1];
      if (index < 0) return undefined;
      if (slots[2 * slot] === h) {
        const word = this.words[index];
        if (word.length === length) {
          let i = 0;
          while (i < length && word.charCodeAt(i) === text.charCodeAt(start + i)) i++;
          if (i === length) return this.values[index];
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Stores the word of the last missed `get` (`word` must be that range's text). */
  setLast(word: string, value: Int32Array): void {
    if (this.words.length >= this.limit) this.clear();
    if ((this.words.length + 1) * 4 > this.slots.length) this.grow();
    this.insert(this.lastHash, this.words.length);
    this.words.push(word);
    this.values.push(value);
  }

  private insert(hash: number, index: number): void {
    let slot = hash & this.mask;
    while (this.slots[2 * slot + 1] >= 0) slot = (slot + 1) & this.mask;
    this.slots[2 * slot] = hash;
    this.slots[2 * slot + 1] = index;
  }

  private grow(): void {
    const old = this.slots;
    const capacity = old.length; // two numbers per slot: this doubles the slot count
    this.slots = WordCache.emptySlots(capacity);
    this.mask = capacity - 1;
    for (let i = 1; i < old.length; i += 2) if (old[i] >= 0) this.insert(old[i - 1], old[i]);
  }

  clear(): void {
    if (this.words.length === 0) return;
    this.slots = WordCache.emptySlots(INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.words = [];
    this.values = [];
  }
}
