// token string → id, as an open-addressing table over one typed array whose
// keys can be looked up straight from a range of a larger string (or from bytes
// in byte-level form) without allocating a substring. Each slot holds two
// independent 32-bit hashes, the key length and the id, so a probe reads one
// cache line; `probeHashed` trusts the 64 bits of hash (the table checks at
// insertion that no two keys share them) and reads no string at all, which is
// what makes resolving 300k merges at load cheap. `get*` still compare
// characters, so a lookup of a string that is not a key can never match.
import { byteToChar } from './byte-level.js';

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;
export const SECOND_SEED = 0x2545f491;
export const SECOND_PRIME = 0x5bd1e995;

/** Slot layout in `entries`: [hash1, hash2, length, id]. */
const STRIDE = 4;

const byteCharCodes = Int32Array.from(byteToChar, (c) => c.charCodeAt(0));

export class StringIdTable {
  private entries: Int32Array;
  private mask: number;
  private count = 0;
  /** False when two keys share hash1, hash2 and length: probeHashed is then not safe to use. */
  hashesUnique = true;
  /** id → token; the table compares candidates against these. */
  readonly tokens: Array<string | undefined>;
  // Hashes of the last `hashRange` call.
  private h1 = 0;
  private h2 = 0;

  constructor(expected: number, tokens: Array<string | undefined> = []) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.entries = StringIdTable.emptyEntries(capacity);
    this.mask = capacity - 1;
    this.tokens = tokens;
  }

  private static emptyEntries(capacity: number): Int32Array {
    const entries = new Int32Array(capacity * STRIDE);
    for (let i = 3; i < entries.length; i += STRIDE) entries[i] = -1;
    return entries;
  }

  get size(): number {
    return this.count;
  }

  private hashRange(text: string, start: number, end: number): void {
    let h1 = FNV_OFFSET;
    let h2 = SECOND_SEED;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = Math.imul(h2 ^ c, SECOND_PRIME);
      h2 ^= h2 >>> 15;
    }
    this.h1 = h1;
    this.h2 = h2;
  }

  /** Sets token → id (a later set of the same token wins, as in a JSON object). */
  set(token: string, id: number): void {
    this.hashRange(token, 0, token.length);
    this.setHashed(token, this.h1, this.h2, id);
  }

  /** `set` with the token's two hashes already computed (FNV-1a from FNV_OFFSET, and the second from SECOND_SEED). */
  setHashed(token: string, h1: number, h2: number, id: number): void {
    if ((this.count + 1) * 2 * STRIDE > this.entries.length) this.rehash();
    const length = token.length;
    const entries = this.entries;
    let slot = h1 & this.mask;
    for (;;) {
      const at = slot * STRIDE;
      const existing = entries[at + 3];
      if (existing < 0) break;
      if (entries[at] === h1 && entries[at + 1] === h2 && entries[at + 2] === length) {
        if (this.tokens[existing] === token) {
          // A repeated key: the later id wins, as in a JSON object.
          if (existing === id) return;
          this.removeId(existing);
          this.setHashed(token, h1, h2, id);
          return;
        }
        this.hashesUnique = false;
      }
      slot = (slot + 1) & this.mask;
    }
    this.tokens[id] = token;
    const at = slot * STRIDE;
    entries[at] = h1;
    entries[at + 1] = h2;
    entries[at + 2] = length;
    entries[at + 3] = id;
    this.count++;
  }

  private liveIds(): number[] {
    const ids: number[] = [];
    for (let i = 3; i < this.entries.length; i += STRIDE) if (this.entries[i] >= 0) ids.push(this.entries[i]);
    return ids;
  }

  private removeId(id: number): void {
    // Only duplicate keys get here, which are rare: rebuild without the old id.
    const ids = this.liveIds().filter((other) => other !== id);
    this.tokens[id] = undefined;
    this.rebuild(this.entries.length / STRIDE, ids);
  }

  private rehash(): void {
    this.rebuild((this.entries.length / STRIDE) * 2, this.liveIds());
  }

  private rebuild(capacity: number, ids: number[]): void {
    this.entries = StringIdTable.emptyEntries(capacity);
    this.mask = capacity - 1;
    this.count = 0;
    this.hashesUnique = true;
    const tokens = this.tokens;
    for (const id of ids) {
      const token = tokens[id] as string;
      tokens[id] = undefined;
      this.set(token, id);
    }
  }

  get(token: string): number {
    return this.getRange(token, 0, token.length);
  }

  /** Id of `text.slice(start, end)`, or -1. */
  getRange(text: string, start: number, end: number): number {
    this.hashRange(text, start, end);
    return this.probe(this.h1, text, start, end, end, end);
  }

  /** Id of `text.slice(s1, e1) + text.slice(s2, e2)`, or -1. */
  getConcat(text: string, s1: number, e1: number, s2: number, e2: number): number {
    let hash = FNV_OFFSET;
    for (let i = s1; i < e1; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
    for (let i = s2; i < e2; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
    return this.probe(hash, text, s1, e1, s2, e2);
  }

  /** Ids of left = text[s1, e1), right = text[s2, e2) and left + right, into `out[0..2]` (-1 where missing). */
  getMerge(text: string, s1: number, e1: number, s2: number, e2: number, out: Int32Array): void {
    out[0] = this.getRange(text, s1, e1);
    out[1] = this.getRange(text, s2, e2);
    out[2] = this.getConcat(text, s1, e1, s2, e2);
  }

  /**
   * Id of the key whose hashes and length are these, without reading any string: exact for
   * keys of the table while `hashesUnique` holds; a non-key could match only by a 64-bit
   * hash collision.
   */
  probeHashed(h1: number, h2: number, length: number): number {
    const entries = this.entries;
    let slot = h1 & this.mask;
    for (;;) {
      const at = slot * STRIDE;
      const id = entries[at + 3];
      if (id < 0) return -1;
      if (entries[at] === h1 && entries[at + 1] === h2 && entries[at + 2] === length) return id;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Id of text[s1, e1) + text[s2, e2), whose first hash is `hash`, comparing characters; or -1. */
  probe(hash: number, text: string, s1: number, e1: number, s2: number, e2: number): number {
    const first = e1 - s1;
    const length = first + e2 - s2;
    const entries = this.entries;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * STRIDE;
      const id = entries[at + 3];
      if (id < 0) return -1;
      if (entries[at] === hash && entries[at + 2] === length) {
        const token = this.tokens[id] as string;
        let i = 0;
        while (i < first && token.charCodeAt(i) === text.charCodeAt(s1 + i)) i++;
        if (i === first) {
          while (i < length && token.charCodeAt(i) === text.charCodeAt(s2 + i - first)) i++;
          if (i === length) return id;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Id of the byte-level form of `bytes[0, n)`, or -1. */
  getBytes(bytes: Uint8Array, n: number): number {
    let hash = FNV_OFFSET;
    for (let i = 0; i < n; i++) hash = Math.imul(hash ^ byteCharCodes[bytes[i]], FNV_PRIME);
    const entries = this.entries;
    let slot = hash & this.mask;
    for (;;) {
      const at = slot * STRIDE;
      const id = entries[at + 3];
      if (id < 0) return -1;
      if (entries[at] === hash && entries[at + 2] === n) {
        const token = this.tokens[id] as string;
        let i = 0;
        while (i < n && token.charCodeAt(i) === byteCharCodes[bytes[i]]) i++;
        if (i === n) return id;
      }
      slot = (slot + 1) & this.mask;
    }
  }
}
