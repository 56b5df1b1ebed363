// Byte-level BPE core: integer merge table (open addressing over typed arrays,
// so it can be shared with worker threads without a rebuild), a merge loop that
// picks the lowest-ranked adjacent pair, leftmost first — the order HF's Rust
// `Word::merge_all` applies — and a cache of word → (ids, offsets).

const EMPTY = -1;
/** Words longer than this (in symbols) use the heap merge loop instead of the quadratic scan. */
const SCAN_LIMIT = 48;

/** Tables that fully describe a BPE model; plain typed arrays so they can cross threads. */
export interface BpeTables {
  /**
   * Hash table of merges, (left id, right id) → rank, as [left, right, rank] per slot side by
   * side (one cache line per probe); left -1 = empty. Slot count is a power of two.
   */
  mergeSlots: Int32Array;
  /** rank → id of the merged token. */
  mergeResult: Int32Array;
  /** byte → id of the single-byte token, or -1. */
  byteIds: Int32Array;
}

function hashPair(left: number, right: number): number {
  const h = Math.imul(left, 0x9e3779b1) ^ Math.imul(right + 0x632be5ab, 0x85ebca77);
  return h ^ (h >>> 15);
}

export function buildMergeTables(pairs: Int32Array, count: number, byteIds: Int32Array): BpeTables {
  let capacity = 16;
  while (capacity < count * 1.6) capacity *= 2;
  const mask = capacity - 1;
  const mergeSlots = new Int32Array(capacity * 3);
  for (let i = 0; i < mergeSlots.length; i += 3) mergeSlots[i] = EMPTY;
  const mergeResult = new Int32Array(count);
  for (let rank = 0; rank < count; rank++) {
    const left = pairs[rank * 3];
    const right = pairs[rank * 3 + 1];
    mergeResult[rank] = pairs[rank * 3 + 2];
    let slot = hashPair(left, right) & mask;
    for (;;) {
      const at = slot * 3;
      const existing = mergeSlots[at];
      if (existing === EMPTY) {
        mergeSlots[at] = left;
        mergeSlots[at + 1] = right;
        mergeSlots[at + 2] = rank;
        break;
      }
      // A repeated pair takes its last rank: HF builds its merge map by inserting in order.
      if (existing === left && mergeSlots[at + 1] === right) {
        mergeSlots[at + 2] = rank;
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  return { mergeSlots, mergeResult, byteIds };
}

/** Runs BPE over symbol ids in place; returns the new symbol count. */
export class BpeMerger {
  private readonly slots: Int32Array;
  private readonly result: Int32Array;
  private readonly mask: number;
  // Scratch for the heap loop, grown on demand.
  private heap = new Float64Array(256);
  private next = new Int32Array(256);
  private prev = new Int32Array(256);
  private ranks = new Int32Array(256);
  private lengths = new Int32Array(256);

  constructor(tables: BpeTables) {
    this.slots = tables.mergeSlots;
    this.result = tables.mergeResult;
    this.mask = tables.mergeSlots.length / 3 - 1;
  }

  /** Rank of merging (a, b), or -1 when no merge exists. */
  rank(a: number, b: number): number {
    const slots = this.slots;
    const mask = this.mask;
    let slot = hashPair(a, b) & mask;
    for (;;) {
      const at = slot * 3;
      const key = slots[at];
      if (key === EMPTY) return -1;
      if (key === a && slots[at + 1] === b) return slots[at + 2];
      slot = (slot + 1) & mask;
    }
  }

  /**
   * Merges `symbols[0..count)` (each with its byte length in `lengths`) and
   * returns the final count; symbols and lengths are compacted in place.
   */
  merge(symbols: Int32Array, lengths: Int32Array, count: number): number {
    if (count < 2) return count;
    if (count <= SCAN_LIMIT) return this.mergeByScan(symbols, lengths, count);
    return this.mergeByHeap(symbols, lengths, count);
  }

  private mergeByScan(symbols: Int32Array, lengths: Int32Array, count: number): number {
    const ranks = this.ranks;
    for (let i = 0; i + 1 < count; i++) ranks[i] = this.rank(symbols[i], symbols[i + 1]);
    for (;;) {
      let best = -1;
      let bestRank = 0x7fffffff;
      for (let i = 0; i + 1 < count; i++) {
        const r = ranks[i];
        if (r >= 0 && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) return count;
      symbols[best] = this.result[bestRank];
      lengths[best] += lengths[best + 1];
      for (let i = best + 1; i + 1 < count; i++) {
        symbols[i] = symbols[i + 1];
        lengths[i] = lengths[i + 1];
        ranks[i] = ranks[i + 1];
      }
      count--;
      if (best > 0) ranks[best - 1] = this.rank(symbols[best - 1], symbols[best]);
      if (best + 1 < count) ranks[best] = this.rank(symbols[best], symbols[best + 1]);
    }
  }

  private shrinkScratch(): void {
    this.heap = new Float64Array(256);
    this.next = new Int32Array(256);
    this.prev = new Int32Array(256);
    this.lengths = new Int32Array(256);
  }

  private ensureScratch(count: number): void {
    if (this.next.length >= count) return;
    let size = this.next.length;
    while (size < count) size *= 2;
    this.heap = new Float64Array(size);
    this.next = new Int32Array(size);
    this.prev = new Int32Array(size);
    this.lengths = new Int32Array(size);
  }

  // Heap of (rank, position) packed as rank * 2^32 + position; stale entries are
  // skipped when popped, as HF's merge loop does.
  private mergeByHeap(symbols: Int32Array, lengths: Int32Array, count: number): number {
    // A huge word grew the scratch: give it back first, then size it for this word (never below).
    if (this.next.length > 1 << 16 && count < 1 << 12) this.shrinkScratch();
    this.ensureScratch(count);
    const next = this.next;
    const prev = this.prev;
    const alive = this.lengths;
    let heap = this.heap;
    let size = 0;
    const push = (value: number): void => {
      if (size === heap.length) {
        const grown = new Float64Array(heap.length * 2);
        grown.set(heap);
        heap = this.heap = grown;
      }
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent] <= value) break;
        heap[i] = heap[parent];
        i = parent;
      }
      heap[i] = value;
    };
    const pop = (): number => {
      const top = heap[0];
      const last = heap[--size];
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= last) break;
        heap[i] = heap[child];
        i = child;
      }
      heap[i] = last;
      return top;
    };
    for (let i = 0; i < count; i++) {
      next[i] = i + 1 < count ? i + 1 : -1;
      prev[i] = i - 1;
      alive[i] = 1;
    }
    for (let i = 0; i + 1 < count; i++) {
      const r = this.rank(symbols[i], symbols[i + 1]);
      if (r >= 0) push(r * 4294967296 + i);
    }
    while (size > 0) {
      const top = pop();
      const r = Math.floor(top / 4294967296);
      const pos = top - r * 4294967296;
      if (!alive[pos]) continue;
      const right = next[pos];
      if (right < 0) continue;
      if (this.rank(symbols[pos], symbols[right]) !== r) continue;
      symbols[pos] = this.result[r];
      lengths[pos] += lengths[right];
      alive[right] = 0;
      const after = next[right];
      next[pos] = after;
      if (after >= 0) prev[after] = pos;
      const before = prev[pos];
      if (before >= 0) {
        const rb = this.rank(symbols[before], symbols[pos]);
        if (rb >= 0) push(rb * 4294967296 + before);
      }
      if (after >= 0) {
        const ra = this.rank(symbols[pos], symbols[after]);
        if (ra >= 0) push(ra * 4294967296 + pos);
      }
    }
    let out = 0;
    for (let i = 0; i >= 0; i = next[i]) {
      symbols[out] = symbols[i];
      lengths[out] = lengths[i];
      out++;
    }
    return out;
  }
}
