const t = require('tokenizers');
const vocab = {}; for (let i = 0; i < 50; i++) vocab['t' + i] = i;
const tok = new t.Tokenizer(t.WordLevel.init(vocab, { unkToken: 't0' }));
tok.setPreTokenizer(t.whitespaceSplitPreTokenizer());
const show = (e, d = 0) => { console.log(' '.repeat(d) + JSON.stringify([e.getIds(), e.getTypeIds()])); for (const o of e.getOverflowing()) show(o, d + 2); };
const s = (a, b) => Array.from({ length: b - a }, (_, i) => 't' + (a + i)).join(' ');
(async () => {
  tok.setTruncation(7, { strategy: 'LongestFirst', direction: 'right', stride: 2 });
  console.log('no template'); show(await tok.encode(s(1,14)));
  for (const x of await tok.encodeBatch([s(1,14)])) show(x);
  tok.setPostProcessor(t.templateProcessing('t40 $A t41', 't40 $A t41 $B:1 t41:1', [['t40', 40], ['t41', 41]]));
  tok.setTruncation(9, { strategy: 'LongestFirst', direction: 'right', stride: 2 });
  console.log('template'); show(await tok.encode(s(1,14)));
  tok.setTruncation(9, { strategy: 'LongestFirst', direction: 'left', stride: 2 });
  console.log('template left'); show(await tok.encode(s(1,14)));
})();
