// Argument checks and special-token bookkeeping shared by every tokenizer kind.
import { BitNetError, ErrorCode, formatValue, invalidArgument, optionsObject, outOfRange } from '@bitnet/errors';
import { PrefixDecodeStream } from './decode-stream.js';
import { type DecodeOptions, type DecodeStream, SPECIAL_TOKEN_ROLES, type SpecialToken, type SpecialTokenRole } from './types.js';

// Shared with @bitnet/sequence through @bitnet/errors.
export { optionsObject };

export function checkText(op: string, value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') {
    throw invalidArgument(op, `${name} must be a string, got ${value === null ? 'null' : typeof value} ${formatValue(value)}`);
  }
}

export function checkTexts(op: string, value: unknown, name: string): asserts value is string[] {
  if (!Array.isArray(value)) throw invalidArgument(op, `${name} must be an array of strings, got ${formatValue(value)}`);
  for (let i = 0; i < value.length; i++) checkText(op, value[i], `${name}[${i}]`);
}

/** Ids must be integers in [0, size): anything else is a typed error naming the first bad one. */
export function checkDecodeIds(op: string, ids: unknown, size: number): asserts ids is ArrayLike<number> {
  if (ids === null || typeof ids !== 'object' || typeof (ids as ArrayLike<number>).length !== 'number') {
    throw invalidArgument(op, `ids must be an array or typed array of token ids, got ${formatValue(ids)}`);
  }
  const list = ids as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const id = list[i];
    if (typeof id !== 'number' || !Number.isInteger(id)) {
      throw invalidArgument(op, `ids[${i}] must be an integer token id, got ${formatValue(id)}`);
    }
    if (id < 0 || id >= size) throw outOfRange(op, `ids[${i}] = ${id} is outside the vocabulary [0, ${size})`);
  }
}

/**
 * Validates `[token, id]` pairs for addSpecialTokens and returns the ones that are new
 * (a token already present with the same id is only marked special). Nothing is changed
 * when any pair is bad.
 */
export function registerSpecialTokens(
  op: string,
  tokens: unknown,
  roles: unknown,
  tokenToId: (token: string) => number | undefined,
  idToToken: (id: number) => string | undefined,
  vocabSize?: number,
): Array<[string, number]> {
  if (!Array.isArray(tokens)) throw invalidArgument(op, `tokens must be an array of [token, id] pairs, got ${formatValue(tokens)}`);
  const result: Array<[string, number]> = [];
  const seenTokens = new Map<string, number>();
  const seenIds = new Map<number, string>();
  let limit = vocabSize;
  for (let i = 0; i < tokens.length; i++) {
    const entry = tokens[i] as unknown;
    if (!Array.isArray(entry) || entry.length !== 2) throw invalidArgument(op, `tokens[${i}] must be a [token, id] pair, got ${formatValue(entry)}`);
    const [token, id] = entry as [unknown, unknown];
    if (typeof token !== 'string' || token.length === 0) throw invalidArgument(op, `tokens[${i}][0] must be a non-empty string, got ${formatValue(token)}`);
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0) throw invalidArgument(op, `tokens[${i}][1] must be a non-negative integer id, got ${formatValue(id)}`);
    const existingId = seenTokens.get(token) ?? tokenToId(token);
    if (existingId !== undefined && existingId !== id) {
      throw new BitNetError(ErrorCode.INVALID_ARGUMENT, op, `token ${formatValue(token)} already has id ${existingId}, not ${id}`);
    }
    const existingToken = seenIds.get(id) ?? idToToken(id);
    if (existingToken !== undefined && existingToken !== token) {
      throw new BitNetError(ErrorCode.INVALID_ARGUMENT, op, `id ${id} already belongs to token ${formatValue(existingToken)}, cannot give it to ${formatValue(token)}`);
    }
    if (limit !== undefined && existingToken === undefined) {
      // New ids continue the vocabulary: a far-away id would allocate tables for every id below it.
      if (id > limit) throw outOfRange(op, `new id ${id} for ${formatValue(token)} leaves a gap: the next free id is ${limit}`);
      if (id === limit) limit++;
    }
    seenTokens.set(token, id);
    seenIds.set(id, token);
    result.push([token, id]);
  }
  if (roles !== undefined) {
    if (roles === null || typeof roles !== 'object') throw invalidArgument(op, `roles must be an object like { eos: '</s>' }, got ${formatValue(roles)}`);
    for (const [role, token] of Object.entries(roles)) {
      if (!SPECIAL_TOKEN_ROLES.includes(role as SpecialTokenRole)) {
        throw invalidArgument(op, `unknown special token role ${formatValue(role)}; roles are ${SPECIAL_TOKEN_ROLES.join(', ')}`);
      }
      if (typeof token !== 'string' || (seenTokens.get(token) ?? tokenToId(token)) === undefined) {
        throw invalidArgument(op, `role ${role} names ${formatValue(token)}, which is not a token of this tokenizer`);
      }
    }
  }
  return result;
}

export function resolveRoles(
  roles: Partial<Record<SpecialTokenRole, string>>,
  tokenToId: (token: string) => number | undefined,
): Partial<Record<SpecialTokenRole, SpecialToken>> {
  const out: Partial<Record<SpecialTokenRole, SpecialToken>> = {};
  for (const role of SPECIAL_TOKEN_ROLES) {
    const token = roles[role];
    if (token === undefined) continue;
    const id = tokenToId(token);
    if (id !== undefined) out[role] = { token, id };
  }
  return out;
}

/** `decodeBatch` of every tokenizer kind: each id array decoded with the same options. */
export function decodeEach(
  decode: (ids: ArrayLike<number>, options: DecodeOptions) => string,
  batch: ReadonlyArray<ArrayLike<number>>,
  options: DecodeOptions,
): string[] {
  options = optionsObject('decodeBatch', options);
  if (!Array.isArray(batch)) throw invalidArgument('decodeBatch', `batch must be an array of id arrays, got ${typeof batch}`);
  return batch.map((ids) => decode(ids, options));
}

/** A streaming decoder over a tokenizer's own `decode` (for kinds without byte-level tokens). */
export function prefixDecodeStream(
  decode: (ids: ArrayLike<number>, options: DecodeOptions) => string,
  vocabularySize: () => number,
  options: DecodeOptions,
): DecodeStream {
  return new PrefixDecodeStream(
    (ids) => decode(ids, options),
    (id) => checkDecodeIds('decodeStream.push', [id], vocabularySize()),
  );
}
