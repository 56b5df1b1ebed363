import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BitNetError,
  BitNetRangeError,
  BitNetTypeError,
  DisposedError,
  ErrorCode,
  formatValue,
  invalidArgument,
  isBitNetError,
  outOfRange,
  optionsObject,
  fileSystemError,
} from './index.js';

describe('errors', () => {
  it('formats messages as [op] message and keeps code, op and details', () => {
    const error = new BitNetError(ErrorCode.SHAPE_MISMATCH, 'matmul', 'inner dimensions differ: 3 vs 4', {
      details: { a: [2, 3], b: [4, 5] },
    });
    expect(error.message).toBe('[matmul] inner dimensions differ: 3 vs 4');
    expect(error.code).toBe('ERR_BITNET_SHAPE_MISMATCH');
    expect(error.op).toBe('matmul');
    expect(error.details).toEqual({ a: [2, 3], b: [4, 5] });
    expect(error).toBeInstanceOf(Error);
  });

  it('uses TypeError and RangeError subclasses where JS expects them', () => {
    const typeError = invalidArgument('encode', 'text must be a string, got 42');
    expect(typeError).toBeInstanceOf(TypeError);
    expect(typeError).toBeInstanceOf(BitNetTypeError);
    expect(typeError.code).toBe(ErrorCode.INVALID_ARGUMENT);
    const rangeError = outOfRange('allocate', 'size must be positive, got -1');
    expect(rangeError).toBeInstanceOf(RangeError);
    expect(rangeError).toBeInstanceOf(BitNetRangeError);
    expect(rangeError.message).toBe('[allocate] size must be positive, got -1');
  });

  it('chains causes', () => {
    const cause = new Error('ENOENT');
    const error = new BitNetError(ErrorCode.FILE_NOT_FOUND, 'load', 'missing', { cause });
    expect(error.cause).toBe(cause);
  });

  it('recognises native errors by their code', () => {
    const native = Object.assign(new RangeError('[allocateAligned] bad'), { code: 'ERR_BITNET_OUT_OF_RANGE' });
    expect(isBitNetError(native)).toBe(true);
    expect(isBitNetError(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe(false);
    expect(isBitNetError('ERR_BITNET_X')).toBe(false);
    expect(isBitNetError(new DisposedError('tensor.add', 'tensor'))).toBe(true);
    expect(new DisposedError('tensor.add', 'tensor').message).toBe('[tensor.add] tensor has been disposed');
  });

  it('formats values for messages', () => {
    expect(formatValue('a')).toBe('"a"');
    expect(formatValue([1, 2, 3])).toBe('[1, 2, 3]');
    expect(formatValue(Array.from({ length: 10 }, (_, i) => i))).toBe('[0, 1, 2, 3, 4, 5, 6, 7, … (10 items)]');
    expect(formatValue(new Float32Array(4))).toBe('Float32Array(4)');
    expect(formatValue(5n)).toBe('5n');
    expect(formatValue(null)).toBe('null');
    expect(formatValue({})).toBe('[object Object]');
  });
});

describe('optionsObject', () => {
  it('takes undefined and null as no options and refuses anything but an object', () => {
    expect(optionsObject('op', undefined)).toEqual({});
    expect(optionsObject('op', null)).toEqual({});
    const given = { a: 1 };
    expect(optionsObject('op', given)).toBe(given);
    expect(() => optionsObject('encode', 5 as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT', message: '[encode] options must be an object, got number 5' }));
    expect(() => optionsObject('encode', 'x' as never, 'config')).toThrow('[encode] config must be an object, got string "x"');
  });
});

describe('fileSystemError', () => {
  const thrown = (action: () => unknown): unknown => {
    try {
      action();
    } catch (error) {
      return error;
    }
    throw new Error('expected a throw');
  };

  it('reads real fs failures the same way for every package', () => {
    const missing = path.join(os.tmpdir(), `bitnet-missing-${process.pid}`, 'file');
    expect(fileSystemError(thrown(() => fs.statSync(missing)))).toEqual({ code: ErrorCode.FILE_NOT_FOUND, errno: 'ENOENT', reason: 'no such file or folder' });
    const file = path.join(os.tmpdir(), `bitnet-file-${process.pid}`);
    fs.writeFileSync(file, 'x');
    try {
      expect(fileSystemError(thrown(() => fs.statSync(path.join(file, 'below'))))).toEqual({ code: ErrorCode.FILE_NOT_FOUND, errno: 'ENOTDIR', reason: 'a part of the path is not a folder' });
    } finally {
      fs.rmSync(file);
    }
    // A folder where a file belongs: each caller decides what that means.
    expect(fileSystemError(thrown(() => fs.readFileSync(os.tmpdir())))).toEqual({ code: null, errno: 'EISDIR', reason: 'it is a folder' });
  });

  it.skipIf(process.platform !== 'linux')('maps a refused write to PERMISSION_DENIED (sysfs refuses new files even to root)', () => {
    const result = fileSystemError(thrown(() => fs.writeFileSync('/sys/kernel/bitnet-test', 'x')));
    expect(result?.code).toBe(ErrorCode.PERMISSION_DENIED);
    expect(['EACCES', 'EPERM', 'EROFS']).toContain(result?.errno);
  });

  it('leaves errors that are not errno failures alone', () => {
    expect(fileSystemError(new Error('plain'))).toBeNull();
    expect(fileSystemError('ENOENT')).toBeNull();
    expect(fileSystemError(Object.assign(new Error('typed'), { code: 'ERR_BITNET_FILE_FORMAT' }))).toBeNull();
    expect(fileSystemError(Object.assign(new Error('node'), { code: 'ERR_INVALID_ARG_TYPE' }))).toBeNull();
    // An errno without a reason of ours keeps the system's message.
    expect(fileSystemError(Object.assign(new Error('too many links'), { code: 'EMLINK' }))).toEqual({ code: null, errno: 'EMLINK', reason: 'too many links' });
  });
});
