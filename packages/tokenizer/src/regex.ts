// Translates the Oniguruma patterns found in tokenizer.json (what HF's Rust
// tokenizers compile) into equivalent JavaScript RegExp source. Only the
// constructs whose meaning differs between the two engines are rewritten;
// anything this file cannot translate exactly is reported, never guessed.
import { NEWER_IN_V8_RANGES, classBody } from './unicode-tables.js';

/** Oniguruma's Unicode `\s`: \t\n\v\f\r, space, U+0085 and the Zs/Zl/Zp characters (JS's `\s` adds U+FEFF and drops U+0085). */
const SPACE_CLASS_BODY = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Oniguruma's Unicode `\w`: letters, marks, decimal digits, connector punctuation. */
const WORD_CLASS_BODY = '\\p{L}\\p{M}\\p{Nd}\\p{Pc}';

/** Extra characters that Unicode simple case folding maps onto an ASCII letter. */
const FOLDS: Record<string, string> = { s: '\\u017f', k: '\\u212a' };

/**
 * Characters V8's newer Unicode tables put in \p{L} / \p{N} (so in \w and \d too) that HF's Oniguruma
 * leaves unassigned (unicode-tables.ts): a property excludes them (unless it holds unassigned characters),
 * a negated one includes them.
 */
const NEWER = `[${classBody(NEWER_IN_V8_RANGES)}]`;
/** Properties that hold unassigned characters (so, for HF, the NEWER ones); every other property does not. */
const WITH_UNASSIGNED = new Set(['Cn', 'Unassigned', 'C', 'Other', 'Any']);

/** `atom` (one character wide) without the NEWER characters. */
const withoutNewer = (atom: string): string => `(?:(?!${NEWER})${atom})`;
/** `atom` (one character wide) with the NEWER characters. */
const withNewer = (atom: string): string => `(?:${NEWER}|${atom})`;

function caseVariants(letter: string): string {
  const lower = letter.toLowerCase();
  return letter.toLowerCase() + letter.toUpperCase() + (FOLDS[lower] ?? '');
}

export class RegexTranslationError extends Error {}

/** Returns JS RegExp source (for the `u` flag) matching what `pattern` matches under Oniguruma. */
export function translateOnigurumaPattern(pattern: string): string {
  let out = '';
  let inClass = false;
  // The class being read: where it starts in `out`, negated, and whether its members are properties
  // with NEWER characters (plain or negated): it then gets HF's answer for those characters when it closes.
  let classStart = 0;
  let classNegated = false;
  let classPositive = false;
  let classNegative = false;
  // Stack of group kinds: true where the group switched case-insensitivity on.
  const groups: boolean[] = [];
  let caseInsensitiveDepth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) throw new RegexTranslationError('pattern ends with a lone backslash');
      i++;
      switch (next) {
        case 's':
          out += inClass ? SPACE_CLASS_BODY : `[${SPACE_CLASS_BODY}]`;
          break;
        case 'S':
          if (inClass) throw new RegexTranslationError('\\S inside a character class');
          out += `[^${SPACE_CLASS_BODY}]`;
          break;
        case 'w':
          classPositive = true;
          out += inClass ? WORD_CLASS_BODY : withoutNewer(`[${WORD_CLASS_BODY}]`);
          break;
        case 'W':
          if (inClass) throw new RegexTranslationError('\\W inside a character class');
          out += withNewer(`[^${WORD_CLASS_BODY}]`);
          break;
        case 'd':
          classPositive = true;
          out += inClass ? '\\p{Nd}' : withoutNewer('\\p{Nd}');
          break;
        case 'D':
          if (inClass) throw new RegexTranslationError('\\D inside a character class');
          out += withNewer('\\P{Nd}');
          break;
        case 'p':
        case 'P': {
          const close = pattern.indexOf('}', i);
          if (pattern[i + 1] !== '{' || close < 0) throw new RegexTranslationError(`unsupported \\${next} escape`);
          const escape = pattern.slice(i - 1, close + 1);
          // Whether the escape, for HF, leaves the NEWER characters out.
          const excludes = WITH_UNASSIGNED.has(pattern.slice(i + 2, close)) === (next === 'P');
          if (inClass) {
            if (excludes) classPositive = true;
            else classNegative = true;
            out += escape;
          } else out += excludes ? withoutNewer(escape) : withNewer(escape);
          i = close;
          break;
        }
        case 'r':
        case 'n':
        case 't':
        case 'f':
        case 'v':
          out += `\\${next}`;
          break;
        case 'x':
        case 'u':
          out += `\\${next}`;
          break;
        default:
          if (/[A-Za-z0-9]/.test(next)) throw new RegexTranslationError(`unsupported escape \\${next}`);
          out += `\\${next}`;
      }
      continue;
    }
    if (inClass) {
      if (c === '[') throw new RegexTranslationError('nested character class');
      out += caseInsensitiveDepth > 0 && /[A-Za-z]/.test(c) ? caseVariants(c) : c;
      if (c === ']') {
        inClass = false;
        // HF: a NEWER character is in no property, so in every negated one (and nothing else here).
        const matchesNewer = classNegative !== classNegated;
        if (classPositive || classNegative) {
          const cls = out.slice(classStart);
          out = out.slice(0, classStart) + (matchesNewer ? withNewer(cls) : withoutNewer(cls));
        }
      }
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = out.length;
      classNegated = false;
      classPositive = false;
      classNegative = false;
      out += c;
      if (pattern[i + 1] === '^') {
        if (caseInsensitiveDepth > 0) throw new RegexTranslationError('negated class under (?i)');
        classNegated = true;
        out += '^';
        i++;
      }
      continue;
    }
    if (c === '(') {
      if (pattern.startsWith('(?i:', i)) {
        groups.push(true);
        caseInsensitiveDepth++;
        out += '(?:';
        i += 3;
        continue;
      }
      if (pattern[i + 1] === '?' && !/[:=!<]/.test(pattern[i + 2] ?? '')) {
        throw new RegexTranslationError(`unsupported group syntax ${pattern.slice(i, i + 4)}`);
      }
      groups.push(false);
      out += c;
      continue;
    }
    if (c === ')') {
      if (groups.pop()) caseInsensitiveDepth--;
      out += c;
      continue;
    }
    out += caseInsensitiveDepth > 0 && /[A-Za-z]/.test(c) ? `[${caseVariants(c)}]` : c;
  }
  if (inClass || groups.length > 0) throw new RegexTranslationError('unbalanced brackets');
  return out;
}

/** The pattern HF's ByteLevel pre-tokenizer uses when `use_regex` is true (GPT-2's). */
export const GPT2_SPLIT_PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

/** LLaMA-3's split pattern (tokenizer.json, Split pre-tokenizer). */
export const LLAMA3_SPLIT_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
