// The chunk plan and the claims, checked against their definitions: chunks cut
// the batch into whole-text pieces in input order, ranges are contiguous and
// balanced, each range is biggest first, and claiming hands out every chunk
// exactly once: owners from their front, others from the back of the fullest.
import { describe, expect, it } from 'vitest';
import { claimChunk, closeClaims, createClaims, planChunks, planCopyOrder, type ChunkPlan } from './batch-schedule.js';

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function lengthsOf(seed: number, count: number): number[] {
  const next = random(seed);
  // Mostly short texts, some long ones: sizes spread over four orders of magnitude.
  return Array.from({ length: count }, () => Math.floor(10 ** (1 + 4 * next() ** 3)));
}

function chunkList(plan: ChunkPlan): Array<{ from: number; to: number; size: number; range: number }> {
  return Array.from({ length: plan.chunks.length / 2 }, (_, k) => {
    let range = 0;
    while (plan.rangeStarts[range + 1] <= k) range++;
    return { from: plan.chunks[2 * k], to: plan.chunks[2 * k + 1], size: 0, range };
  });
}

describe('planChunks', () => {
  for (const [seed, count, threads, target] of [
    [1, 300, 2, 2000],
    [2, 1000, 4, 500],
    [3, 50, 8, 20_000],
    [4, 7, 3, 1],
    [5, 1, 2, 100],
  ] as const) {
    it(`cuts ${count} texts for ${threads} threads (target ${target}) into balanced contiguous ranges, biggest chunk first`, () => {
      const lengths = lengthsOf(seed, count);
      const plan = planChunks(lengths, threads, target);
      expect(plan.rangeStarts.length).toBe(threads + 1);
      expect(plan.rangeStarts[0]).toBe(0);
      expect(plan.rangeStarts[threads]).toBe(plan.chunks.length / 2);
      const chunks = chunkList(plan);
      for (const chunk of chunks) for (let i = chunk.from; i < chunk.to; i++) chunk.size += lengths[i];
      // In input order the chunks tile [0, count) and each holds texts until it reaches the target.
      const inOrder = [...chunks].sort((a, b) => a.from - b.from);
      let next = 0;
      inOrder.forEach((chunk, k) => {
        expect(chunk.from).toBe(next);
        expect(chunk.to).toBeGreaterThan(chunk.from);
        next = chunk.to;
        if (k < inOrder.length - 1) {
          expect(chunk.size).toBeGreaterThanOrEqual(target);
          expect(chunk.size - lengths[chunk.to - 1]).toBeLessThan(target);
        }
      });
      expect(next).toBe(count);
      // Ranges follow input order: range r's texts all come before range r + 1's.
      for (let k = 1; k < inOrder.length; k++) expect(inOrder[k].range).toBeGreaterThanOrEqual(inOrder[k - 1].range);
      // Each range is within one chunk of an equal share.
      const total = lengths.reduce((sum, length) => sum + length, 0);
      const biggest = Math.max(...chunks.map((chunk) => chunk.size));
      for (let range = 0; range < threads; range++) {
        const mine = chunks.filter((chunk) => chunk.range === range);
        const size = mine.reduce((sum, chunk) => sum + chunk.size, 0);
        expect(Math.abs(size - total / threads)).toBeLessThanOrEqual(biggest);
        for (let k = 1; k < mine.length; k++) expect(mine[k].size).toBeLessThanOrEqual(mine[k - 1].size);
      }
    });
  }

  it('plans nothing for an empty batch', () => {
    const plan = planChunks([], 3, 100);
    expect(plan.chunks.length).toBe(0);
    expect(Array.from(plan.rangeStarts)).toEqual([0, 0, 0, 0]);
    expect(claimChunk(createClaims(plan), 1)).toBe(-1);
  });
});

describe('claimChunk', () => {
  for (const seed of [11, 12, 13]) {
    it(`hands out every chunk once, owners from their front, others from the back of the fullest range (seed ${seed})`, () => {
      const threads = 4;
      const plan = planChunks(lengthsOf(seed, 400), threads, 3000);
      const claims = createClaims(plan);
      const count = plan.chunks.length / 2;
      const front = Array.from(plan.rangeStarts.subarray(0, threads));
      const back = Array.from(plan.rangeStarts.subarray(1));
      const seen = new Set<number>();
      const done = new Set<number>();
      const next = random(seed);
      while (done.size < threads) {
        const thread = Math.floor(next() * threads);
        if (done.has(thread)) continue;
        const chunk = claimChunk(claims, thread);
        if (chunk < 0) {
          // Only once nothing is left anywhere.
          expect(seen.size).toBe(count);
          done.add(thread);
          continue;
        }
        expect(seen.has(chunk)).toBe(false);
        seen.add(chunk);
        if (front[thread] < back[thread]) {
          expect(chunk).toBe(front[thread]++);
        } else {
          const left = front.map((f, r) => (r === thread ? 0 : back[r] - f));
          const fullest = left.indexOf(Math.max(...left));
          expect(chunk).toBe(--back[fullest]);
        }
      }
      expect(seen.size).toBe(count);
    });
  }

  it('hands out nothing more once the claims are closed', () => {
    const claims = createClaims(planChunks(lengthsOf(7, 100), 2, 500));
    expect(claimChunk(claims, 0)).toBe(0);
    closeClaims(claims);
    expect(claimChunk(claims, 0)).toBe(-1);
    expect(claimChunk(claims, 1)).toBe(-1);
  });
});

describe('planCopyOrder', () => {
  for (const threads of [1, 2, 3, 5]) {
    it(`copies every chunk once for ${threads} thread(s): the other ranges' fronts in turn, then range 0 from its back`, () => {
      const plan = planChunks(lengthsOf(21 + threads, 300), threads, 2000);
      const order = Array.from(planCopyOrder(plan));
      const count = plan.chunks.length / 2;
      expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, k) => k));
      const starts = plan.rangeStarts;
      // Expected order written out: round k takes the k-th chunk of each range 1.. that has one.
      const expected: number[] = [];
      for (let k = 0; k < count; k++) for (let range = 1; range < threads; range++) if (starts[range] + k < starts[range + 1]) expected.push(starts[range] + k);
      for (let chunk = starts[1] - 1; chunk >= 0; chunk--) expected.push(chunk);
      expect(order).toEqual(expected);
    });
  }
});
