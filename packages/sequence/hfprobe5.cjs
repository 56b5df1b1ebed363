const t = require('tokenizers');
const vocab = {}; for (let i = 0; i < 50; i++) vocab['t' + i] = i;
const tok = new t.Tokenizer(t.WordLevel.init(vocab, { unkToken: 't0' }));
tok.setPreTokenizer(t.whitespaceSplitPreTokenizer());
tok.setPostProcessor(t.templateProcessing('t40 $A t41', 't40 $A t41 $B:1 t41:1', [['t40', 40], ['t41', 41]]));
const show = (e, d = 0) => { console.log(' '.repeat(d) + JSON.stringify([e.getIds(), e.getTypeIds(), e.getAttentionMask()])); for (const o of e.getOverflowing()) show(o, d + 2); };
const s = (a, b) => Array.from({ length: b - a }, (_, i) => 't' + (a + i)).join(' ');
(async () => {
  const a = await tok.encode(s(1, 4), null, { addSpecialTokens: false });
  const b = await tok.encode(s(20, 31), null, { addSpecialTokens: false });
  b.truncate(4, 1, 'left');
  const m = tok.postProcess(a, b, true);
  m.pad(14, { padId: 49, direction: 'left', padTypeId: 3 });
  show(m);
})();
