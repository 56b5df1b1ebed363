import { BitNetError, ErrorCode } from '@bitnet/errors';
import type { NativeBinding } from './binding.js';
import { type LoadAttempt, loadNativeBinding } from './loader.js';

export type * from './binding.js';
export { loadNativeBinding, packageRoot, type LoadAttempt, type LoaderOptions } from './loader.js';
export { runtimeKey, detectLibc } from './runtime.js';
export * from './ternary.js';

let cached: { binding: NativeBinding; attempts: LoadAttempt[] } | undefined;
let failure: unknown;
let warned = false;

/**
 * The loaded addon, loaded once per process (per worker thread). Throws the
 * aggregated ERR_BITNET_NATIVE_LOAD error when no binary loads.
 */
export function getNative(): NativeBinding {
  if (cached) return cached.binding;
  if (failure) throw failure;
  try {
    cached = loadNativeBinding();
  } catch (error) {
    failure = error;
    throw error;
  }
  const isa = cached.binding.getIsa();
  if (isa.warning && !warned) {
    warned = true;
    process.emitWarning(isa.warning, { code: 'BITNET_CPU_ISA' });
  }
  return cached.binding;
}

/** Where the addon came from, for `bitnet info` and bug reports. */
export function getNativeLoadInfo(): LoadAttempt[] {
  getNative();
  return cached!.attempts;
}

/** True when the addon loads; never throws. */
export function isNativeAvailable(): boolean {
  try {
    getNative();
    return true;
  } catch {
    return false;
  }
}

/** The reason the addon does not load, or null. */
export function nativeUnavailableReason(): string | null {
  try {
    getNative();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Throws ERR_BITNET_UNAVAILABLE naming `op` when the addon is missing. */
export function requireNative(op: string): NativeBinding {
  try {
    return getNative();
  } catch (error) {
    throw new BitNetError(ErrorCode.UNAVAILABLE, op, 'needs the @bitnet/native addon, which did not load', { cause: error });
  }
}
