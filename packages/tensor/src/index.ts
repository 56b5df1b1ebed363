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
  type LoadOptions, type SafetensorsEntry, type SafetensorsHeader, type TensorInput, type UnsupportedSafetensorsEntry, type WriteOptions,
} from './safetensors.js';
export {
  LAYOUT_DTYPES, PackedTernaryTensor, QuantizedActivations, TernaryTensor, convertTernary, dequantize158, dequantizeActivations,
  packTernary, quantize158, quantize1Bit, quantizeActivations, unpackTernary,
  type Quantize158Options, type TernaryGranularity, type TernaryLayout,
} from './quantization.js';
export { BitLinear, type BitLinearForwardOptions, type BitLinearGradients, type BitLinearGranularity, type BitLinearOptions, type BitLinearSaveOptions } from './bitlinear.js';
export { ternaryKernelTiers, type TernaryTier } from '@bitnet/native';
export { bf16ToNumber, f16ToNumber, numberToBF16, numberToF16 } from './half.js';

import { getDefaultPool } from '@bitnet/memory';
import { registerTensorBackend } from './backend.js';
import { CpuTensorBackend } from './cpu.js';
import { setDefaultTensorPoolFactory } from './pool.js';

registerTensorBackend(new CpuTensorBackend());
// Tensors live in the process-wide @bitnet/memory pool unless given another.
setDefaultTensorPoolFactory(() => getDefaultPool());
