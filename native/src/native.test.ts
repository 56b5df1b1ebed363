import { constants as bufferConstants } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { getNative, packageRoot } from './index.js';

const native = getNative();
const distEntry = path.join(packageRoot, 'dist', 'index.cjs');

/** Runs a snippet in a fresh Node process against the built package (env overrides take effect at load). */
function runNode(code: string, env: Record<string, string> = {}, flags: string[] = []): string {
  return execFileSync(process.execPath, [...flags, '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('cpu features', () => {
  it('agree with /proc/cpuinfo flags', () => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return;
    const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
    const flagLine = cpuinfo.split('\n').find((line) => line.startsWith('flags'))!;
    const flags = new Set(flagLine.split(':')[1]!.trim().split(/\s+/));
    const features = native.getCpuFeatures();
    expect(features.architecture).toBe('x64');
    const map: Record<string, string> = {
      'sse4.2': 'sse4_2',
      avx: 'avx',
      avx2: 'avx2',
      fma: 'fma',
      f16c: 'f16c',
      avx512f: 'avx512f',
      avx512bw: 'avx512bw',
      avx512vl: 'avx512vl',
      avx512dq: 'avx512dq',
      avx512vnni: 'avx512_vnni',
      avx512bf16: 'avx512_bf16',
      avxvnni: 'avx_vnni',
    };
    for (const [ours, linux] of Object.entries(map)) {
      expect(features.flags[ours], `${ours} vs /proc/cpuinfo ${linux}`).toBe(flags.has(linux));
    }
    const model = cpuinfo.split('\n').find((line) => line.startsWith('model name'))?.split(':')[1]?.trim();
    if (model) expect(features.brand).toBe(model.replace(/\s+/g, ' '));
  });

  it('selects the best supported tier and lists what this CPU runs', () => {
    const isa = native.getIsa();
    expect(isa.supported[0]).toBe('generic');
    expect(isa.supported).toContain(isa.best);
    const flags = native.getCpuFeatures().flags;
    if (process.arch === 'x64') {
      expect(isa.supported.includes('avx2')).toBe(Boolean(flags.avx2 && flags.fma && flags.f16c));
      expect(isa.supported.includes('avx512')).toBe(Boolean(flags.avx512f && flags.avx512bw && flags.avx512vl && flags.avx512dq));
    }
    if (!process.env.BITNET_CPU_ISA) {
      expect(isa.selected).toBe(isa.best);
      expect(isa.overridden).toBe(false);
    }
  });

  it('BITNET_CPU_ISA forces a lower tier, and an unknown or unsupported one falls back with a warning', () => {
    const code = `const n=require(${JSON.stringify(distEntry)}).getNative();const i=n.getIsa();console.log(JSON.stringify({s:i.selected,o:i.overridden,w:i.warning,r:n.measureBandwidth({bytes:1<<20,repetitions:1}).isa}))`;
    const forced = JSON.parse(runNode(code, { BITNET_CPU_ISA: 'generic' }));
    expect(forced).toEqual({ s: 'generic', o: true, w: null, r: 'generic' });
    const unknown = JSON.parse(runNode(code, { BITNET_CPU_ISA: 'sse9' }));
    expect(unknown.s).toBe(native.getIsa().best);
    expect(unknown.w).toContain('BITNET_CPU_ISA="sse9" is not one of generic, neon, avx2, avx512');
    const impossible = process.arch === 'x64' ? 'neon' : 'avx512';
    const unsupported = JSON.parse(runNode(code, { BITNET_CPU_ISA: impossible }));
    expect(unsupported.w).toContain(`BITNET_CPU_ISA=${impossible} is not supported`);
  });
});

