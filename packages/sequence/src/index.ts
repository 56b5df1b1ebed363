export { PaddingStrategy, TruncationStrategy, isSequencePair } from './types.js';
export type { TokenSequence, SequencePair, SequenceInput, Side } from './types.js';
export { SequenceManager } from './sequence-manager.js';
export type { SequenceManagerOptions, MemoryEstimate } from './sequence-manager.js';
export { SequenceBatch, ProcessedSequence } from './batch.js';
export { parseTemplate, DEFAULT_TEMPLATE } from './template.js';
export type { SpecialTokensTemplate, TemplatePiece } from './template.js';
export { longestFirstLengths, truncationWindows, LONGEST_FIRST_RULES } from './truncation.js';
export type { LongestFirstRule, LongestFirstOptions } from './truncation.js';
export {
  causalMask,
  paddingMask,
  attentionMask4d,
  additiveAttentionMask,
  toAdditiveMask,
  positionIds,
  blockDiagonalMask,
  FLOAT32_MASKED_VALUE,
} from './masks.js';
export type { Mask, MaskOptions, AdditiveMaskOptions } from './masks.js';
export { ProcessingSummary, createProcessingSummary, analyzeBatchLengths, percentile } from './statistics.js';
export type { ProcessingCounts, LengthAnalysis, LengthHistogram } from './statistics.js';
export { createBatches, bucketByLength, paddingWaste } from './batching.js';
export type { BatchingOptions, TokenBatch } from './batching.js';
export { packSequences, PackedBatch } from './packing.js';
export type { PackingOptions, PackedSegment } from './packing.js';
export { processTexts, processTextsSync, deriveSpecialTokens } from './tokenizer.js';
export type { TokenizerLike, EncodingLike, TextInput, ProcessTextsOptions } from './tokenizer.js';
export { estimateMemoryUsage } from './memory.js';
