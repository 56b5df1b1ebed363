export type {
  Tokenizer,
  TokenizerKind,
  Encoding,
  EncodeOptions,
  DecodeOptions,
  EncodeBatchOptions,
  DecodeStream,
  SpecialToken,
  SpecialTokenRole,
} from './types.js';
export { SPECIAL_TOKEN_ROLES } from './types.js';
export { TokenEncoding } from './encoding.js';
export { ByteLevelBpeTokenizer, type ByteLevelBpeSpec } from './byte-level-bpe.js';
export { HuggingFaceTokenizer } from './hf-tokenizer.js';
export { SimpleTokenizer, type SimpleVocab, type SimpleTokenizerOptions } from './simple.js';
export {
  loadTokenizer,
  loadHfTokenizer,
  tokenizerFromJson,
  createBpeTokenizer,
  createSimpleTokenizer,
  type LoadOptions,
  type BpeTokenizerOptions,
} from './load.js';
export {
  encodeText,
  decodeTokens,
  encodeBatch,
  decodeBatch,
  addSpecialTokens,
  getSpecialTokenId,
  validateRoundTrip,
  type RoundTripReport,
} from './functions.js';
export { findLlama3TokenizerFiles, type TokenizerFiles } from './locate.js';
export { releaseWorkers, workerThreadsAvailable } from './batch.js';
export { cleanUpTokenizationSpaces } from './cleanup.js';
