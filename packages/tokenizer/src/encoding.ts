// Compact Encoding: typed arrays filled by the encoder; `tokens` and `offsets`
// become JS arrays only when read, so bulk encoding allocates little.
import { markAsUntransferable } from 'node:worker_threads';
import type { Encoding } from './types.js';

export class TokenEncoding implements Encoding {
  // Own properties, not getters over a buffer: structuredClone, spread and deep equality see them.
  readonly ids: Int32Array;
  readonly typeIds: Uint8Array;
  readonly specialTokensMask: Uint8Array;
  readonly sequenceIds: Int8Array;
  /** Flat [start0, end0, start1, end1, …]. */
  readonly offsetPairs: Int32Array;
  private readonly idToTokenTable: ArrayLike<string | undefined>;
  /**
   * [position, text] of the rare tokens whose text is not their id's (an added token matched with
   * the whitespace lstrip/rstrip took, as HF reports it), in position order; null for none.
   */
  readonly tokenTexts: ReadonlyArray<readonly [number, string]> | null;
  private tokenCache: string[] | undefined;
  private offsetCache: Array<[number, number]> | undefined;
  private maskCache: Uint8Array | undefined;

  constructor(
    arrays: EncodingArrays,
    idToTokenTable: ArrayLike<string | undefined>,
    tokens?: string[],
    tokenTexts: ReadonlyArray<readonly [number, string]> | null = null,
  ) {
    this.ids = arrays.ids;
    this.offsetPairs = arrays.offsets;
    this.typeIds = arrays.typeIds;
    this.specialTokensMask = arrays.special;
    this.sequenceIds = arrays.sequenceIds;
    this.idToTokenTable = idToTokenTable;
    this.tokenCache = tokens;
    this.tokenTexts = tokenTexts;
  }

  get length(): number {
    return this.ids.length;
  }

  get attentionMask(): Uint8Array {
    if (this.maskCache === undefined) this.maskCache = new Uint8Array(this.ids.length).fill(1);
    return this.maskCache;
  }

  get tokens(): string[] {
    if (this.tokenCache === undefined) {
      const table = this.idToTokenTable;
      const ids = this.ids;
      const tokens = new Array<string>(this.length);
      for (let i = 0; i < tokens.length; i++) tokens[i] = table[ids[i]] as string;
      if (this.tokenTexts !== null) for (const [position, text] of this.tokenTexts) tokens[position] = text;
      this.tokenCache = tokens;
    }
    return this.tokenCache;
  }

  get offsets(): Array<[number, number]> {
    if (this.offsetCache === undefined) {
      const pairs = this.offsetPairs;
      const out = new Array<[number, number]>(this.length);
      for (let i = 0; i < out.length; i++) out[i] = [pairs[2 * i], pairs[2 * i + 1]];
      this.offsetCache = out;
    }
    return this.offsetCache;
  }

  toJSON(): Record<string, unknown> {
    return {
      ids: Array.from(this.ids),
      tokens: this.tokens,
      attentionMask: Array.from(this.attentionMask),
      typeIds: Array.from(this.typeIds),
      specialTokensMask: Array.from(this.specialTokensMask),
      offsets: this.offsets,
    };
  }
}

/** An encoding's five arrays for `count` tokens. */
export interface EncodingArrays {
  ids: Int32Array;
  offsets: Int32Array;
  typeIds: Uint8Array;
  special: Uint8Array;
  sequenceIds: Int8Array;
}

/** Bytes per token of an encoding's arrays: ids 4, offsets 8, the three masks 1 each. */
export const ENCODING_BYTES_PER_TOKEN = 15;

/** Where short encodings' blocks come from. */
export interface BlockSource {
  /** Size of every block; an encoding over half of it gets a buffer of its own. */
  readonly blockBytes: number;
  /** A fresh, zero-filled block. */
  newBlock(): ArrayBuffer;
}

/**
 * `encode`'s blocks: 8 KB, as Node's Buffer pool, marked untransferable so that no postMessage can
 * detach one under the encodings in it.
 */
const LOCAL_BLOCKS: BlockSource = {
  blockBytes: 8 * 1024,
  newBlock() {
    const block = new ArrayBuffer(LOCAL_BLOCKS.blockBytes);
    markAsUntransferable(block);
    return block;
  },
};

let source = LOCAL_BLOCKS;
let slab: ArrayBuffer | null = null;
let slabUsed = 0;

/**
 * Sends this thread's short encodings to `next`'s blocks until called again (null: back to
 * `encode`'s own). An encodeBatch worker encodes straight into the blocks of its reply.
 */
