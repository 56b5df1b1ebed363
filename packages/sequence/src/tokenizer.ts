import { BitNetError, ErrorCode, formatValue, invalidArgument } from '@bitnet/errors';
import type { SequenceBatch } from './batch.js';
import { processAllowingEmpty, SequenceManager } from './sequence-manager.js';
import { checkBoolean, optionsObject } from './validation.js';
import type { SpecialTokensTemplate, TemplatePiece } from './template.js';

/** What `processTexts` needs from an encoding: ids, and optionally type ids and the special-tokens mask. */
export interface EncodingLike {
  ids: ArrayLike<number>;
  typeIds?: ArrayLike<number>;
  specialTokensMask?: ArrayLike<number>;
}

/**
 * The structural tokenizer `processTexts` works with (`@bitnet/tokenizer` satisfies it; so does a thin
 * wrapper around HF `tokenizers`). `encode` may return a promise.
 */
export interface TokenizerLike {
  encode(text: string, options?: { addSpecialTokens?: boolean; pair?: string | null }): EncodingLike | Promise<EncodingLike>;
  /** Ids must be below this (a number or a getter). */
  vocabSize?: number | (() => number);
  padTokenId?: number | null;
}

export type TextInput = string | readonly [string, string];

export interface ProcessTextsOptions {
  /** Truncation, padding and other settings; default a fresh `SequenceManager`. */
  manager?: SequenceManager;
  /** Add the tokenizer's special tokens (derived by probing it), default true. */
  addSpecialTokens?: boolean;
  /** Special-token template to use instead of probing the tokenizer. */
  specialTokens?: SpecialTokensTemplate;
}

const OP = 'processTexts';

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function checkEncoding(value: unknown, what: string): EncodingLike {
  if (value === null || typeof value !== 'object' || typeof (value as EncodingLike).ids !== 'object' || (value as EncodingLike).ids === null) {
    throw invalidArgument(OP, `tokenizer.encode returned ${formatValue(value)} for ${what}; expected { ids }`);
  }
  return value as EncodingLike;
}

function checkTokenizer(tokenizer: unknown): TokenizerLike {
  if (tokenizer === null || typeof tokenizer !== 'object' || typeof (tokenizer as TokenizerLike).encode !== 'function') {
    throw invalidArgument(OP, `tokenizer must have an encode(text, options) method, got ${formatValue(tokenizer)}`);
  }
  return tokenizer as TokenizerLike;
}

function checkTexts(texts: unknown): readonly TextInput[] {
  if (!Array.isArray(texts)) throw invalidArgument(OP, `texts must be an array, got ${formatValue(texts)}`);
  if (texts.length === 0) throw invalidArgument(OP, 'texts is empty');
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i];
    const ok = typeof text === 'string' || (Array.isArray(text) && text.length === 2 && typeof text[0] === 'string' && typeof text[1] === 'string');
    if (!ok) throw invalidArgument(OP, `texts[${i}] must be a string or a [string, string] pair, got ${formatValue(text)}`);
  }
  return texts;
}

function vocabSizeOf(tokenizer: TokenizerLike): number | undefined {
  const size = typeof tokenizer.vocabSize === 'function' ? tokenizer.vocabSize() : tokenizer.vocabSize;
  return typeof size === 'number' && Number.isInteger(size) && size > 0 ? size : undefined;
}

function equalRange(full: ArrayLike<number>, at: number, part: ArrayLike<number>): boolean {
  if (at + part.length > full.length) return false;
  for (let i = 0; i < part.length; i++) if (full[at + i] !== part[i]) return false;
  return true;
}

/**
 * Finds where the tokenizer puts its special tokens by comparing an encoding with special tokens to the
 * raw encodings of the same text(s). Uses the special-tokens mask when the tokenizer gives one, otherwise
 * the first placement of the raw ids inside the full ids. The result must reproduce the full encoding.
 */
