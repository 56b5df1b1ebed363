import { processWide } from './process-wide.js';

/**
 * Where device-selection messages go. `key` names what a message is about (a skipped candidate and why); the
 * default logger prints each key once, so a candidate skipped by many selections is reported once even when
 * the kind it falls back to differs.
 */
export type DeviceLogger = (message: string, key?: string) => void;

// One set per process, shared by this package's ESM and CJS builds (both may be loaded).
const printed = processWide('logged', () => new Set<string>());

export const defaultLogger: DeviceLogger = (message, key = message) => {
  if (process.env.BITNET_LOG === 'silent' || printed.has(key)) return;
  printed.add(key);
  process.stderr.write(`[bitnet] ${message}\n`);
};

export const silentLogger: DeviceLogger = () => {};
