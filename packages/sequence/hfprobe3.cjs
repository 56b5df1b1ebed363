const t = require('tokenizers');
const vocab = {}; for (let i = 0; i < 50; i++) vocab['t' + i] = i;
const tok = new t.Tokenizer(t.WordLevel.init(vocab, { unkToken: 't0' }));
tok.setPreTokenizer(t.whitespaceSplitPreTokenizer());
const show = (e, d = 0) => { console.log(' '.repeat(d) + JSON.stringify([e.getIds(), e.getTypeIds()])); for (const o of e.getOverflowing()) show(o, d + 2); };
const s = (a, b) => Array.from({ length: b - a }, (_, i) => 't' + (a + i)).join(' ');
(async () => {
  const e = await tok.encode(s(1,14)); show(e);
  e.truncate(7, 2, 'right'); show(e); console.log(e.getOverflowing().length);
  const o = e.getOverflowing(); console.log(o.map(x=>x.getIds()));
  for (const st of [0,1,3]) { tok.setTruncation(7, { stride: st }); const f = await tok.encode(s(1,14)); console.log(st, f.getIds(), f.getOverflowing().map(x => x.getIds())); }
})();