describe('system info', () => {
  it('reports memory consistent with os.totalmem and caches from sysfs', () => {
    const memory = native.getMemoryInfo();
    if (process.platform === 'linux') {
      expect(Math.abs(memory.totalBytes - os.totalmem())).toBeLessThan(1 << 20);
      expect(memory.availableBytes).toBeGreaterThan(0);
      expect(memory.availableBytes).toBeLessThanOrEqual(memory.totalBytes);
      const caches = native.getCacheInfo();
      const sysfs = fs.readdirSync('/sys/devices/system/cpu/cpu0/cache').filter((name) => name.startsWith('index'));
      expect(caches.length).toBe(sysfs.length);
      for (const [i, cache] of caches.entries()) {
        const size = fs.readFileSync(`/sys/devices/system/cpu/cpu0/cache/index${i}/size`, 'utf8').trim();
        const unit = size.endsWith('M') ? 1 << 20 : size.endsWith('K') ? 1024 : 1;
        expect(cache.sizeBytes).toBe(Number.parseInt(size, 10) * unit);
      }
    }
  });

  it('sizes the thread pool to the CPUs, or to BITNET_NUM_THREADS', () => {
    expect(native.getThreadInfo().poolThreads).toBe(process.env.BITNET_NUM_THREADS ? Number(process.env.BITNET_NUM_THREADS) : os.availableParallelism());
    const code = `console.log(require(${JSON.stringify(distEntry)}).getNative().getThreadInfo().poolThreads)`;
    expect(runNode(code, { BITNET_NUM_THREADS: '3' }).trim()).toBe('3');
    expect(() => runNode(code, { BITNET_NUM_THREADS: 'many' })).toThrow(/BITNET_NUM_THREADS must be an integer from 1 to 1024, got "many"/);
  });
});