export function setBlockSource(next: BlockSource | null): void {
  source = next ?? LOCAL_BLOCKS;
  slab = null;
  slabUsed = 0;
}

/** Bytes an encoding of `count` tokens takes in a shared block: the next one's Int32 views start 4-byte aligned. */
export function encodingBytes(count: number): number {
  return (ENCODING_BYTES_PER_TOKEN * count + 3) & ~3;
}

/** The five arrays of an encoding of `count` tokens laid out at byte `at` of `buffer` (4-byte aligned). */
export function encodingViews(buffer: ArrayBuffer, at: number, count: number): EncodingArrays {
  return {
    ids: new Int32Array(buffer, at, count),
    offsets: new Int32Array(buffer, at + 4 * count, 2 * count),
    typeIds: new Uint8Array(buffer, at + 12 * count, count),
    special: new Uint8Array(buffer, at + 13 * count, count),
    sequenceIds: new Int8Array(buffer, at + 14 * count, count),
  };
}

/**
 * The five arrays of one encoding as views of one ArrayBuffer. Creating an ArrayBuffer costs ~0.6 µs
 * here (five cost ~1.4 µs, a third of encoding a 75-character line), so a short encoding's views sit
 * in a shared block instead (~0.1 µs); a long one's buffer is its own (`ownsBuffer`), and a worker
 * thread can send it back with one transferable. Blocks are never written twice: new arrays read as zeros.
 */
export function allocateEncodingArrays(count: number): EncodingArrays {
  const bytes = ENCODING_BYTES_PER_TOKEN * count;
  if (bytes > source.blockBytes / 2) return encodingViews(new ArrayBuffer(bytes), 0, count);
  // A block is never empty: byteLength 0 means something detached it anyway (ArrayBuffer.prototype.transfer).
  if (slab === null || slab.byteLength === 0 || slabUsed + bytes > slab.byteLength) {
    slab = source.newBlock();
    slabUsed = 0;
  }
  const at = slabUsed;
  slabUsed += encodingBytes(count);
  return encodingViews(slab, at, count);
}

/** True when the encoding's arrays are the whole of their buffer (safe to transfer), not part of a shared block. */
export function ownsBuffer(ids: Int32Array): boolean {
  return ids.length > 0 && ids.byteOffset === 0 && ids.buffer.byteLength === ENCODING_BYTES_PER_TOKEN * ids.length;
}

/** Growable buffer of (id, start, end) triples the encoders append to. */
export class EncodingBuilder {
  ids: Int32Array;
  offsets: Int32Array;
  length = 0;
  /** [position, text] of tokens whose text is not their id's (see TokenEncoding.tokenTexts), or null. */
  tokenTexts: Array<[number, string]> | null = null;

  constructor(capacity = 64) {
    this.ids = new Int32Array(capacity);
    this.offsets = new Int32Array(capacity * 2);
  }

  reset(): void {
    this.length = 0;
    this.tokenTexts = null;
  }

  /** Gives the token last pushed the text `text` instead of its id's. */
  setLastTokenText(text: string): void {
    (this.tokenTexts ??= []).push([this.length - 1, text]);
  }

  grow(minimum: number): void {
    let capacity = this.ids.length * 2;
    while (capacity < minimum) capacity *= 2;
    const ids = new Int32Array(capacity);
    ids.set(this.ids.subarray(0, this.length));
    const offsets = new Int32Array(capacity * 2);
    offsets.set(this.offsets.subarray(0, this.length * 2));
    this.ids = ids;
    this.offsets = offsets;
  }

  push(id: number, start: number, end: number): void {
    if (this.length === this.ids.length) this.grow(this.length + 1);
    const n = this.length++;
    this.ids[n] = id;
    this.offsets[2 * n] = start;
    this.offsets[2 * n + 1] = end;
  }

  /** Appends the triples [id, relativeStart, relativeEnd, …] of `source[from, to)`, offsets shifted by `base`. */
  pushTriples(source: Int32Array, from: number, to: number, base: number): void {
    const count = (to - from) / 3;
    if (this.length + count > this.ids.length) this.grow(this.length + count);
    const ids = this.ids;
    const offsets = this.offsets;
    let n = this.length;
    for (let k = from; k < to; k += 3) {
      ids[n] = source[k];
      offsets[2 * n] = base + source[k + 1];
      offsets[2 * n + 1] = base + source[k + 2];
      n++;
    }
    this.length = n;
  }

  /** Appends a word's BPE result: [id, relativeStart, relativeEnd, …] shifted by `base`. */
  pushWord(entry: Int32Array, base: number): void {
    this.pushTriples(entry, 0, entry.length, base);
  }
}
