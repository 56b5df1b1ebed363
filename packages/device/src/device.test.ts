import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { getNative } from '@bitnet/native';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Device,
  type DeviceKind,
  autoSelectDevice,
  defaultPreferenceOrder,
  deviceKinds,
  compareDevices,
  getBackendStatus,
  getDevice,
  getDeviceInfo,
  listDevices,
  registerDeviceProvider,
  selectDevice,
} from './index.js';

const native = getNative();
const cleanups: Array<() => void> = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()!();
});

/** A provider of a kind this machine lacks, as @bitnet/metal or @bitnet/mlx would register. */
function registerProvider(kind: DeviceKind, available: boolean, options: { reason?: string; throws?: boolean; flops?: number } = {}) {
  const cpu = getDevice('cpu');
  const device = new Device({
    kind,
    id: `${kind}:0`,
    name: `${kind} device`,
    capabilities: { ...cpu.capabilities, simd: null },
    measureBandwidth: async () => ({ readBytesPerSecond: 1e11, triadBytesPerSecond: 1e11, threads: 1, bytes: 1 }),
    benchmark: async () => ({ deviceId: `${kind}:0`, flopsPerSecond: options.flops ?? 1e13, readBytesPerSecond: 1e11, durationMs: 1 }),
  });
  cleanups.push(
    registerDeviceProvider({
      kind,
      probe: () => {
        if (options.throws) throw new Error('driver exploded');
        return available ? { available: true } : { available: false, reason: options.reason ?? `${kind} driver missing` };
      },
      devices: () => [device],
    }),
  );
  return device;
}

