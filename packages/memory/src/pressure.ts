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
  return [0, 0.625 * threshold, 0.875 * threshold, threshold, threshold + 0.75 * (1 - threshold)];
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
