import fs from 'node:fs';
import { BitNetError, ErrorCode, isBitNetError } from '@bitnet/errors';

/** Where a command writes; tests capture it. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processIO: CommandIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTTY: Boolean(process.stdout.isTTY),
};

/** Exit codes: 0 ok, 1 the operation failed, 2 bad usage (as most Unix tools). */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A progress bar on a TTY for steps longer than a second; silent otherwise. */
export function progress(io: CommandIO, label: string): { update(fraction: number): void; done(): void } {
  const started = Date.now();
  let last = 0;
  const draw = (fraction: number) => {
    if (!io.isTTY || Date.now() - started < 1000) return;
    const width = 24;
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    io.err(`\r${label} [${'█'.repeat(filled)}${' '.repeat(width - filled)}] ${(fraction * 100).toFixed(0)}%`);
    last = Date.now();
  };
  return {
    update: draw,
    done() {
      if (last) io.err('\n');
    },
  };
}

/**
 * A decimal integer typed on the command line, or null: digits only, so `0x10`, `1e3`, ` 16` or an
 * empty string (all of which Number() accepts) are refused instead of running with a value the user did not type.
 */
export function parseDecimal(raw: string): number | null {
  return /^[0-9]+$/.test(raw) ? Number(raw) : null;
}

const errnoReasons: Record<string, string> = {
  ENOENT: 'no such file or folder',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/**
 * An fs error as a typed error naming the user's path (rather than a bare errno text, or the temporary
 * file a write goes through). Errors that are already typed pass through.
 */
export function fileError(op: string, action: string, file: string, error: unknown): unknown {
  if (isBitNetError(error) || !(error instanceof Error)) return error;
  const errno = (error as NodeJS.ErrnoException).code;
  if (typeof errno !== 'string') return error;
  const code =
    errno === 'ENOENT' ? ErrorCode.FILE_NOT_FOUND : ['EISDIR', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST'].includes(errno) ? ErrorCode.INVALID_ARGUMENT : ErrorCode.UNAVAILABLE;
  return new BitNetError(code, op, `cannot ${action} ${file}: ${errnoReasons[errno] ?? error.message}`, { cause: error, details: { path: file, errno } });
}

/** fs.statSync, or null when nothing is at `file` (or a part of its path is a file). */
export function statOrNull(op: string, file: string): import('node:fs').Stats | null {
  try {
    return fs.statSync(file);
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return null;
    throw fileError(op, 'read', file, error);
  }
}
