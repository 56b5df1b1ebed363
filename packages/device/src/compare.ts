import { optionsObject } from '@bitnet/errors';
import type { DeviceBenchmark } from './device.js';
import { listDevices } from './registry.js';

export interface DeviceRanking extends DeviceBenchmark {
  rank: number;
  /** flopsPerSecond relative to the fastest device (1 for the fastest). */
  relativeCompute: number;
}

/**
 * Runs a short benchmark on every available device and ranks them by sustained
 * f32 FMA throughput (the bound of matmul-heavy work), ties broken by memory
 * bandwidth (the bound of token generation).
 */
export async function compareDevices(options: { durationMs?: number } | null = {}): Promise<DeviceRanking[]> {
  options = optionsObject('compareDevices', options);
  const results: DeviceBenchmark[] = [];
  for (const device of listDevices()) results.push(await device.benchmark(options));
  results.sort((a, b) => b.flopsPerSecond - a.flopsPerSecond || b.readBytesPerSecond - a.readBytesPerSecond);
  const best = results[0]?.flopsPerSecond ?? 1;
  return results.map((result, index) => ({ ...result, rank: index + 1, relativeCompute: result.flopsPerSecond / best }));
}
