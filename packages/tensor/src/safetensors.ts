/**
 * safetensors: an 8-byte little-endian header length N, N bytes of JSON
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {…} }),
 * then the raw little-endian tensor data. Offsets are relative to the data start;
 * like the reference implementation we require the tensors to tile the data
 * exactly (no gaps, no overlaps, nothing left over).
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BitNetError, BitNetTypeError, ErrorCode, fileSystemError, formatValue, invalidArgument, optionsObject } from '@bitnet/errors';
import { BitNetDType } from './dtype.js';
import { formatShape, numelOf } from './shape.js';
import type { TensorMemoryPool } from './storage.js';
import { BitNetTensor } from './tensor.js';

/** Header JSON beyond this size is rejected (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
  name: string;
  dtype: BitNetDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

/** A tensor whose dtype the file format knows but @bitnet/tensor does not hold (F64, I64, …): listed, not loadable. */
export interface UnsupportedSafetensorsEntry {
  name: string;
  /** The file's dtype string, e.g. "I64". */
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  entries: Map<string, SafetensorsEntry>;
  /**
   * Tensors of dtypes the format defines but BitNetDType does not (checkpoints often carry an I64
   * `position_ids` or an F64 buffer): their byte ranges are validated like the others', so the rest
   * of the file opens and loads; loading one of these is ERR_BITNET_UNSUPPORTED.
   */
  unsupported: Map<string, UnsupportedSafetensorsEntry>;
  metadata: Record<string, string>;
  /** Byte position of the data section in the file. */
  dataOffset: number;
}

function formatError(message: string, source: string): BitNetError {
  return new BitNetError(ErrorCode.FILE_FORMAT, 'safetensors', `${source}: ${message}`, { details: { source } });
}

/** Element sizes of the safetensors dtypes that have no BitNetDType. */
const UNSUPPORTED_ELEMENT_BYTES: Record<string, number> = { F64: 8, I64: 8, U64: 8, U32: 4, U16: 2, F8_E4M3: 1, F8_E5M2: 1 };
const SUPPORTED_NAMES = 'F32, F16, BF16, I8, I16, I32, U8, BOOL';

function unsupportedError(op: string, source: string, entry: UnsupportedSafetensorsEntry): BitNetError {
  return new BitNetError(ErrorCode.UNSUPPORTED, op, `${source}: tensor "${entry.name}" has dtype ${entry.dtype}, which @bitnet/tensor does not support (${SUPPORTED_NAMES}); its other tensors can be loaded`, {
    details: { source, name: entry.name, dtype: entry.dtype },
  });
}

const LONE_SURROGATE = /\p{Cs}/u;
const JSON_SPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * What JSON.parse lets through in a header but the format's reference reader refuses, or what makes
 * a file ambiguous: a key given twice in one object (JSON.parse keeps the last), a shape or
 * data_offsets number that is not a plain integer literal (1.0, 1e0: the reference reads them into
 * unsigned integers), a string escape that leaves a lone UTF-16 surrogate, nesting past any real
 * header. `text` has already passed JSON.parse, so only these are looked for.
 */
