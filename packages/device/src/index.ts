export {
  Device,
  deviceKinds,
  type CacheLevel,
  type DeviceBenchmark,
  type DeviceCapabilities,
  type DeviceInit,
  type DeviceKind,
  type MemoryBandwidth,
  type SimdCapabilities,
} from './device.js';
export {
  registerDeviceProvider,
  listDevices,
  getDevice,
  getDeviceInfo,
  getBackendStatus,
  probeDeviceKind,
  type DeviceInfo,
  type DeviceProvider,
  type ProbeResult,
} from './registry.js';
export { cpuProvider } from './cpu.js';
export { autoSelectDevice, selectDevice, defaultPreferenceOrder, type AutoSelectOptions, type DeviceSelection } from './select.js';
export { compareDevices, type DeviceRanking } from './compare.js';
export { defaultLogger, silentLogger, type DeviceLogger } from './log.js';
