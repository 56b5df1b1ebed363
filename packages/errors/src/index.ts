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
} from './errors.js';
