// word → BPE result, looked up straight from a range of the input (no substring
// is created unless the word is new). Bounded: cleared when full, so memory
// stays flat on endless input.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

export class WordCache {
  private slots: Int32Array;
  private mask: number;
  private words: string[] = [];
  private values: Int32Array[] = [];
  private hashes: number[] = [];
  /** Hash of the range given to the last `get`, reused by `set`. */
  private lastHash = 0;

  constructor(readonly limit: number) {
    let capacity = 1024;
    while (capacity < limit * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.words.length;
  }

  get(text: string, start: number, end: number): Int32Array | undefined {
    let h = FNV_OFFSET;
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
    this.lastHash = h;
    const length = end - start;
    let slot = (h ^ (h >>> 16)) & this.mask;
    for (;;) {
      const index = this.slots[slot];
      if (index < 0) return undefined;
      if (this.hashes[index] === h) {
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
    const h = this.lastHash;
    let slot = (h ^ (h >>> 16)) & this.mask;
    while (this.slots[slot] >= 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = this.words.length;
    this.words.push(word);
    this.values.push(value);
    this.hashes.push(h);
  }

  clear(): void {
    if (this.words.length === 0) return;
    this.slots.fill(-1);
    this.words = [];
    this.values = [];
    this.hashes = [];
  }
}