export function deriveSpecialTokens(full: EncodingLike, first: ArrayLike<number>, second: ArrayLike<number> | null): TemplatePiece[] {
  const ids = full.ids;
  const types = full.typeIds;
  const typeAt = (position: number, fallback: number) => (types && types.length === ids.length ? Number(types[position]) : fallback);
  const pieces: TemplatePiece[] = [];
  const pushSequence = (sequence: 'A' | 'B', at: number, fallbackType: number) => {
    pieces.push({ sequence, typeId: typeAt(at, fallbackType) });
  };
  const mask = full.specialTokensMask;
  let startA = -1;
  let startB = -1;
  if (mask && mask.length === ids.length) {
    // Content positions are the unmasked ones: the first |A| belong to A, the rest to B.
    let content = 0;
    for (let i = 0; i < ids.length; i++) {
      if (mask[i]) continue;
      if (content === 0) startA = i;
      if (second && content === first.length) startB = i;
      content++;
    }
    if (second && second.length === 0) startB = -1;
  } else {
    for (let a = 0; a + first.length <= ids.length && startA < 0; a++) {
      if (!equalRange(ids, a, first)) continue;
      if (!second) startA = a;
      else {
        for (let b = a + first.length; b + second.length <= ids.length; b++) {
          if (equalRange(ids, b, second)) {
            startA = a;
            startB = b;
            break;
          }
        }
      }
    }
  }
  const fail = (): never => {
    throw new BitNetError(
      ErrorCode.UNSUPPORTED,
      OP,
      `cannot find where the tokenizer adds special tokens: its encoding with special tokens (${ids.length} ids) is not the raw encoding${second ? 's' : ''} (${first.length}${second ? ` + ${second.length}` : ''} ids) with tokens around ${second ? 'them' : 'it'}; pass options.specialTokens`,
    );
  };
  if (startA < 0 || (second && startB < 0)) fail();
  for (let i = 0; i < ids.length; ) {
    if (i === startA) {
      pushSequence('A', i, 0);
      i += first.length;
    } else if (second && i === startB) {
      pushSequence('B', i, 1);
      i += second.length;
    } else {
      // Without type ids from the tokenizer, tokens after the second sequence's start take its type (HF BERT style).
      pieces.push({ tokenId: Number(ids[i]), typeId: typeAt(i, second && i >= startB ? 1 : 0) });
      i++;
    }
  }
  // The derived template applied to the raw ids must give back exactly the full ids.
  const rebuilt: number[] = [];
  for (const piece of pieces) {
    if ('tokenId' in piece) rebuilt.push(piece.tokenId);
    else for (const id of Array.from(piece.sequence === 'A' ? first : second!)) rebuilt.push(id);
  }
  if (rebuilt.length !== ids.length || rebuilt.some((id, i) => id !== Number(ids[i]))) fail();
  return pieces;
}

/** Encode options for `pair`: none when there is no pair (`@bitnet/tokenizer` refuses `pair: null`). */
function encodeOptions(addSpecialTokens: boolean, pair: string | null): { addSpecialTokens: boolean; pair?: string } {
  return pair === null ? { addSpecialTokens } : { addSpecialTokens, pair };
}

type RawIds = ArrayLike<number> | [ArrayLike<number>, ArrayLike<number>];

/** One call of `tokenizer.encode` the template probe needs; `what` names the input in errors. */
interface EncodeRequest {
  text: string;
  pair: string | null;
  addSpecialTokens: boolean;
  what: string;
}

/**
 * Text probed for the special tokens when every text (or pair) of the batch encodes to nothing: an empty
 * encoding cannot show where the sequence goes between them.
 */
const PROBE_TEXT = 'a';

/**
 * Finds the tokenizer's template by comparing encodings with and without special tokens: the single form
 * from the first text (or pair's first text) that has tokens, the pair form from the first pair whose
 * texts both have tokens; probe texts stand in when there is none. A generator of the encode calls it
 * needs, so `processTexts` (async) and `processTextsSync` share it.
 */
