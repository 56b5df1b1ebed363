/**
 * Small seeded generator (mulberry32) so shuffles are reproducible from a seed across runs and machines.
 * Its state is 32 bits: a seed in [0, 2^32) is the state; the high part of a wider or negative (safe) integer
 * is mixed in rather than dropped, so 1 and 1 + 2^32 (or -1 and 2^32 - 1) shuffle differently.
 */
export function createRandom(seed: number): () => number {
  // Above the low 32 bits, a safe integer has 21 more (and a sign): exact in `| 0`.
  const high = Math.floor(seed / 4294967296);
  let state = ((seed >>> 0) ^ (high === 0 ? 0 : Math.imul(high | 0, 0x9e3779b1) ^ 0x5bd1e995)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [index: number]: number }>(values: T, random: () => number): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = values[i];
    values[i] = values[j];
    values[j] = swap;
  }
  return values;
}