describe('thread pool', () => {
  it('splits a sum over threads and matches a serial float64 reference', () => {
    const values = new Float64Array(1_000_003).map((_, i) => Math.sin(i) * 1e3);
    let reference = 0;
    const threads = native.getThreadInfo().poolThreads;
    for (let t = 0; t < threads; t++) {
      let partial = 0;
      const begin = Math.floor((values.length * t) / threads);
      const end = Math.floor((values.length * (t + 1)) / threads);
      for (let i = begin; i < end; i++) partial += values[i]!;
      reference += partial;
    }
    const result = native.threadPoolSum(values);
    expect(result.threadsRan).toBe(threads);
    expect(result.sum).toBe(reference);
    expect(native.threadPoolSum(values, 1).sum).toBeCloseTo(reference, 6);
  });

  it('keeps idle workers spinning for BITNET_SPIN_US before they block', () => {
    // Jobs 3 ms apart (a busy-wait on this thread): spinning 1 s, the worker never blocks;
    // spinning 0 µs, it blocks after every job. Counts, not times.
    const code = `
      const native = require(${JSON.stringify(distEntry)}).getNative();
      const values = new Float64Array(100000).fill(1);
      native.threadPoolSum(values);
      const before = native.getThreadInfo().workerSleeps;
      for (let i = 0; i < 20; i++) {
        const until = performance.now() + 3;
        while (performance.now() < until);
        if (native.threadPoolSum(values).sum !== 100000) throw new Error('wrong sum');
      }
      const info = native.getThreadInfo();
      console.log(JSON.stringify({ spin: info.spinMicroseconds, sleeps: info.workerSleeps - before, threads: info.poolThreads }));`;
    const spinning = JSON.parse(runNode(code, { BITNET_SPIN_US: '1000000', BITNET_NUM_THREADS: '2' }));
    expect(spinning).toEqual({ spin: 1000000, sleeps: 0, threads: 2 });
    const blocking = JSON.parse(runNode(code, { BITNET_SPIN_US: '0', BITNET_NUM_THREADS: '2' }));
    expect(blocking.spin).toBe(0);
    // One block per job, unless the host held the worker off the CPU past the next job (seen: 19 of 20).
    expect(blocking.sleeps).toBeGreaterThanOrEqual(10);
    expect(JSON.parse(runNode(code, { BITNET_NUM_THREADS: '2' })).spin).toBe(500);
    expect(() => runNode(code, { BITNET_SPIN_US: '-5' })).toThrow(/BITNET_SPIN_US must be an integer from 0 to 1000000, got "-5"/);
  });

  it('stays correct when worker threads use the pool at the same time', async () => {
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const native = require(${JSON.stringify(distEntry)}).getNative();
      const values = new Float64Array(200000).map((_, i) => (i % 97) - 48 + workerData);
      let expected = 0; for (const v of values) expected += v;
      let bad = 0;
      for (let r = 0; r < 300; r++) { if (Math.abs(native.threadPoolSum(values).sum - expected) > 1e-6) bad++; }
      parentPort.postMessage({ bad, threads: native.getThreadInfo().poolThreads });
    `;
    const workers = Array.from({ length: 4 }, (_, index) => new Worker(script, { eval: true, workerData: index }));
    const results = await Promise.all(
      workers.map((worker) => new Promise<{ bad: number }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      })),
    );
    await Promise.all(workers.map((worker) => worker.terminate()));
    expect(results.map((r) => r.bad)).toEqual([0, 0, 0, 0]);
    // Meanwhile the main thread keeps using it too.
    expect(native.threadPoolSum(new Float64Array([1, 2, 3])).sum).toBe(6);
  });
});

describe('aligned native memory', () => {
  it('allocates zeroed memory at the requested alignment', () => {
    for (const alignment of [1, 8, 64, 256, 4096]) {
      const buffer = native.allocateAligned(1000, alignment);
      expect(buffer.byteLength).toBe(1000);
      expect(native.addressOf(buffer) % BigInt(alignment)).toBe(0n);
      expect(new Uint8Array(buffer).every((byte) => byte === 0)).toBe(true);
      native.freeAligned(buffer);
    }
  });

  it('frees eagerly, detaches the buffer, and rejects a double free', () => {
    const before = native.nativeMemoryStats();
    const buffer = native.allocateAligned(1 << 20, 64);
    const view = new Float32Array(buffer);
    view[5] = 3;
    expect(native.nativeMemoryStats().liveBytes - before.liveBytes).toBe(1 << 20);
    native.freeAligned(buffer);
    expect(buffer.byteLength).toBe(0);
    expect(view.length).toBe(0);
    expect(view[5]).toBeUndefined();
    expect(native.nativeMemoryStats().liveBytes).toBe(before.liveBytes);
    expect(() => native.freeAligned(buffer)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
    expect(() => native.freeAligned(new ArrayBuffer(8))).toThrow(/was not made by allocateAligned/);
  });

  it('refuses more than one ArrayBuffer can hold before allocating (Node-API would free the memory twice)', () => {
    const before = native.nativeMemoryStats();
    const limit = bufferConstants.MAX_LENGTH; // the loader passes it in: 2^32 on Node 20, 2^53 − 1 later
    if (limit > 2 ** 52) return; // no larger size is a valid argument; nothing to refuse
    expect(() => native.allocateAligned(limit + 4096, 4096, true)).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY', message: expect.stringContaining(`[allocateAligned] ${limit + 4096} bytes is more than one ArrayBuffer can hold`) }),
    );
    expect(native.nativeMemoryStats()).toEqual(before);
  });

  it('frees only the buffer it made: not a copy carrying its properties, nor another view of its memory', () => {
    const buffer = native.allocateAligned(4096, 64);
    new Uint8Array(buffer)[0] = 7;
    const copy = Object.assign(new ArrayBuffer(4096), buffer);
    expect(() => native.freeAligned(copy)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    const alias = native.memoryBlockBuffer(buffer, 0, 4096);
    expect(() => native.freeAligned(alias)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    expect(new Uint8Array(buffer)[0]).toBe(7);
    native.freeAligned(buffer);
    expect(buffer.byteLength).toBe(0);
    // A zero-length allocation (V8 reports no data pointer for it) frees like any other.
    const empty = native.allocateAligned(0, 64);
    native.freeAligned(empty);
    expect(() => native.freeAligned(empty)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_DISPOSED' }));
  });

  it('survives worker threads terminated while async and sync bindings run in them', () => {
    // A promise the addon resolved after its environment began shutting down, or a result
    // object built then, threw a C++ exception nothing caught: the whole process aborted.
    const script = path.join(os.tmpdir(), `bitnet-terminate-${process.pid}.cjs`);
    fs.writeFileSync(
      script,
      `const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');
      const n = require(${JSON.stringify(distEntry)});
      if (!isMainThread) {
        const native = n.getNative();
        const w = new Float32Array(256 * 1024).fill(0.5), x = new Float32Array(1024).fill(1);
        parentPort.postMessage('started');
        if (workerData === 2) for (;;) native.measureBandwidth({ bytes: 1 << 20, repetitions: 1 });
        const start = () => (workerData === 0 ? native.measureBandwidthAsync({ bytes: 1 << 22, repetitions: 2 }) : n.denseMatmulF32Async(w, 256, 1024, x, 1));
        const loop = () => start().then(loop);
        loop();
      } else {
        (async () => {
          for (let i = 0; i < 24; i++) {
            const worker = new Worker(__filename, { workerData: i % 3 });
            await new Promise((resolve) => worker.once('message', resolve));
            await new Promise((resolve) => setTimeout(resolve, i % 4));
            await worker.terminate();
          }
          console.log('survived');
        })();
      }`,
    );
    try {
      expect(runNode(`require(${JSON.stringify(script)})`).trim()).toBe('survived');
    } finally {
      fs.rmSync(script, { force: true });
    }
  });

  it('rejects bad sizes and alignments with typed errors', () => {
    expect(() => native.allocateAligned(10, 3)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', name: 'TypeError' }));
    expect(() => native.allocateAligned(-1)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_RANGE' }));
    expect(() => native.allocateAligned(1.5)).toThrow(/size must be a non-negative integer, got 1.5/);
    expect(() => native.allocateAligned(2 ** 50)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_OUT_OF_MEMORY' }));
  });

  const thpMode = (() => {
    try {
      return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1] ?? 'never';
    } catch {
      return 'never';
    }
  })();
  // Child processes: the opt-out is read once per process. smaps says how the mapping is advised
  // (VmFlags "hg" = MADV_HUGEPAGE) and which pages back it (AnonHugePages).
  const hugePagesOf = (env: Record<string, string>) => {
    const code = `
      const fs = require('node:fs');
      const n = require(${JSON.stringify(distEntry)}).getNative();
      const buffer = n.allocateAligned(8 << 20, 64, true); new Uint8Array(buffer).fill(1);
      const address = n.addressOf(buffer);
      let kb = null, advised = null, inside = false;
      for (const line of fs.readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
        const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
        if (range) inside = BigInt('0x' + range[1]) <= address && address < BigInt('0x' + range[2]);
        else if (inside && line.startsWith('AnonHugePages:')) kb = Number(line.split(/\\s+/)[1]);
        else if (inside && line.startsWith('VmFlags:')) advised = line.split(/\\s+/).includes('hg');
      }
      console.log(JSON.stringify({ kb, advised, aligned: address % BigInt(2 << 20) === 0n }));
    `;
    return JSON.parse(runNode(code, env)) as { kb: number; advised: boolean; aligned: boolean };
  };

  it.skipIf(process.platform !== 'linux' || thpMode === 'never')('advises large buffers to transparent huge pages', () => {
    const result = hugePagesOf({});
    expect(result.aligned).toBe(true);
    // Whether 2 MiB pages back it is the kernel's choice (it may lack free ones); the advice is ours.
    expect(result.advised).toBe(true);
  });

  it.skipIf(process.platform !== 'linux' || thpMode === 'never')('BITNET_HUGE_PAGES=0 leaves them unadvised', () => {
    const result = hugePagesOf({ BITNET_HUGE_PAGES: '0' });
    expect(result.advised).toBe(false);
    if (thpMode === 'madvise') expect(result.kb).toBe(0);
  });

  it('returns memory to the system when the GC collects a forgotten buffer', () => {
    const code = `
      const n = require(${JSON.stringify(distEntry)}).getNative();
      const base = n.nativeMemoryStats().liveBytes;
      (function () { for (let i = 0; i < 64; i++) new Uint8Array(n.allocateAligned(1 << 20, 64))[0] = 1; })();
      const live = n.nativeMemoryStats().liveBytes - base;
      const done = () => { global.gc(); const left = n.nativeMemoryStats().liveBytes - base; if (left === 0 || Date.now() > deadline) { console.log(JSON.stringify({ live, left })); } else setTimeout(done, 20); };
      const deadline = Date.now() + 5000; setTimeout(done, 0);
    `;
    const result = JSON.parse(runNode(code, {}, ['--expose-gc']));
    expect(result.live).toBe(64 << 20);
    expect(result.left).toBe(0);
  });
});

describe('kernel tiers', () => {
  const tiers = native.getIsa().supported;
  it('every tier this CPU runs agrees with the generic probe kernels', () => {
    for (const length of [0, 1, 7, 64, 1000, 4099]) {
      const values = new Float32Array(length).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
      let reference = 0;
      for (const v of values) reference += v;
      const b = values.map((v) => v * 2);
      const c = values.map((v) => v + 1);
      const expected = new Float32Array(length).map((_, i) => Math.fround(b[i]! + Math.fround(0.5 * c[i]!)));
      for (const tier of tiers) {
        expect(native.streamSum(values, tier), `${tier} sum of ${length}`).toBeCloseTo(reference, 3);
        const a = new Float32Array(length);
        native.streamTriad(a, b, c, 0.5, tier);
        // FMA tiers round once, generic twice: allow one ulp.
        for (let i = 0; i < length; i++) expect(Math.abs(a[i]! - expected[i]!)).toBeLessThanOrEqual(Math.abs(expected[i]!) * 2 ** -23);
      }
    }
  });

  it('measures bandwidth and compute with sane figures', async () => {
    const bandwidth = native.measureBandwidth({ bytes: 32 << 20, repetitions: 2 });
    expect(bandwidth.readBytesPerSecond).toBeGreaterThan(1e8);
    expect(bandwidth.triadBytesPerSecond).toBeGreaterThan(1e8);
    expect(bandwidth.isa).toBe(native.getIsa().selected);
    const asyncResult = await native.measureBandwidthAsync({ bytes: 16 << 20, threads: 1, repetitions: 1 });
    expect(asyncResult.threads).toBe(1);
    expect(native.measureCompute({ seconds: 0.02 }).flopsPerSecond).toBeGreaterThan(1e8);
    expect(() => native.measureBandwidth({ repetitions: 0 })).toThrow(/repetitions must be an integer from 1 to 1000/);
    expect(() => native.measureBandwidth({ bytes: -5 })).toThrow(/bytes must be a non-negative integer/);
    await expect(native.measureBandwidthAsync({ threads: 1.5 })).rejects.toThrow(/threads must be a non-negative integer/);
  });

  it('probeRead sums the whole 64-byte lines of caller memory on any thread count', () => {
    // 1000 floats = 62 whole lines (992 floats) and a partial one that is not read.
    const values = new Float32Array(1000).map((_, i) => ((i * 37) % 101) - 50);
    let reference = 0;
    for (let i = 0; i < 992; i++) reference += values[i]!;
    for (const threads of [undefined, 1, 2, 64]) expect(native.probeRead(values, threads)).toBeCloseTo(reference, 3);
    expect(native.probeRead(values.buffer)).toBeCloseTo(reference, 3);
    expect(native.probeRead(new Uint8Array(values.buffer, 0, 63))).toBe(0);
    expect(() => native.probeRead(new Uint8Array(values.buffer, 2, 64))).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: expect.stringMatching(/\[probeRead\] data must start on a 4-byte boundary/) }));
    expect(() => native.probeRead(values, -1)).toThrow(/\[probeRead\] threads/);
    expect(() => (native.probeRead as (v: unknown) => number)(42)).toThrow(/\[probeRead\]/);
  });
});
