export { BitNetDType, promoteTypes, toDType, type DTypeKind, type DTypeLike, type DTypeName, type ElementArray } from './dtype.js';
export { TensorMetadata } from './metadata.js';
export { broadcastShapes, contiguousStrides, formatShape, numelOf, type Shape } from './shape.js';
export { Storage, leakedStorageCount, setLeakReporter, type LeakReporter, type MemoryHandle, type TensorMemoryPool } from './storage.js';
export { getDefaultTensorPool, setDefaultTensorPool, setDefaultTensorPoolFactory } from './pool.js';
export { BitNetTensor, type NestedArray, type SliceSpec, type TensorOptions } from './tensor.js';
export {
  deviceKind, getTensorBackend, listTensorBackends, registerTensorBackend, unregisterTensorBackend,
  type BinaryOpName, type CompareOpName, type ReduceOpName, type TensorBackend, type UnaryOpName,
} from './backend.js';
export { CpuTensorBackend } from './cpu.js';
export * from './ops.js';
export { ConversionConfig, ConversionEngine, type ConversionConfigOptions, type ConversionMetrics, type I8Quantized } from './conversion.js';
export {
  SafetensorsFile, deserializeSafetensors, parseSafetensorsHeader, readSafetensors, serializeSafetensors, writeSafetensors,
  type LoadOptions, type SafetensorsEntry, type SafetensorsHeader, type TensorInput,
} from './safetensors.js';
export { bf16ToNumber, f16ToNumber, numberToBF16, numberToF16 } from './half.js';

import { getDefaultPool } from '@bitnet/memory';
import { registerTensorBackend } from './backend.js';
import { CpuTensorBackend } from './cpu.js';
import { setDefaultTensorPoolFactory } from './pool.js';

registerTensorBackend(new CpuTensorBackend());
// Tensors live in the process-wide @bitnet/memory pool unless given another.
setDefaultTensorPoolFactory(() => getDefaultPool());