function headerTextProblem(text: string): string | null {
  let i = 0;
  const space = () => {
    while (JSON_SPACE.has(text[i]!)) i++;
  };
  const string = (): string => {
    const start = i++;
    let escaped = false;
    while (text[i] !== '"') i += text[i] === '\\' ? ((escaped = true), 2) : 1;
    i++;
    const value = escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, i - 1);
    if (escaped && LONE_SURROGATE.test(value)) throw `string ${JSON.stringify(value)} holds a lone UTF-16 surrogate escape, which is not Unicode text`;
    return value;
  };
  const value = (depth: number, key: string | null): void => {
    if (depth > 32) throw 'is nested deeper than 32 levels';
    space();
    const c = text[i];
    if (c === '"') {
      string();
    } else if (c === '{' || c === '[') {
      i++;
      const keys = c === '{' ? new Set<string>() : null;
      space();
      if (text[i] === (keys ? '}' : ']')) {
        i++;
        return;
      }
      for (;;) {
        let member = key;
        if (keys) {
          space();
          member = string();
          if (keys.has(member)) throw `gives the key ${JSON.stringify(member)} twice in one object`;
          keys.add(member);
          space();
          i++; // ':'
        }
        value(depth + 1, member);
        space();
        if (text[i++] !== ',') return;
      }
    } else {
      const start = i;
      while (i < text.length && !JSON_SPACE.has(text[i]!) && text[i] !== ',' && text[i] !== ']' && text[i] !== '}') i++;
      const literal = text.slice(start, i);
      // Only other spellings of valid values: a negative or fractional one fails the entry's own checks.
      const number = Number(literal);
      if ((key === 'shape' || key === 'data_offsets') && Number.isInteger(number) && number >= 0 && !/^(0|[1-9]\d*)$/.test(literal))
        throw `writes ${key} number ${literal}, which is not a non-negative integer literal`;
    }
  };
  try {
    value(0, null);
    return null;
  } catch (problem) {
    if (typeof problem === 'string') return problem;
    throw problem;
  }
}

/** Parses and validates a header given its JSON bytes and the size of the data section. */
export function parseSafetensorsHeader(json: Uint8Array, dataBytes: number, source = 'buffer'): SafetensorsHeader {
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(json);
    parsed = JSON.parse(text);
  } catch (error) {
    throw formatError(`header is not valid UTF-8 JSON (${(error as Error).message})`, source);
  }
  const problem = headerTextProblem(text);
  if (problem) throw formatError(`header ${problem}`, source);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw formatError('header JSON is not an object', source);
  const entries = new Map<string, SafetensorsEntry>();
  const unsupported = new Map<string, UnsupportedSafetensorsEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string'))
        throw formatError('__metadata__ must be an object of strings', source);
      metadata = { ...(value as Record<string, string>) };
      continue;
    }
    if (typeof value !== 'object' || value === null) throw formatError(`entry "${name}" is not an object`, source);
    const { dtype, shape, data_offsets: offsets } = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') throw formatError(`entry "${name}" has no dtype`, source);
    const type = BitNetDType.fromSafetensors(dtype);
    const otherBytes = Object.prototype.hasOwnProperty.call(UNSUPPORTED_ELEMENT_BYTES, dtype) ? UNSUPPORTED_ELEMENT_BYTES[dtype]! : 0;
    if (!type && !otherBytes) throw formatError(`entry "${name}" has dtype ${formatValue(dtype)}, which is not a safetensors dtype @bitnet/tensor knows (${SUPPORTED_NAMES}; listed but not loadable: ${Object.keys(UNSUPPORTED_ELEMENT_BYTES).join(', ')})`, source);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw formatError(`entry "${name}" has an invalid shape ${formatValue(shape)}`, source);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isSafeInteger(d) && d >= 0) || offsets[0] > offsets[1])
      throw formatError(`entry "${name}" has invalid data_offsets ${formatValue(offsets)}`, source);
    const [begin, end] = offsets as [number, number];
    const expected = type ? type.byteLength(numelOf(shape)) : otherBytes * numelOf(shape);
    if (end - begin !== expected)
      throw formatError(`entry "${name}" (${type ? type.name : dtype} ${formatShape(shape)}) needs ${expected} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`, source);
    if (end > dataBytes) throw formatError(`entry "${name}" ends at data byte ${end}, past the ${dataBytes}-byte data section (truncated file?)`, source);
    if (type) entries.set(name, { name, dtype: type, shape: [...shape], begin, end });
    else unsupported.set(name, { name, dtype, shape: [...shape], begin, end });
  }
  const sorted = [...entries.values(), ...unsupported.values()].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const entry of sorted) {
    if (entry.begin < position) throw formatError(`entry "${entry.name}" at [${entry.begin}, ${entry.end}] overlaps the previous tensor (ending at ${position})`, source);
    if (entry.begin > position) throw formatError(`data bytes [${position}, ${entry.begin}) belong to no tensor`, source);
    position = entry.end;
  }
  if (position !== dataBytes) throw formatError(`the data section has ${dataBytes} bytes but the tensors cover ${position}`, source);
  return { entries, unsupported, metadata, dataOffset: 0 };
}

