// token string → id, as an open-addressing table over typed arrays whose keys
// can be looked up straight from a range of a larger string (or from bytes in
// byte-level form) without allocating a substring. Each slot keeps its key's
// hash, so a probe touches a token string only when the hash already matches.
// Loading 300k merges does 900k lookups; this keeps them cheap.
import { byteToChar } from './byte-level.js';

export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;

function hashRange(text: string, start: number, end: number, seed: number): number {
  let h = seed;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

const byteCharCodes = Int32Array.from(byteToChar, (c) => c.charCodeAt(0));

export class StringIdTable {
  private slots: Int32Array;
  private hashes: Int32Array;
  private mask: number;
  private count = 0;
  /** id → token; the table compares candidates against these. */
  readonly tokens: Array<string | undefined>;

  constructor(expected: number, tokens: Array<string | undefined> = []) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.slots = new Int32Array(capacity).fill(-1);
    this.hashes = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.tokens = tokens;
  }

  get size(): number {
    return this.count;
  }

  /** Sets token → id (a later set of the same token wins, as in a JSON object). */
  set(token: string, id: number): void {
    if ((this.count + 1) * 2 > this.slots.length) this.rehash();
    const hash = hashRange(token, 0, token.length, FNV_OFFSET);
    let slot = hash & this.mask;
    for (;;) {
      const existing = this.slots[slot];
      if (existing < 0) break;
      if (this.hashes[slot] === hash && this.tokens[existing] === token) {
        // A repeated key: the later id wins, as in a JSON object.
        if (existing === id) return;
        this.removeId(existing);
        this.set(token, id);
        return;
      }
      slot = (slot + 1) & this.mask;
    }
    this.tokens[id] = token;
    this.slots[slot] = id;
    this.hashes[slot] = hash;
    this.count++;
  }

  private removeId(id: number): void {
    // Only duplicate keys get here, which are rare: rebuild without the old id.
    const ids: number[] = [];
    for (const other of this.slots) if (other >= 0 && other !== id) ids.push(other);
    this.tokens[id] = undefined;
    this.slots.fill(-1);
    this.count = 0;
    for (const other of ids) this.insertExisting(other);
  }

  private insertExisting(id: number): void {
    const token = this.tokens[id] as string;
    const hash = hashRange(token, 0, token.length, FNV_OFFSET);
    let slot = hash & this.mask;
    while (this.slots[slot] >= 0) slot = (slot + 1) & this.mask;
    this.slots[slot] = id;
    this.hashes[slot] = hash;
    this.count++;
  }

  private rehash(): void {
    const ids = this.slots.filter((id) => id >= 0);
    this.slots = new Int32Array(this.slots.length * 2).fill(-1);
    this.hashes = new Int32Array(this.slots.length);
    this.mask = this.slots.length - 1;
    this.count = 0;
    for (const id of ids) this.insertExisting(id);
  }

  get(token: string): number {
    return this.getRange(token, 0, token.length);
  }

  /** Id of `text.slice(start, end)`, or -1. */
  getRange(text: string, start: number, end: number): number {
    return this.probe(hashRange(text, start, end, FNV_OFFSET), text, start, end, end, end);
  }

  /** Id of `text.slice(s1, e1) + text.slice(s2, e2)`, or -1. */
  getConcat(text: string, s1: number, e1: number, s2: number, e2: number): number {
    return this.probe(hashRange(text, s2, e2, hashRange(text, s1, e1, FNV_OFFSET)), text, s1, e1, s2, e2);
  }

  /**
   * Ids of left = text[s1, e1), right = text[s2, e2) and left + right, hashing each character once;
   * written to `out[0..2]` (-1 where missing).
   */
  getMerge(text: string, s1: number, e1: number, s2: number, e2: number, out: Int32Array): void {
    let hashLeft = FNV_OFFSET;
    for (let i = s1; i < e1; i++) hashLeft = Math.imul(hashLeft ^ text.charCodeAt(i), FNV_PRIME);
    let hashRight = FNV_OFFSET;
    let hashBoth = hashLeft;
    for (let i = s2; i < e2; i++) {
      const c = text.charCodeAt(i);
      hashRight = Math.imul(hashRight ^ c, FNV_PRIME);
      hashBoth = Math.imul(hashBoth ^ c, FNV_PRIME);
    }
    out[0] = this.probe(hashLeft, text, s1, e1, e1, e1);
    out[1] = this.probe(hashRight, text, s2, e2, e2, e2);
    out[2] = this.probe(hashBoth, text, s1, e1, s2, e2);
  }

  /** Id of text[s1, e1) + text[s2, e2), whose FNV-1a hash is `hash`, or -1. */
  probe(hash: number, text: string, s1: number, e1: number, s2: number, e2: number): number {
    const first = e1 - s1;
    const length = first + e2 - s2;
    const slots = this.slots;
    const hashes = this.hashes;
    let slot = hash & this.mask;
    for (;;) {
      const id = slots[slot];
      if (id < 0) return -1;
      if (hashes[slot] === hash) {
        const token = this.tokens[id] as string;
        if (token.length === length) {
          let i = 0;
          while (i < first && token.charCodeAt(i) === text.charCodeAt(s1 + i)) i++;
          if (i === first) {
            while (i < length && token.charCodeAt(i) === text.charCodeAt(s2 + i - first)) i++;
            if (i === length) return id;
          }
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }

  /** Id of the byte-level form of `bytes[0, n)`, or -1. */
  getBytes(bytes: Uint8Array, n: number): number {
    let hash = FNV_OFFSET;
    for (let i = 0; i < n; i++) hash = Math.imul(hash ^ byteCharCodes[bytes[i]], FNV_PRIME);
    let slot = hash & this.mask;
    for (;;) {
      const id = this.slots[slot];
      if (id < 0) return -1;
      if (this.hashes[slot] === hash) {
        const token = this.tokens[id] as string;
        if (token.length === n) {
          let i = 0;
          while (i < n && token.charCodeAt(i) === byteCharCodes[bytes[i]]) i++;
          if (i === n) return id;
        }
      }
      slot = (slot + 1) & this.mask;
    }
  }
}
