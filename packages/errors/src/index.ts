export {
  BitNetError,
  BitNetTypeError,
  BitNetRangeError,
  DisposedError,
  ErrorCode,
  type ErrorCodeName,
  type BitNetErrorOptions,
  isBitNetError,
  invalidArgument,
  outOfRange,
  formatValue,
  optionsObject,
} from './errors.js';
