import { formatValue, invalidArgument } from '@bitnet/errors';
import { checkTokenId, optionsObject } from './validation.js';

/** One piece of a special-token template: a sequence slot or a special token, each with a token type id. */
export type TemplatePiece = { sequence: 'A' | 'B'; typeId: number } | { tokenId: number; typeId: number };

/**
 * Where special tokens go, as HF `TemplateProcessing` defines it: `single` for one sequence (`[CLS] $A [SEP]`),
 * `pair` for two (`[CLS] $A [SEP] $B:1 [SEP]:1`). Truncation leaves room for these tokens.
 */
export interface SpecialTokensTemplate {
  single: readonly TemplatePiece[];
  pair?: readonly TemplatePiece[];
}

/** A template checked and laid out for the hot loop. */
export interface CompiledTemplate {
  pieces: readonly TemplatePiece[];
  added: number;
}

export function compileTemplate(op: string, pieces: readonly TemplatePiece[], isPair: boolean, vocabSize?: number): CompiledTemplate {
  if (!Array.isArray(pieces)) throw invalidArgument(op, `template must be an array of pieces, got ${formatValue(pieces)}`);
  let a = 0;
  let b = 0;
  let added = 0;
  for (const [index, piece] of pieces.entries()) {
    if (piece === null || typeof piece !== 'object') throw invalidArgument(op, `template piece ${index} must be an object, got ${formatValue(piece)}`);
    checkTypeId(op, `template piece ${index} typeId`, piece.typeId);
    if ('sequence' in piece) {
      if (piece.sequence === 'A') a++;
      else if (piece.sequence === 'B') b++;
      else throw invalidArgument(op, `template piece ${index} has sequence ${formatValue(piece.sequence)}; expected "A" or "B"`);
    } else if ('tokenId' in piece) {
      checkTokenId(op, `template piece ${index} tokenId`, piece.tokenId, vocabSize);
      added++;
    } else {
      throw invalidArgument(op, `template piece ${index} needs either "sequence" or "tokenId"`);
    }
  }
  if (a !== 1 || b !== (isPair ? 1 : 0)) {
    throw invalidArgument(op, `${isPair ? 'pair' : 'single'} template must contain $A once${isPair ? ' and $B once' : ' and no $B'}, got $A ${a} times and $B ${b} times`);
  }
  return { pieces, added };
}

function checkTypeId(op: string, name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0x7fffffff) {
    throw invalidArgument(op, `${name} must be a non-negative integer, got ${formatValue(value)}`);
  }
}

/** The template HF uses when none is given: the sequences alone, the second with type id 1 (HF `default_process`). */
export const DEFAULT_TEMPLATE: SpecialTokensTemplate = {
  single: [{ sequence: 'A', typeId: 0 }],
  pair: [
    { sequence: 'A', typeId: 0 },
    { sequence: 'B', typeId: 1 },
  ],
};

/**
 * Parses HF `TemplateProcessing` notation: `"[CLS] $A [SEP]"`, `"[CLS] $A [SEP] $B:1 [SEP]:1"`, where
 * `specialTokens` maps each special token to its id. `$A`/`$B` default to type id 0, like HF.
 */
export function parseTemplate(single: string, pair: string | undefined, specialTokens: Record<string, number>): SpecialTokensTemplate {
  const op = 'parseTemplate';
  // Like an options object: null or undefined mean no special tokens.
  specialTokens = optionsObject(op, specialTokens, 'specialTokens');
  const parse = (text: string): TemplatePiece[] => {
    if (typeof text !== 'string') throw invalidArgument(op, `template must be a string, got ${formatValue(text)}`);
    return text
      .split(/\s+/)
      .filter((part) => part.length > 0)
      .map((part): TemplatePiece => {
        const colon = part.lastIndexOf(':');
        let name = part;
        let typeId = 0;
        if (colon > 0 && /^\d+$/.test(part.slice(colon + 1))) {
          name = part.slice(0, colon);
          typeId = Number(part.slice(colon + 1));
        }
        if (name === '$A' || name === '$') return { sequence: 'A', typeId };
        if (name === '$B') return { sequence: 'B', typeId };
        if (!Object.prototype.hasOwnProperty.call(specialTokens, name)) {
          throw invalidArgument(op, `template token ${formatValue(name)} is not in specialTokens (${Object.keys(specialTokens).map((k) => formatValue(k)).join(', ')})`);
        }
        return { tokenId: specialTokens[name], typeId };
      });
  };
  const template: SpecialTokensTemplate = { single: parse(single) };
  if (pair !== undefined) template.pair = parse(pair);
  compileTemplate(op, template.single, false);
  if (template.pair) compileTemplate(op, template.pair, true);
  return template;
}
