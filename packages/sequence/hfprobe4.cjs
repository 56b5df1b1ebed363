const t = require('tokenizers');
const vocab = {}; for (let i = 0; i < 50; i++) vocab['t' + i] = i;
const tok = new t.Tokenizer(t.WordLevel.init(vocab, { unkToken: 't0' }));
tok.setPreTokenizer(t.whitespaceSplitPreTokenizer());
const s = (a, b) => Array.from({ length: b - a }, (_, i) => 't' + (a + i)).join(' ');
(async () => {
  for (const st of [0, 2]) for (const n of [8, 10, 13, 20]) {
    tok.setTruncation(5, { stride: st }); const f = await tok.encode(s(1, n + 1));
    console.log('stride', st, 'n', n, JSON.stringify(f.getIds()), JSON.stringify(f.getOverflowing().map(x => x.getIds())));
  }
  tok.setTruncation(5, { stride: 0 });
  const f = await tok.encode(s(1, 21)); const o = f.getOverflowing(); console.log(o.length, o.length && o[0].getIds());
  const g = await tok.encode(s(1, 21)); console.log(JSON.stringify(g.getOverflowing().map(x => x.getIds())));
  const h = await tok.encode('t1 t2 t3 t4 t5 t6 t7 t8'); console.log(JSON.stringify(h.getOverflowing().map(x => x.getIds())));
  const b = await tok.encodeBatch(['t1 t2 t3 t4 t5 t6 t7 t8']); console.log(JSON.stringify(b[0].getOverflowing().map(x => x.getIds())));
})();