function* probeTemplate(items: readonly TextInput[], raw: readonly RawIds[]): Generator<EncodeRequest, SpecialTokensTemplate | undefined, EncodingLike> {
  let singleIndex = -1;
  let pairIndex = -1;
  for (let i = 0; i < items.length && (singleIndex < 0 || pairIndex < 0); i++) {
    const ids = raw[i];
    if (typeof items[i] === 'string') {
      if (singleIndex < 0 && (ids as ArrayLike<number>).length > 0) singleIndex = i;
    } else if (pairIndex < 0) {
      const [a, b] = ids as [ArrayLike<number>, ArrayLike<number>];
      if (a.length > 0 && b.length > 0) pairIndex = i;
    }
  }
  const rawOf = function* (text: string, what: string): Generator<EncodeRequest, ArrayLike<number>, EncodingLike> {
    return (yield { text, pair: null, addSpecialTokens: false, what }).ids;
  };
  let pair: TemplatePiece[] | undefined;
  let single: TemplatePiece[] | undefined;
  let pairFirst: { text: string; ids: ArrayLike<number>; what: string } | undefined;
  if (pairIndex >= 0 || items.some((item) => typeof item !== 'string')) {
    const what = pairIndex >= 0 ? `texts[${pairIndex}]` : 'a probe pair';
    const [a, b] = pairIndex >= 0 ? (items[pairIndex] as readonly [string, string]) : [PROBE_TEXT, PROBE_TEXT];
    const [rawA, rawB] = pairIndex >= 0 ? (raw[pairIndex] as [ArrayLike<number>, ArrayLike<number>]) : [yield* rawOf(a, what), yield* rawOf(b, what)];
    if (rawA.length > 0 && rawB.length > 0) {
      pair = deriveSpecialTokens(yield { text: a, pair: b, addSpecialTokens: true, what }, rawA, rawB);
      pairFirst = { text: a, ids: rawA, what: `${what}[0]` };
    }
  }
  if (singleIndex >= 0) {
    const text = items[singleIndex] as string;
    single = deriveSpecialTokens(yield { text, pair: null, addSpecialTokens: true, what: `texts[${singleIndex}]` }, raw[singleIndex] as ArrayLike<number>, null);
  } else if (pairFirst) {
    single = deriveSpecialTokens(yield { text: pairFirst.text, pair: null, addSpecialTokens: true, what: pairFirst.what }, pairFirst.ids, null);
  } else {
    const ids = yield* rawOf(PROBE_TEXT, 'a probe text');
    if (ids.length > 0) single = deriveSpecialTokens(yield { text: PROBE_TEXT, pair: null, addSpecialTokens: true, what: 'a probe text' }, ids, null);
  }
  return single ? { single, ...(pair ? { pair } : {}) } : undefined;
}

/** options.specialTokens: a template object, or undefined (null counts as not given); anything else is refused. */
function specialTokensOption(op: string, options: ProcessTextsOptions): SpecialTokensTemplate | undefined {
  const template = options.specialTokens ?? undefined;
  if (template !== undefined && typeof template !== 'object') {
    throw invalidArgument(op, `options.specialTokens must be a template from parseTemplate, got ${formatValue(template)}`);
  }
  return template;
}

function prepareManager(
  tokenizer: TokenizerLike,
  options: ProcessTextsOptions,
  template: SpecialTokensTemplate | undefined,
): SequenceManager {
  const base = options.manager ?? new SequenceManager();
  if (!(base instanceof SequenceManager)) throw invalidArgument(OP, `options.manager must be a SequenceManager, got ${formatValue(base)}`);
  const manager = base.clone();
  const vocabSize = vocabSizeOf(tokenizer);
  if (vocabSize !== undefined && manager.options.vocabSize === undefined) manager.withVocabSize(vocabSize);
  const pad = tokenizer.padTokenId;
  if (!manager.hasExplicitPadTokenId && typeof pad === 'number' && Number.isInteger(pad) && pad >= 0) manager.withPadTokenId(pad);
  if (template !== undefined) manager.withSpecialTokens(template);
  return manager;
}