function headerLength(prefix: Uint8Array, total: number, source: string): number {
  if (prefix.byteLength < 8 || total < 8) throw formatError(`${total} bytes is too short for a safetensors file (8-byte header length missing)`, source);
  const length = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) throw formatError(`header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`, source);
  const n = Number(length);
  if (8 + n > total) throw formatError(`header length ${n} runs past the end of the ${total}-byte file`, source);
  return n;
}

export interface TensorInput {
  [name: string]: BitNetTensor;
}

function entriesOf(tensors: TensorInput | Map<string, BitNetTensor>): [string, BitNetTensor][] {
  if (!(tensors instanceof Map) && (tensors === null || typeof tensors !== 'object' || Array.isArray(tensors)))
    throw invalidArgument('safetensors', `tensors must be a Map or an object of name → BitNetTensor, got ${formatValue(tensors)}`);
  const list = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  for (const [name, t] of list) {
    if (typeof name !== 'string') throw invalidArgument('safetensors', `tensor names must be strings, got ${formatValue(name)}`);
    if (name === '__metadata__') throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'safetensors', 'a tensor cannot be named __metadata__');
    if (LONE_SURROGATE.test(name)) throw invalidArgument('safetensors', `tensor name ${JSON.stringify(name)} holds a lone UTF-16 surrogate: it is not Unicode text and has no UTF-8 form`);
    if (!(t instanceof BitNetTensor)) throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'safetensors', `"${name}" is not a BitNetTensor`);
    if (t.isDisposed) throw new BitNetError(ErrorCode.DISPOSED, 'safetensors', `tensor "${name}" has been disposed`);
    if (!t.dtype.safetensorsName) throw new BitNetTypeError(ErrorCode.DTYPE, 'safetensors', `tensor "${name}" is ${t.dtype.name}, which safetensors has no dtype for; store its bytes as U8`);
  }
  return list;
}

/** Adds an own property, even for names such as "__proto__" that plain assignment would swallow. */
function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** The format stores __metadata__ as a JSON object of strings; anything else makes an unreadable file. */
function checkMetadata(metadata: unknown): Record<string, string> | undefined {
  if (metadata === undefined || metadata === null) return undefined;
  const proto = metadata !== null && typeof metadata === 'object' ? Object.getPrototypeOf(metadata) : undefined;
  if (proto !== Object.prototype && proto !== null)
    throw invalidArgument('safetensors', `metadata must be a plain object of string values, got ${formatValue(metadata)}`);
  for (const [k, v] of Object.entries(metadata as object)) {
    if (typeof v !== 'string') throw new BitNetTypeError(ErrorCode.INVALID_ARGUMENT, 'safetensors', `metadata "${k}" must be a string, got ${formatValue(v)}`);
    for (const text of [k, v])
      if (LONE_SURROGATE.test(text)) throw invalidArgument('safetensors', `metadata ${JSON.stringify(k)}: ${JSON.stringify(text)} holds a lone UTF-16 surrogate: it is not Unicode text and has no UTF-8 form`);
  }
  return metadata as Record<string, string>;
}

function buildHeader(list: [string, BitNetTensor][], metadataArg?: Record<string, string>): Uint8Array {
  const metadata = checkMetadata(metadataArg);
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata && Object.keys(metadata).length > 0) {
    const copy: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(metadata)) define(copy, k, v);
    define(header, '__metadata__', copy);
  }
  let offset = 0;
  for (const [name, t] of list) {
    const bytes = t.byteSize;
    define(header, name, { dtype: t.dtype.safetensorsName, shape: [...t.shape], data_offsets: [offset, offset + bytes] });
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned.
  while ((8 + Buffer.byteLength(json)) % 8 !== 0) json += ' ';
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + body.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.byteLength), true);
  out.set(body, 8);
  return out;
}

