import os from 'node:os';
import { getNative } from '@bitnet/native';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Device,
  type DeviceKind,
  autoSelectDevice,
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
    expect(() => new Device({ ...getDevice('cpu'), kind: 'mlx', id: 'cpu' } as never)).toThrow(/must start with its kind/);
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
