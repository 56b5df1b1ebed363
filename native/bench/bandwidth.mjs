// Streaming-read kernels of every tier this CPU runs, one thread, on a buffer
// far larger than the last-level cache, next to a plain JS loop and to the
// bandwidth probe measured in the same run.
import { BenchSuite } from '@bitnet/bench';
import { getNative } from '../dist/index.js';

const native = getNative();
const bytes = 512 << 20;
const buffer = new Float32Array(native.allocateAligned(bytes, 4096));
for (let i = 0; i < buffer.length; i += 1024) buffer[i] = 1;

const suite = new BenchSuite('native', { bandwidth: { threads: [1, native.getThreadInfo().poolThreads] } });
for (const tier of native.getIsa().supported) {
  suite.add({ group: 'stream read f32, 512 MiB, 1 thread', name: `bitnet ${tier}`, run: () => native.streamSum(buffer, tier), work: { amount: bytes, unit: 'bytes' }, minIterations: 5 });
}
suite.add({
  group: 'stream read f32, 512 MiB, 1 thread',
  name: 'js for-loop',
  peer: true,
  run: () => {
    let sum = 0;
    for (let i = 0; i < buffer.length; i++) sum += buffer[i];
    return sum;
  },
  work: { amount: bytes, unit: 'bytes' },
  minIterations: 3,
});
suite.note('The first bitnet row is the selected tier; peers run in the same process on the same buffer.');
// Ours = the best tier this CPU runs, so order it first in its group.
suite.cases.sort((a, b) => (a.peer === b.peer ? (a.name.includes(native.getIsa().selected) ? -1 : 1) : a.peer ? 1 : -1));
await suite.run();
native.freeAligned(buffer.buffer);