/** The tensor's bytes in row-major order (a view of pool memory when contiguous). */
function withBytes<T>(t: BitNetTensor, body: (bytes: Uint8Array) => T): T {
  const source = t.isContiguous ? t.contiguous() : t.clone();
  try {
    const at = source.location('safetensors');
    return body(new Uint8Array(at.buffer, at.byteOffset, source.byteSize));
  } finally {
    source.dispose();
  }
}

/** The whole file in memory. */
export function serializeSafetensors(tensors: TensorInput | Map<string, BitNetTensor>, metadata?: Record<string, string>): Uint8Array {
  const list = entriesOf(tensors);
  const header = buildHeader(list, metadata);
  const total = header.byteLength + list.reduce((n, [, t]) => n + t.byteSize, 0);
  const out = new Uint8Array(total);
  out.set(header, 0);
  let position = header.byteLength;
  for (const [, t] of list) {
    withBytes(t, (bytes) => out.set(bytes, position));
    position += t.byteSize;
  }
  return out;
}

/**
 * A unique name beside `file` for the write in progress. The file's name is cut (at a code point)
 * so the whole name stays within the 255 bytes most file systems allow for one name.
 */
function temporaryPath(file: string): string {
  const suffix = `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  let name = '.';
  for (const character of path.basename(file)) {
    if (Buffer.byteLength(name + character + suffix) > 255) break;
    name += character;
  }
  return path.join(path.dirname(file), name + suffix);
}

export interface WriteOptions {
  /** Stops the write between chunks (≤ 64 MiB) when aborted: the temporary file is removed and the promise rejects with ERR_BITNET_ABORTED. */
  signal?: AbortSignal;
}

/**
 * Writes a file, streaming each tensor from pool memory. Data goes to a
 * temporary file in the same directory that is renamed over `file` only once
 * complete, so a failure (or an abort through `options.signal`) leaves no
 * partial file behind.
 */
export async function writeSafetensors(file: string, tensors: TensorInput | Map<string, BitNetTensor>, metadata?: Record<string, string>, options?: WriteOptions | null): Promise<void> {
  checkPath('writeSafetensors', file);
  const { signal } = optionsObject('writeSafetensors', options);
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw invalidArgument('writeSafetensors', `signal must be an AbortSignal, got ${formatValue(signal)}`);
  const list = entriesOf(tensors);
  const header = buildHeader(list, metadata);
  const temporary = temporaryPath(file);
  let handle: fs.FileHandle | undefined;
  const stopIfAborted = () => {
    if (signal?.aborted) throw new BitNetError(ErrorCode.ABORTED, 'writeSafetensors', `${file}: the write was aborted; nothing was written`, { cause: signal.reason });
  };
  try {
    stopIfAborted();
    handle = await fs.open(temporary, 'wx');
    await handle.write(header, 0, header.byteLength);
    for (const [, t] of list) {
      const source = t.isContiguous ? t.contiguous() : t.clone();
      try {
        const at = source.location('writeSafetensors');
        const bytes = new Uint8Array(at.buffer, at.byteOffset, source.byteSize);
        // Chunked so one huge tensor never needs one huge write call.
        for (let start = 0; start < bytes.byteLength; start += 64 << 20) {
          const piece = bytes.subarray(start, Math.min(bytes.byteLength, start + (64 << 20)));
          let written = 0;
          while (written < piece.byteLength) written += (await handle.write(piece, written, piece.byteLength - written)).bytesWritten;
          stopIfAborted();
        }
      } finally {
        source.dispose();
      }
    }
    stopIfAborted();
    await handle.sync();
    await handle.close();
    handle = undefined;
    stopIfAborted();
    await fs.rename(temporary, file);
  } catch (error) {
    if (handle) await handle.close().catch(() => undefined);
    await fs.unlink(temporary).catch(() => undefined);
    throw fileError('writeSafetensors', file, error, 'written');
  }
}

function checkPath(op: string, file: unknown): asserts file is string {
  if (typeof file !== 'string' || file.length === 0) throw invalidArgument(op, `file must be a non-empty path string, got ${formatValue(file)}`);
}

/**
 * A file-system failure as a typed error naming the path (errors that are already
 * ours pass through): a missing file or directory → ERR_BITNET_FILE_NOT_FOUND, no
 * permission → ERR_BITNET_PERMISSION_DENIED, a directory where a file belongs or any
 * other I/O failure → ERR_BITNET_FILE_FORMAT.
 */
function fileError(op: string, file: string, error: unknown, verb: 'read' | 'written'): unknown {
  if (error instanceof BitNetError) return error;
  const known = fileSystemError(error);
  if (known === null) return error;
  const details = { path: file, errno: known.errno };
  if (known.code === ErrorCode.FILE_NOT_FOUND) {
    const what = verb === 'read' ? `${file}: no such file` : `${file}: cannot be written, directory ${path.dirname(file)} does not exist`;
    return new BitNetError(ErrorCode.FILE_NOT_FOUND, op, what, { cause: error, details });
  }
  if (known.code === ErrorCode.PERMISSION_DENIED) {
    // The temporary file is ours, not the user's: name the folder that refused it.
    const what = verb === 'read' ? `${file}: ${known.reason}` : `${file}: cannot be written, ${known.reason} in ${path.dirname(file)}`;
    return new BitNetError(ErrorCode.PERMISSION_DENIED, op, what, { cause: error, details });
  }
  if (known.errno === 'EISDIR') return new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: is a directory, not a file`, { cause: error, details });
  return new BitNetError(ErrorCode.FILE_FORMAT, op, `${file}: cannot be ${verb} (${(error as Error).message})`, { cause: error, details });
}