describe('cpu device', () => {
  it('reports the capabilities the native addon and the OS see', () => {
    const cpu = getDevice('cpu');
    expect(cpu.kind).toBe('cpu');
    expect(cpu.id).toBe('cpu');
    expect(cpu.name).toBe(native.getCpuFeatures().brand || `${process.arch} CPU`);
    expect(cpu.capabilities.computeUnits).toBe(native.getThreadInfo().poolThreads);
    expect(cpu.capabilities.memoryBytes).toBeLessThanOrEqual(os.totalmem());
    expect(cpu.capabilities.memoryBytes).toBeGreaterThan(os.totalmem() * 0.5);
    expect(cpu.capabilities.unifiedMemory).toBe(true);
    expect(cpu.capabilities.simd?.tier).toBe(native.getIsa().selected);
    const flags = native.getCpuFeatures().flags;
    expect(new Set(cpu.capabilities.simd?.features)).toEqual(new Set(Object.keys(flags).filter((f) => flags[f])));
    expect(cpu.capabilities.caches.length).toBe(native.getCacheInfo().length);
    expect(JSON.parse(JSON.stringify(cpu))).toMatchObject({ kind: 'cpu', id: 'cpu' });
  });

  it('capabilities are frozen at every level, so no caller can alter the shared cpu device', () => {
    const cpu = getDevice('cpu');
    const tier = cpu.capabilities.simd!.tier;
    const caches = cpu.capabilities.caches.length;
    expect(() => {
      (cpu.capabilities.simd as { tier: string }).tier = 'hacked';
    }).toThrow(TypeError);
    expect(() => cpu.capabilities.simd!.features.push('hacked')).toThrow(TypeError);
    expect(() => cpu.capabilities.caches.pop()).toThrow(TypeError);
    if (caches > 0) {
      expect(() => {
        cpu.capabilities.caches[0]!.sizeBytes = 1;
      }).toThrow(TypeError);
    }
    expect(getDevice('cpu').capabilities.simd!.tier).toBe(tier);
    expect(getDevice('cpu').capabilities.caches).toHaveLength(caches);
    expect(Object.isFrozen(cpu.capabilities.supportedDTypes)).toBe(true);
    // A copy is frozen, not the provider's own objects.
    const simd = { features: ['neon'], tier: 'neon', bestTier: 'neon', supportedTiers: ['generic', 'neon'] };
    const device = new Device({ ...cpu, kind: 'mlx', id: 'mlx:0', name: 'x', capabilities: { ...cpu.capabilities, simd }, measureBandwidth: async () => ({ readBytesPerSecond: 1, triadBytesPerSecond: 1, threads: 1, bytes: 1 }), benchmark: async () => ({ deviceId: 'mlx:0', flopsPerSecond: 1, readBytesPerSecond: 1, durationMs: 1 }) });
    expect(Object.isFrozen(simd)).toBe(false);
    expect(Object.isFrozen(device.capabilities.simd)).toBe(true);
    expect(device.capabilities.simd).toEqual(simd);
  });

  it('a bad BITNET_NUM_THREADS or BITNET_SPIN_US makes cpu unavailable with the variable named, not silently missing', () => {
    const distIndex = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { getBackendStatus, getDeviceInfo, listDevices, selectDevice } from ${JSON.stringify(distIndex)};
      let selection;
      try { selectDevice({ log: () => {}, env: {} }); } catch (error) { selection = { code: error.code, message: error.message }; }
      console.log(JSON.stringify({ info: getDeviceInfo(), cpu: getBackendStatus().find((s) => s.kind === 'cpu'), devices: listDevices().length, selection }));`;
    for (const [name, value, message] of [
      ['BITNET_NUM_THREADS', 'abc', '[threadPool] BITNET_NUM_THREADS must be an integer from 1 to 1024, got "abc"'],
      ['BITNET_SPIN_US', '-5', '[threadPool] BITNET_SPIN_US must be an integer from 0 to 1000000, got "-5"'],
    ]) {
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, BITNET_DEVICE: '', [name!]: value } });
      expect(child.status, child.stderr).toBe(0);
      const report = JSON.parse(child.stdout);
      expect(report.info.cpu).toBe(false);
      expect(report.cpu).toEqual({ kind: 'cpu', available: false, reason: message });
      expect(report.devices).toBe(0);
      expect(report.selection.code).toBe('ERR_BITNET_UNAVAILABLE');
      expect(report.selection.message).toContain(`cpu: ${message})`);
    }
  });

  it('a provider whose devices() throws is unavailable with that reason everywhere', () => {
    const cpu = getDevice('cpu');
    cleanups.push(
      registerDeviceProvider({
        kind: 'mlx',
        probe: () => ({ available: true }),
        devices: () => {
          throw new Error('mlx runtime refused: no GPU memory');
        },
      }),
    );
    const reason = 'the mlx provider could not list its devices: mlx runtime refused: no GPU memory';
    expect(getDeviceInfo().mlx).toBe(false);
    expect(getBackendStatus().find((s) => s.kind === 'mlx')).toEqual({ kind: 'mlx', available: false, reason });
    expect(() => getDevice('mlx')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE', message: `[getDevice] mlx is unavailable: ${reason}` }));
    const selection = selectDevice({ prefer: 'mlx', log: () => {}, env: {} });
    expect(selection.device).toBe(cpu);
    expect(selection.skipped.find((s) => s.candidate === 'mlx')).toEqual({ candidate: 'mlx', reason });
  });

  it('measures memory bandwidth on demand and caches it per thread count', async () => {
    const cpu = getDevice('cpu');
    const first = cpu.measureMemoryBandwidth({ threads: 1 });
    expect(cpu.measureMemoryBandwidth({ threads: 1 })).toBe(first);
    const result = await first;
    expect(result.threads).toBe(1);
    expect(result.readBytesPerSecond).toBeGreaterThan(1e8);
    expect(() => cpu.measureMemoryBandwidth({ threads: -1 })).toThrow(/threads must be a non-negative integer, got -1/);
  });
});

describe('registry', () => {
  it('lists only devices that work now', () => {
    expect(listDevices().map((d) => d.id)).toEqual(['cpu']);
    registerProvider('cuda', false);
    expect(listDevices().map((d) => d.id)).toEqual(['cpu']);
    registerProvider('mlx', true);
    expect(listDevices().map((d) => d.id)).toEqual(['cpu', 'mlx:0']);
  });

  it('getDeviceInfo and getBackendStatus tell which kinds work and why not', () => {
    expect(getDeviceInfo()).toEqual({ cpu: true, metal: false, mlx: false, cuda: false });
    const status = getBackendStatus();
    expect(status.find((s) => s.kind === 'metal')?.reason).toMatch(process.platform === 'darwin' ? /@bitnet\/metal/ : /Metal needs macOS/);
    registerProvider('metal', true);
    expect(getDeviceInfo().metal).toBe(true);
  });

  it('a probe that throws counts as unavailable, with its message', () => {
    registerProvider('cuda', true, { throws: true });
    expect(getDeviceInfo().cuda).toBe(false);
    expect(getBackendStatus().find((s) => s.kind === 'cuda')?.reason).toContain('driver exploded');
  });

  it('getDevice explains unknown and unavailable devices', () => {
    expect(() => getDevice('tpu')).toThrow(/unknown device "tpu"/);
    expect(() => getDevice('metal')).toThrow(expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE' }));
    registerProvider('mlx', true);
    expect(getDevice('mlx').id).toBe('mlx:0');
    expect(() => getDevice('mlx:7')).toThrow(/no device "mlx:7"; mlx devices: mlx:0/);
  });

  it('rejects malformed providers and devices', () => {
    expect(() => registerDeviceProvider({ kind: 'tpu' as DeviceKind, probe: () => ({ available: true }), devices: () => [] })).toThrow(/kind must be one of/);
    expect(() => new Device({ ...getDevice('cpu'), kind: 'mlx', id: 'cpu' } as never)).toThrow(/must be its kind "mlx" or start with "mlx:"/);
  });
});

describe('what providers and devices are checked for (independent audit)', () => {
  const cpu = () => getDevice('cpu');
  const init = (overrides: Record<string, unknown> = {}) => ({
    kind: 'mlx',
    id: 'mlx:0',
    name: 'MLX test device',
    capabilities: { ...cpu().capabilities, simd: null },
    measureBandwidth: async () => ({ readBytesPerSecond: 1, triadBytesPerSecond: 1, threads: 1, bytes: 1 }),
    benchmark: async () => ({ deviceId: 'mlx:0', flopsPerSecond: 1, readBytesPerSecond: 1, durationMs: 1 }),
    ...overrides,
  });
  const codeOf = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (error) {
      return (error as { code?: string }).code;
    }
    return undefined;
  };

  it('a probe that answers garbage makes its kind unavailable and leaves every other kind working', () => {
    for (const answer of [null, undefined, 'yes', { available: 'no' }, Promise.resolve({ available: true })]) {
      cleanups.push(registerDeviceProvider({ kind: 'mlx', probe: () => answer as never, devices: () => [new Device(init() as never)] }));
      expect(listDevices().map((d) => d.id)).toEqual(['cpu']);
      expect(getDeviceInfo().mlx).toBe(false);
      const status = getBackendStatus().find((s) => s.kind === 'mlx')!;
      expect(status.reason).toMatch(/^the mlx provider's probe returned .*, not \{ available, reason \}$/);
      expect(selectDevice({ prefer: 'mlx', log: () => {} }).device.id).toBe('cpu');
      cleanups.pop()!();
    }
  });

  it('devices() must list Devices of its own kind: anything else makes the kind unavailable with the reason', () => {
    const cases: Array<[unknown, RegExp]> = [
      [[42], /listed 42 at 0, which is not a Device/],
      ['mlx:gpu', /listed "mlx:gpu" instead of an array of devices/],
      [null, /listed null instead of an array/],
      [[new Device(init({ kind: 'cpu', id: 'cpu:x' }) as never)], /listed a cpu device \(cpu:x\) among its own/],
      [[new Device(init() as never), new Device(init() as never)], /listed the id mlx:0 twice/],
    ];
    for (const [listed, reason] of cases) {
      cleanups.push(registerDeviceProvider({ kind: 'mlx', probe: () => ({ available: true }), devices: () => listed as never }));
      expect(listDevices().map((d) => d.id)).toEqual(['cpu']);
      expect(() => getDevice('mlx')).toThrow(reason);
      // exclude stays absolute: a cpu-kind device listed by another provider is never picked.
      expect(codeOf(() => selectDevice({ exclude: ['cpu'], log: () => {} }))).toBe('ERR_BITNET_UNAVAILABLE');
      cleanups.pop()!();
    }
  });

  it('the Device constructor refuses what would fail later, and devices cannot be altered by a caller', () => {
    expect(codeOf(() => new Device(init({ kind: 'tpu', id: 'tpu' }) as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => new Device(init({ kind: 'cpu', id: 'cpux' }) as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => new Device(init({ name: 7 }) as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => new Device(init({ measureBandwidth: undefined }) as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    const cyclic: Record<string, unknown> = { computeUnits: 1 };
    cyclic.self = cyclic;
    expect(() => new Device(init({ capabilities: cyclic }) as never)).toThrow(/capabilities.self refers back to an object that contains it/);
    const device = cpu();
    expect(() => {
      (device as { id: string }).id = 'hacked';
    }).toThrow(TypeError);
    expect(getDevice('cpu').id).toBe('cpu');
    expect(Object.isFrozen(deviceKinds) && Object.isFrozen(defaultPreferenceOrder)).toBe(true);
  });

  it('measurements run one at a time, a failed one never evicts a newer result, and the cache is keyed by the threads used', async () => {
    let running = 0;
    let overlapped = false;
    let calls = 0;
    const device = new Device(
      init({
        capabilities: { ...cpu().capabilities, simd: null, computeUnits: 2 },
        measureBandwidth: async ({ threads }: { threads: number }) => {
          const call = ++calls;
          overlapped ||= running > 0;
          running++;
          await new Promise((resolve) => setTimeout(resolve, 20));
          running--;
          if (call === 1) throw new Error('probe failed');
          return { readBytesPerSecond: call, triadBytesPerSecond: call, threads, bytes: 1 };
        },
      }) as never,
    );
    const first = device.measureMemoryBandwidth({ threads: 1 });
    const refreshed = device.measureMemoryBandwidth({ threads: 1, refresh: true });
    await expect(first).rejects.toThrow('probe failed');
    expect((await refreshed).readBytesPerSecond).toBe(2);
    expect(await device.measureMemoryBandwidth({ threads: 1 })).toBe(await refreshed);
    expect(overlapped).toBe(false);
    // 0, 2 and 64 all mean the device's 2 compute units: one measurement.
    const all = await device.measureMemoryBandwidth({ threads: 0 });
    expect(await device.measureMemoryBandwidth({ threads: 2 })).toBe(all);
    expect(await device.measureMemoryBandwidth({ threads: 64 })).toBe(all);
    expect(all.threads).toBe(2);
    expect(calls).toBe(3);
    // null options are none; anything else wrong is typed.
    expect(await device.measureMemoryBandwidth(null)).toBe(all);
    expect(codeOf(() => device.measureMemoryBandwidth({ threads: '2' as never }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => device.benchmark({ durationMs: '100' as never }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => device.measureMemoryBandwidth(5 as never))).toBe('ERR_BITNET_INVALID_ARGUMENT');
    expect(codeOf(() => selectDevice({ env: { BITNET_DEVICE: 5 as never } }))).toBe('ERR_BITNET_INVALID_ARGUMENT');
  });

  it('the default logger reports a skipped candidate once per reason, whatever it falls back to', () => {
    const script = `const D = await import(${JSON.stringify(fileURLToPath(new URL('../dist/index.js', import.meta.url)))});
      D.selectDevice(); D.selectDevice({ exclude: ['mlx'] }); D.selectDevice({ prefer: 'cuda' });`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, BITNET_LOG: '', BITNET_DEVICE: '' } });
    const lines = run.stderr.trim().split('\n').filter((line) => line.startsWith('[bitnet]'));
    const candidates = lines.map((line) => line.replace(/^\[bitnet\] (\w+) unavailable.*$/, '$1'));
    expect(new Set(candidates).size).toBe(candidates.length);
    expect(candidates.sort()).toEqual(['cuda', 'metal', 'mlx']);
  });

  it('one registry for the ESM and CJS builds: a provider registered through one is seen by the other', () => {
    const dist = fileURLToPath(new URL('../dist/', import.meta.url));
    const script = `const esm = await import(${JSON.stringify(`${dist}index.js`)});
      const { createRequire } = await import('node:module');
      const cjs = createRequire(import.meta.url)(${JSON.stringify(`${dist}index.cjs`)});
      esm.registerDeviceProvider({ kind: 'cuda', probe: () => ({ available: false, reason: 'driver 535 too old' }), devices: () => [] });
      console.log(cjs.getBackendStatus().find((s) => s.kind === 'cuda').reason);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('driver 535 too old');
  });
});

