/** How close a device's live memory is to its limit. */
export const PressureLevel = {
  None: 'none',
  Low: 'low',
  Medium: 'medium',
  High: 'high',
  Critical: 'critical',
} as const;
export type PressureLevel = (typeof PressureLevel)[keyof typeof PressureLevel];

export const pressureLevels: readonly PressureLevel[] = ['none', 'low', 'medium', 'high', 'critical'];

/**
 * Use/limit ratios where each level starts, from the High threshold t
 * (trackingConfig.pressureThresholdRatio, default 0.8):
 * Low 0.625·t, Medium 0.875·t, High t, Critical t + 0.75·(1 − t).
 * With t = 0.8: 0.5, 0.7, 0.8, 0.95.
 */
export function pressureRatios(threshold: number): number[] {
  // Rounded to 12 significant digits: the float products carry noise such as
  // 0.875 × 0.8 = 0.7000000000000001, which would move the documented 0.7 boundary.
  return [0, 0.625 * threshold, 0.875 * threshold, threshold, threshold + 0.75 * (1 - threshold)].map(tidy);
}

function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

/**
 * Byte counts where each level starts for a device with `limit` bytes: the
 * smallest whole byte count at or above ratio × limit, so comparisons against
 * currentAllocated (an integer) are exact and a boundary is inclusive (700 of
 * 1000 bytes is medium with t = 0.8).
 */
export function pressureThresholdBytes(threshold: number, limit: number): number[] {
  return pressureRatios(threshold).map((ratio) => exactCeiling(ratio, limit));
}

/**
 * ⌈ratio × limit⌉ computed exactly: `ratio` is read as the decimal of at most 12 significant digits it was
 * tidied to, and the product taken in BigInt. (A float product with a relative tolerance moved boundaries of
 * limits near 10^12 by a byte: 0.7 × 1000000000003 = …002.1 must start at …003.)
 */
function exactCeiling(ratio: number, limit: number): number {
  if (ratio === 0) return 0;
  const match = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(ratio.toExponential(11));
  if (match === null || !Number.isSafeInteger(limit)) return Math.ceil(ratio * limit);
  const digits = BigInt(match[1]! + (match[2] ?? ''));
  // ratio = digits × 10^(exponent − fraction digits).
  const scale = Number(match[3]) - (match[2]?.length ?? 0);
  const product = digits * BigInt(limit);
  if (scale >= 0) return Number(product * 10n ** BigInt(scale));
  const denominator = 10n ** BigInt(-scale);
  return Number((product + denominator - 1n) / denominator);
}

export function pressureIndexOf(ratio: number, ratios: readonly number[]): number {
  let index = 0;
  while (index + 1 < ratios.length && ratio >= ratios[index + 1]!) index++;
  return index;
}

export interface PressureEvent {
  device: string;
  level: PressureLevel;
  previous: PressureLevel;
  currentAllocated: number;
  memoryLimit: number;
  ratio: number;
}

export type PressureCallback = (event: PressureEvent) => void;