/**
 * Tokenizes `texts` (strings and `[first, second]` pairs) with `tokenizer` and turns them into one batch with
 * the manager's truncation and padding. Texts are encoded without special tokens, truncated, and then get the
 * tokenizer's special tokens (found by probing it once per form, or given as `options.specialTokens`), so
 * truncation leaves room for them exactly as HF `tokenizers` does. A text that encodes to no tokens (`''`)
 * gets the special tokens alone, as in HF.
 */
export async function processTexts(tokenizer: TokenizerLike, texts: readonly TextInput[], options: ProcessTextsOptions = {}): Promise<SequenceBatch> {
  options = optionsObject(OP, options);
  const checked = checkTokenizer(tokenizer);
  const items = checkTexts(texts);
  const encode = async (request: EncodeRequest): Promise<EncodingLike> =>
    checkEncoding(await checked.encode(request.text, encodeOptions(request.addSpecialTokens, request.pair)), request.what);
  const raw = await Promise.all(
    items.map(async (item, i): Promise<RawIds> => {
      if (typeof item === 'string') return (await encode({ text: item, pair: null, addSpecialTokens: false, what: `texts[${i}]` })).ids;
      const [first, second] = await Promise.all([
        encode({ text: item[0], pair: null, addSpecialTokens: false, what: `texts[${i}][0]` }),
        encode({ text: item[1], pair: null, addSpecialTokens: false, what: `texts[${i}][1]` }),
      ]);
      return [first.ids, second.ids];
    }),
  );
  let template = specialTokensOption(OP, options);
  if (template === undefined && checkBoolean(OP, 'options.addSpecialTokens', options.addSpecialTokens, true)) {
    const steps = probeTemplate(items, raw);
    for (let step = steps.next(); ; ) {
      if (step.done) {
        template = step.value;
        break;
      }
      step = steps.next(await encode(step.value));
    }
  }
  return processAllowingEmpty(prepareManager(checked, options, template), raw);
}

/** `processTexts` for tokenizers whose `encode` is synchronous; throws if it returns a promise. */
export function processTextsSync(tokenizer: TokenizerLike, texts: readonly TextInput[], options: ProcessTextsOptions = {}): SequenceBatch {
  options = optionsObject('processTextsSync', options);
  const checked = checkTokenizer(tokenizer);
  const items = checkTexts(texts);
  const encode = (request: EncodeRequest): EncodingLike => {
    const result = checked.encode(request.text, encodeOptions(request.addSpecialTokens, request.pair));
    if (isThenable(result)) throw invalidArgument('processTextsSync', 'tokenizer.encode returned a promise; use processTexts');
    return checkEncoding(result, request.what);
  };
  const raw = items.map((item, i): RawIds =>
    typeof item === 'string'
      ? encode({ text: item, pair: null, addSpecialTokens: false, what: `texts[${i}]` }).ids
      : [encode({ text: item[0], pair: null, addSpecialTokens: false, what: `texts[${i}][0]` }).ids, encode({ text: item[1], pair: null, addSpecialTokens: false, what: `texts[${i}][1]` }).ids],
  );
  let template = specialTokensOption('processTextsSync', options);
  if (template === undefined && checkBoolean('processTextsSync', 'options.addSpecialTokens', options.addSpecialTokens, true)) {
    const steps = probeTemplate(items, raw);
    for (let step = steps.next(); ; ) {
      if (step.done) {
        template = step.value;
        break;
      }
      step = steps.next(encode(step.value));
    }
  }
  return processAllowingEmpty(prepareManager(checked, options, template), raw);
}
