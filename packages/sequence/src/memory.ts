import { formatValue, invalidArgument } from '@bitnet/errors';
import { type MemoryEstimate, SequenceManager } from './sequence-manager.js';
import type { SequenceInput } from './types.js';

/**
 * Exact bytes of the dense outputs that `manager.processBatch(sequences)` allocates (inputIds 4 B per cell,
 * attention mask 1 B, token type ids 4 B when present, special-tokens mask 1 B when present, plus the
 * per-row index arrays), computed without allocating them. Same validation as `processBatch`.
 */
export function estimateMemoryUsage(sequences: readonly SequenceInput[], manager: SequenceManager = new SequenceManager()): MemoryEstimate {
  if (!(manager instanceof SequenceManager)) throw invalidArgument('estimateMemoryUsage', `manager must be a SequenceManager, got ${formatValue(manager)}`);
  return manager.estimateMemoryUsage(sequences);
}
