import { type NativeBinding, getNative, nativeUnavailableReason } from '@bitnet/native';
import { Device, type DeviceBenchmark, type MemoryBandwidth } from './device.js';
import { type DeviceProvider, registerDeviceProvider } from './registry.js';

function cpuDevice(native: NativeBinding): Device {
  const features = native.getCpuFeatures();
  const isa = native.getIsa();
  const memory = native.getMemoryInfo();
  const threads = native.getThreadInfo();
  const limit = memory.cgroupLimitBytes ?? Number.POSITIVE_INFINITY;
  const memoryBytes = Math.min(memory.totalBytes, limit);
  return new Device({
    kind: 'cpu',
    id: 'cpu',
    name: features.brand || `${features.architecture} CPU`,
    capabilities: {
      simd: {
        features: Object.entries(features.flags)
          .filter(([, present]) => present)
          .map(([name]) => name),
        tier: isa.selected,
        bestTier: isa.best,
        supportedTiers: isa.supported,
      },
      computeUnits: threads.poolThreads,
      caches: native.getCacheInfo(),
      memoryBytes,
      availableMemoryBytes: Math.min(memory.availableBytes, memoryBytes),
      unifiedMemory: true,
      // Native allocations are limited by memory, not by an API maximum.
      maxBufferBytes: memoryBytes,
      supportedDTypes: ['f32', 'f16', 'bf16', 'i8', 'i16', 'i32', 'u8', 'bool', 'tq2_0', 'tq1_0'],
    },
    async measureBandwidth({ threads: count }): Promise<MemoryBandwidth> {
      const result = await native.measureBandwidthAsync({ threads: count ?? 0 });
      return {
        readBytesPerSecond: result.readBytesPerSecond,
        triadBytesPerSecond: result.triadBytesPerSecond,
        threads: result.threads,
        bytes: result.bytes,
      };
    },
    async benchmark({ durationMs }): Promise<DeviceBenchmark> {
      const start = performance.now();
      const compute = native.measureCompute({ seconds: durationMs / 2000 });
      // A smaller working set than the full probe keeps this short; still well past L2.
      const bandwidth = await native.measureBandwidthAsync({ bytes: 64 << 20, repetitions: 2 });
      return {
        deviceId: 'cpu',
        flopsPerSecond: compute.flopsPerSecond,
        readBytesPerSecond: bandwidth.readBytesPerSecond,
        durationMs: performance.now() - start,
      };
    },
  });
}

let probeResult: { available: boolean; reason?: string } | undefined;
let device: Device | undefined;

export const cpuProvider: DeviceProvider = {
  kind: 'cpu',
  probe() {
    if (!probeResult) {
      const reason = nativeUnavailableReason();
      if (reason !== null) {
        probeResult = { available: false, reason };
      } else {
        // The addon loads, but describing the CPU can still fail: a bad BITNET_NUM_THREADS or
        // BITNET_SPIN_US makes the thread pool refuse to start, with a typed error naming the variable.
        try {
          device = cpuDevice(getNative());
          probeResult = { available: true };
        } catch (error) {
          probeResult = { available: false, reason: error instanceof Error ? error.message : String(error) };
        }
      }
    }
    return probeResult;
  },
  devices() {
    device ??= cpuDevice(getNative());
    return [device];
  },
};

registerDeviceProvider(cpuProvider);
