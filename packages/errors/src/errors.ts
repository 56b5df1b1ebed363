/**
 * Stable error codes. Codes never change meaning once published; callers
 * branch on `error.code`, not on the message.
 */
export const ErrorCode = {
  INVALID_ARGUMENT: 'ERR_BITNET_INVALID_ARGUMENT',
  OUT_OF_RANGE: 'ERR_BITNET_OUT_OF_RANGE',
  SHAPE_MISMATCH: 'ERR_BITNET_SHAPE_MISMATCH',
  DTYPE: 'ERR_BITNET_DTYPE',
  OUT_OF_MEMORY: 'ERR_BITNET_OUT_OF_MEMORY',
  DISPOSED: 'ERR_BITNET_DISPOSED',
  NATIVE_LOAD: 'ERR_BITNET_NATIVE_LOAD',
  UNAVAILABLE: 'ERR_BITNET_UNAVAILABLE',
  DEVICE_MISMATCH: 'ERR_BITNET_DEVICE_MISMATCH',
  FILE_FORMAT: 'ERR_BITNET_FILE_FORMAT',
  FILE_NOT_FOUND: 'ERR_BITNET_FILE_NOT_FOUND',
  PERMISSION_DENIED: 'ERR_BITNET_PERMISSION_DENIED',
  ABORTED: 'ERR_BITNET_ABORTED',
  DOUBLE_FREE: 'ERR_BITNET_DOUBLE_FREE',
  FOREIGN_HANDLE: 'ERR_BITNET_FOREIGN_HANDLE',
  UNSUPPORTED: 'ERR_BITNET_UNSUPPORTED',
  INTERNAL: 'ERR_BITNET_INTERNAL',
} as const;

export type ErrorCodeName = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface BitNetErrorOptions {
  cause?: unknown;
  /** Structured facts behind the message (shapes, sizes, paths), for programs. */
  details?: Record<string, unknown>;
}

function format(op: string, message: string): string {
  return op ? `[${op}] ${message}` : message;
}

/**
 * Base class of every error the bitnet packages throw on purpose.
 * The message reads `[op] what is wrong, with the values`.
 */
export class BitNetError extends Error {
  readonly code: ErrorCodeName;
  readonly op: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCodeName, op: string, message: string, options: BitNetErrorOptions = {}) {
    super(format(op, message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BitNetError';
    this.code = code;
    this.op = op;
    this.details = options.details;
  }
}

/** Bad argument type or shape: a `TypeError`, as JS users expect. */
export class BitNetTypeError extends TypeError {
  readonly code: ErrorCodeName;
  readonly op: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCodeName, op: string, message: string, options: BitNetErrorOptions = {}) {
    super(format(op, message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BitNetTypeError';
    this.code = code;
    this.op = op;
    this.details = options.details;
  }
}

/** A value outside what the operation accepts: a `RangeError`. */
export class BitNetRangeError extends RangeError {
  readonly code: ErrorCodeName;
  readonly op: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCodeName, op: string, message: string, options: BitNetErrorOptions = {}) {
    super(format(op, message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BitNetRangeError';
    this.code = code;
    this.op = op;
    this.details = options.details;
  }
}

/** Use of an object after `dispose()`. */
export class DisposedError extends BitNetError {
  constructor(op: string, what: string) {
    super(ErrorCode.DISPOSED, op, `${what} has been disposed`);
    this.name = 'DisposedError';
  }
}

export type AnyBitNetError = BitNetError | BitNetTypeError | BitNetRangeError;

/** True for errors from this project, native ones included (they carry an ERR_BITNET_ code). */
export function isBitNetError(error: unknown): error is AnyBitNetError {
  if (!(error instanceof Error)) return false;
  const code = (error as unknown as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('ERR_BITNET_');
}

export function invalidArgument(op: string, message: string, options?: BitNetErrorOptions): BitNetTypeError {
  return new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, op, message, options);
}

export function outOfRange(op: string, message: string, options?: BitNetErrorOptions): BitNetRangeError {
  return new BitNetRangeError(ErrorCode.OUT_OF_RANGE, op, message, options);
}

/** Short printable form of a value for error messages (strings quoted, long arrays cut). */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) {
    const items = value.slice(0, 8).map(formatValue).join(', ');
    return `[${items}${value.length > 8 ? `, … (${value.length} items)` : ''}]`;
  }
  if (ArrayBuffer.isView(value)) return `${value.constructor.name}(${(value as unknown as { length?: number }).length ?? value.byteLength})`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Object.prototype.toString.call(value);
  return String(value);
}

/** An options argument: undefined or null mean none; anything else must be an object. */
export function optionsObject<T extends object>(op: string, options: T | null | undefined, name = 'options'): T {
  if (options === undefined || options === null) return {} as T;
  if (typeof options !== 'object') throw invalidArgument(op, `${name} must be an object, got ${typeof options} ${formatValue(options)}`);
  return options;
}

const errnoReasons: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/**
 * What a file-system error means to a caller, for the errnos every package reads the same way:
 * nothing there (ENOENT, ENOTDIR) → FILE_NOT_FOUND, access refused (EACCES, EPERM, EROFS) →
 * PERMISSION_DENIED; `reason` is a short text for the message. Null for anything else (a folder
 * where a file belongs, a full disk, …), which each caller maps as fits its operation.
 */
export function fileSystemError(error: unknown): { code: ErrorCodeName | null; errno: string; reason: string } | null {
  if (!(error instanceof Error)) return null;
  const errno = (error as { code?: unknown }).code;
  if (typeof errno !== 'string' || !errno.startsWith('E') || errno.startsWith('ERR_')) return null;
  const code =
    errno === 'ENOENT' || errno === 'ENOTDIR'
      ? ErrorCode.FILE_NOT_FOUND
      : errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS'
        ? ErrorCode.PERMISSION_DENIED
        : null;
  return { code, errno, reason: errnoReasons[errno] ?? error.message };
}