export interface LoadOptions {
  pool?: TensorMemoryPool;
  device?: string;
}

/**
 * An open safetensors file: the header is read and validated up front; tensor
 * data is read only when asked for, straight into pool memory.
 */
export class SafetensorsFile {
  private constructor(
    readonly file: string,
    private handle: fs.FileHandle | undefined,
    readonly header: SafetensorsHeader,
  ) {}

  static async open(file: string): Promise<SafetensorsFile> {
    checkPath('safetensors', file);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (error) {
      throw fileError('safetensors', file, error, 'read');
    }
    try {
      const stat = await handle.stat();
      // open() succeeds on a directory; reading it would fail with a bare EISDIR.
      if (!stat.isFile()) throw new BitNetError(ErrorCode.FILE_FORMAT, 'safetensors', `${file}: is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}, not a safetensors file`, { details: { path: file } });
      const { size } = stat;
      const prefix = new Uint8Array(8);
      await handle.read(prefix, 0, Math.min(8, size), 0);
      const n = headerLength(prefix, size, file);
      const json = new Uint8Array(n);
      await handle.read(json, 0, n, 8);
      const header = parseSafetensorsHeader(json, size - 8 - n, file);
      header.dataOffset = 8 + n;
      return new SafetensorsFile(file, handle, header);
    } catch (error) {
      await handle.close();
      throw fileError('safetensors', file, error, 'read');
    }
  }

  /** The tensors this package can load; those of other dtypes are in `unsupported`. */
  get names(): string[] { return [...this.header.entries.keys()]; }
  /** The tensors whose dtype @bitnet/tensor cannot hold (I64, F64, …), with the file's dtype string. */
  get unsupported(): UnsupportedSafetensorsEntry[] { return [...this.header.unsupported.values()].map((e) => ({ ...e, shape: [...e.shape] })); }
  get metadata(): Record<string, string> { return { ...this.header.metadata }; }

