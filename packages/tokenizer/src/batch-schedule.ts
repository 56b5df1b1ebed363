// How encodeBatch shares a batch between threads. The texts are cut into
// chunks of whole texts, in input order, and the chunk list into one contiguous
// range per thread, so each thread sees one part of the input: neighbouring
// texts share words, and every word a thread meets for the first time is a
// cache miss it pays for. On the 13.5 MB bench corpus one thread misses 112.6K
// words; handing chunks out alternately to two threads made 133.9K misses
// between them, these two ranges make 122.9K.
//
// Within its range a thread takes the biggest chunk first; a thread whose range
// is empty takes the smallest chunk left in the fullest other range (from its
// back). Big texts thus start early, and the end of the batch is spread in small
// pieces, so no thread waits long for another.

/** One range's claim state: front (next chunk its owner takes) in the high 32 bits, back (one past the last chunk left) in the low ones. */
function pack(front: number, back: number): bigint {
  return (BigInt(front) << 32n) | BigInt(back);
}

export interface ChunkPlan {
  /** [from0, to0, from1, to1, …]: text ranges, range after range, biggest first within each. */
  chunks: Int32Array;
  /** Chunk k of the list belongs to the range r with rangeStarts[r] ≤ k < rangeStarts[r + 1]. */
  rangeStarts: Int32Array;
}

/**
 * Cuts texts of these lengths into chunks of about `target` units (whole texts; a longer text is a
 * chunk of its own), then into `threads` contiguous ranges of about equal size.
 */
export function planChunks(lengths: ArrayLike<number>, threads: number, target: number): ChunkPlan {
  const from: number[] = [];
  const to: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  let start = 0;
  let size = 0;
  for (let i = 0; i < lengths.length; i++) {
    size += lengths[i];
    if (size >= target || i === lengths.length - 1) {
      from.push(start);
      to.push(i + 1);
      sizes.push(size);
      total += size;
      start = i + 1;
      size = 0;
    }
  }
  const chunks = new Int32Array(2 * sizes.length);
  const rangeStarts = new Int32Array(threads + 1);
  let chunk = 0;
  let before = 0;
  for (let range = 0; range < threads; range++) {
    rangeStarts[range] = chunk;
    // A chunk belongs to the range its middle falls in; the last range takes the rest.
    let last = chunk;
    const limit = range === threads - 1 ? Infinity : (total * (range + 1)) / threads;
    while (last < sizes.length && before + sizes[last] / 2 < limit) before += sizes[last++];
    const members: number[] = [];
    for (let k = chunk; k < last; k++) members.push(k);
    members.sort((a, b) => sizes[b] - sizes[a] || a - b);
    members.forEach((member, k) => {
      chunks[2 * (chunk + k)] = from[member];
      chunks[2 * (chunk + k) + 1] = to[member];
    });
    chunk = last;
  }
  rangeStarts[threads] = sizes.length;
  return { chunks, rangeStarts };
}

/**
 * The order in which the calling thread (owner of range 0) copies chunks to shared memory: the
 * other ranges front first, a chunk of each in turn, so every worker starts at once; then its own
 * range from the back, where a worker that runs out takes chunks.
 */
export function planCopyOrder(plan: ChunkPlan): Int32Array {
  const { rangeStarts } = plan;
  const ranges = rangeStarts.length - 1;
  const order = new Int32Array(rangeStarts[ranges]);
  let n = 0;
  for (let k = 0; n < order.length - rangeStarts[1]; k++) {
    for (let range = 1; range < ranges; range++) if (rangeStarts[range] + k < rangeStarts[range + 1]) order[n++] = rangeStarts[range] + k;
  }
  for (let chunk = rangeStarts[1] - 1; chunk >= 0; chunk--) order[n++] = chunk;
  return order;
}

/** Claim state for a plan: a BigInt64Array over shared memory, one cell per range. */
export function createClaims(plan: ChunkPlan): BigInt64Array {
  const ranges = plan.rangeStarts.length - 1;
  const claims = new BigInt64Array(new SharedArrayBuffer(8 * Math.max(ranges, 1)));
  for (let r = 0; r < ranges; r++) claims[r] = pack(plan.rangeStarts[r], plan.rangeStarts[r + 1]);
  return claims;
}

/** Takes no more chunks from any range (a batch that failed). */
export function closeClaims(claims: BigInt64Array): void {
  for (let r = 0; r < claims.length; r++) Atomics.store(claims, r, 0n);
}

/**
 * The next chunk for the thread that owns range `own`: the front of its range, or, once that is
 * empty, the back of the fullest other range; -1 when every range is empty. Each chunk is
 * handed out once, whichever threads race for it.
 */
export function claimChunk(claims: BigInt64Array, own: number): number {
  for (;;) {
    const state = Atomics.load(claims, own);
    const front = Number(state >> 32n);
    const back = Number(state & 0xffffffffn);
    if (front >= back) break;
    if (Atomics.compareExchange(claims, own, state, pack(front + 1, back)) === state) return front;
  }
  for (;;) {
    let fullest = -1;
    let most = 0;
    for (let r = 0; r < claims.length; r++) {
      const state = Atomics.load(claims, r);
      const left = Number(state & 0xffffffffn) - Number(state >> 32n);
      if (r !== own && left > most) {
        most = left;
        fullest = r;
      }
    }
    if (fullest < 0) return -1;
    const state = Atomics.load(claims, fullest);
    const front = Number(state >> 32n);
    const back = Number(state & 0xffffffffn);
    if (front < back && Atomics.compareExchange(claims, fullest, state, pack(front, back - 1)) === state) return back - 1;
  }
}