describe('autoSelectDevice', () => {
  it('falls back to cpu with a logged reason for each unavailable kind', () => {
    const messages: string[] = [];
    const selection = selectDevice({ log: (m) => messages.push(m), env: {} });
    expect(selection.device.id).toBe('cpu');
    expect(selection.skipped.map((s) => s.candidate)).toEqual(['metal', 'mlx', 'cuda']);
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^metal unavailable \(.+\), falling back to mlx$/);
    expect(messages[2]).toMatch(/^cuda unavailable \(.+\), falling back to cpu$/);
  });

  it('never logs a fall back to an excluded kind', () => {
    const messages: string[] = [];
    selectDevice({ exclude: ['cuda'], log: (m) => messages.push(m), env: {} });
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatch(/^mlx unavailable \(.+\), falling back to cpu$/);
  });

  it('walks the documented order metal → mlx → cuda → cpu', () => {
    registerProvider('cuda', true);
    registerProvider('mlx', true);
    expect(autoSelectDevice({ log: () => {}, env: {} }).id).toBe('mlx:0');
    registerProvider('metal', true);
    expect(autoSelectDevice({ log: () => {}, env: {} }).id).toBe('metal:0');
  });

  it('honours prefer and exclude', () => {
    registerProvider('mlx', true);
    expect(autoSelectDevice({ prefer: 'cpu', log: () => {}, env: {} }).id).toBe('cpu');
    expect(autoSelectDevice({ exclude: ['mlx'], log: () => {}, env: {} }).id).toBe('cpu');
    const selection = selectDevice({ prefer: ['metal', 'mlx'], log: () => {}, env: {} });
    expect(selection.device.id).toBe('mlx:0');
    expect(selection.reason).toBe('mlx was preferred and is available');
    expect(() => autoSelectDevice({ prefer: 'gpu', env: {} })).toThrow(/prefer must name device kinds or ids/);
    expect(() => autoSelectDevice({ exclude: ['gpu' as DeviceKind], env: {} })).toThrow(/exclude has an unknown kind "gpu"/);
  });

  it('fails with every reason when nothing is left', () => {
    expect(() => autoSelectDevice({ exclude: ['cpu'], log: () => {}, env: {} })).toThrow(/no device is available \(metal: .*cpu: excluded\)/);
  });

  it('exclusion is absolute, as documented: excluding cpu with nothing else available fails with ERR_BITNET_UNAVAILABLE', () => {
    for (const exclude of [['cpu'], 'cpu'] as const) {
      expect(() => selectDevice({ exclude, log: () => {}, env: {} })).toThrow(
        expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE', message: expect.stringMatching(/no device is available \(.*cpu: excluded\)$/) }),
      );
    }
    registerProvider('mlx', true);
    expect(selectDevice({ exclude: ['cpu'], log: () => {}, env: {} }).device.id).toBe('mlx:0');
  });

  it('a single exclude string is one kind, like prefer; bad prefer / exclude values are typed errors', () => {
    registerProvider('mlx', true);
    expect(selectDevice({ exclude: 'mlx', log: () => {}, env: {} }).device.id).toBe('cpu');
    expect(selectDevice({ exclude: 'cuda', log: () => {}, env: {} }).device.id).toBe('mlx:0');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prefer: [5] }, '[autoSelectDevice] prefer must name device kinds or ids (cpu, metal, mlx, cuda), got 5'],
      [{ prefer: ['cpu', null] }, '[autoSelectDevice] prefer must name device kinds or ids (cpu, metal, mlx, cuda), got null'],
      [{ prefer: null }, '[autoSelectDevice] prefer must be a device kind or id, or an array of them, got null'],
      [{ prefer: 7 }, '[autoSelectDevice] prefer must be a device kind or id, or an array of them, got 7'],
      [{ exclude: 5 }, '[autoSelectDevice] exclude must be a device kind or an array of kinds, got 5'],
      [{ exclude: null }, '[autoSelectDevice] exclude must be a device kind or an array of kinds, got null'],
      [{ exclude: 'gpu' }, '[autoSelectDevice] exclude has an unknown kind "gpu"; kinds are cpu, metal, mlx, cuda'],
      [{ exclude: [3] }, '[autoSelectDevice] exclude has an unknown kind 3; kinds are cpu, metal, mlx, cuda'],
      [{ log: 'loud' }, '[autoSelectDevice] log must be a function, got "loud"'],
    ];
    for (const [options, message] of cases) {
      // BITNET_DEVICE set: bad options are reported even when the variable decides.
      for (const env of [{}, { BITNET_DEVICE: 'cpu' }]) {
        expect(() => selectDevice({ ...options, env } as never), message).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message }));
      }
    }
    expect(() => selectDevice(null as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
  });

  it('BITNET_DEVICE wins, and fails loudly when it names an unavailable device', () => {
    registerProvider('mlx', true);
    expect(selectDevice({ env: { BITNET_DEVICE: 'cpu' } })).toMatchObject({ reason: 'BITNET_DEVICE=cpu' });
    expect(autoSelectDevice({ env: { BITNET_DEVICE: 'mlx:0' } }).id).toBe('mlx:0');
    expect(autoSelectDevice({ env: { BITNET_DEVICE: 'auto' }, log: () => {} }).id).toBe('mlx:0');
    expect(() => autoSelectDevice({ env: { BITNET_DEVICE: 'metal' } })).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_UNAVAILABLE', message: expect.stringContaining('BITNET_DEVICE=metal asks for a device that is unavailable') }),
    );
    expect(() => autoSelectDevice({ env: { BITNET_DEVICE: 'gpu' } })).toThrow(/BITNET_DEVICE=gpu is not a device kind or id/);
  });
});

describe('compareDevices', () => {
  it('benchmarks every available device and ranks by compute', async () => {
    registerProvider('mlx', true, { flops: 1e15 });
    const ranking = await compareDevices({ durationMs: 40 });
    expect(ranking.map((r) => r.deviceId)).toEqual(['mlx:0', 'cpu']);
    expect(ranking[0]).toMatchObject({ rank: 1, relativeCompute: 1 });
    const cpu = ranking[1]!;
    expect(cpu.flopsPerSecond).toBeGreaterThan(1e8);
    expect(cpu.readBytesPerSecond).toBeGreaterThan(1e8);
    expect(cpu.relativeCompute).toBeCloseTo(cpu.flopsPerSecond / 1e15, 12);
  });
});