  info(name: string): SafetensorsEntry {
    const entry = this.header.entries.get(name);
    const other = entry ? undefined : this.header.unsupported.get(name);
    if (other) throw unsupportedError('safetensors', this.file, other);
    if (!entry) throw new BitNetError(ErrorCode.INVALID_ARGUMENT, 'safetensors', `${this.file} has no tensor "${name}" (it has ${this.names.slice(0, 8).join(', ')}${this.names.length > 8 ? ', …' : ''})`);
    return entry;
  }

  /** Reads one tensor's bytes into a new tensor. */
  async load(name: string, options: LoadOptions = {}): Promise<BitNetTensor> {
    if (!this.handle) throw new BitNetError(ErrorCode.DISPOSED, 'safetensors', `${this.file} has been closed`);
    const entry = this.info(name);
    const t = BitNetTensor.empty(entry.shape, { dtype: entry.dtype, device: options.device, pool: options.pool });
    try {
      const bytes = t.rawBytes('safetensors').subarray(0, entry.end - entry.begin);
      let read = 0;
      while (read < bytes.byteLength) {
        let bytesRead: number;
        try {
          ({ bytesRead } = await this.handle.read(bytes, read, bytes.byteLength - read, this.header.dataOffset + entry.begin + read));
        } catch (error) {
          throw fileError('safetensors', this.file, error, 'read');
        }
        if (bytesRead === 0) throw formatError(`unexpected end of file while reading "${name}"`, this.file);
        read += bytesRead;
      }
      return t;
    } catch (error) {
      t.dispose();
      throw error;
    }
  }

  /** Loads the named tensors (all when omitted); on error, none are kept. */
  async loadAll(names: readonly string[] = this.names, options: LoadOptions = {}): Promise<Map<string, BitNetTensor>> {
    const out = new Map<string, BitNetTensor>();
    try {
      for (const name of names) out.set(name, await this.load(name, options));
      return out;
    } catch (error) {
      for (const t of out.values()) t.dispose();
      throw error;
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Reads chosen tensors of a file: by default every one of a dtype this package holds; the others
 * (I64, F64, …) are listed in `unsupported`, and naming one is ERR_BITNET_UNSUPPORTED.
 */
export async function readSafetensors(
  file: string,
  options: LoadOptions & { names?: readonly string[] } = {},
): Promise<{ tensors: Map<string, BitNetTensor>; metadata: Record<string, string>; unsupported: UnsupportedSafetensorsEntry[] }> {
  const reader = await SafetensorsFile.open(file);
  try {
    return { tensors: await reader.loadAll(options.names ?? reader.names, options), metadata: reader.metadata, unsupported: reader.unsupported };
  } finally {
    await reader.close();
  }
}

/**
 * Parses a whole file held in memory (tensors are copied into pool memory); tensors of dtypes this
 * package does not hold are left out and listed in `unsupported`.
 */
export function deserializeSafetensors(
  bytes: Uint8Array,
  options: LoadOptions = {},
): { tensors: Map<string, BitNetTensor>; metadata: Record<string, string>; unsupported: UnsupportedSafetensorsEntry[] } {
  if (!(bytes instanceof Uint8Array)) throw invalidArgument('deserializeSafetensors', `bytes must be a Uint8Array (or Buffer), got ${formatValue(bytes)}`);
  const n = headerLength(bytes, bytes.byteLength, 'buffer');
  const header = parseSafetensorsHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n);
  const tensors = new Map<string, BitNetTensor>();
  try {
    for (const entry of header.entries.values())
      tensors.set(entry.name, BitNetTensor.fromBytes(bytes.subarray(8 + n + entry.begin, 8 + n + entry.end), entry.shape, entry.dtype, options));
  } catch (error) {
    for (const t of tensors.values()) t.dispose();
    throw error;
  }
  return { tensors, metadata: header.metadata, unsupported: [...header.unsupported.values()] };
}
