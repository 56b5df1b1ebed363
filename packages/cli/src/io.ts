import fs from 'node:fs';
import path from 'node:path';
import { BitNetError, ErrorCode, fileSystemError, isBitNetError } from '@bitnet/errors';

/** Where a command writes; tests capture it. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal: progress bars are drawn there, and only then. */
  isTTY: boolean;
  /** How long a step runs before its bar appears (default 1000 ms; tests set 0 to see every bar). */
  progressAfterMs?: number;
}

export const processIO: CommandIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  // Bars are drawn on stderr, so stderr decides: `bitnet quantize … 2>log` on a terminal keeps the log free of
  // bars, and `bitnet demo > report.txt` still shows them. A getter, so it reads the stream as it is now.
  get isTTY() {
    return Boolean(process.stderr.isTTY);
  },
};

/**
 * Exit codes: 0 ok, 1 the operation failed, 2 bad usage (as most Unix tools); 130 and 143 when Ctrl-C
 * (SIGINT) or SIGTERM stopped a command that cleaned up after itself (128 + the signal's number, as shells report).
 */
export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130, terminated: 143 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Progress {
  /** The fraction done (0 to 1), from a loop; redraws the bar. */
  update(fraction: number): void;
  /** Ends the step and erases its bar (call it in a finally, so an error message starts on a clean line). */
  done(): void;
}

const barWidth = 24;

/**
 * A progress bar on stderr for a step that runs longer than a second, drawn only when stderr is a terminal
 * (elsewhere nothing, so logs and pipes get no \r or escape codes). Loops call update(); a timer also
 * redraws it with the time spent, so a step that awaits one long call running off the main thread (the
 * bandwidth probe, a file write) still moves: with no fraction known, a block sweeps across the bar.
 */
export function progress(io: CommandIO, label: string): Progress {
  if (!io.isTTY) return { update() {}, done() {} };
  const after = io.progressAfterMs ?? 1000;
  const started = Date.now();
  let fraction: number | null = null;
  let drawn = false;
  let lastDraw = 0;
  const draw = () => {
    const now = Date.now();
    const elapsed = now - started;
    if (elapsed < after) return;
    let bar: string;
    let percent = '';
    if (fraction === null) {
      const position = Math.floor(elapsed / 250) % (barWidth - 2);
      bar = `${' '.repeat(position)}███${' '.repeat(barWidth - 3 - position)}`;
    } else {
      const filled = Math.round(fraction * barWidth);
      bar = `${'█'.repeat(filled)}${' '.repeat(barWidth - filled)}`;
      percent = ` ${(fraction * 100).toFixed(0)}%`;
    }
    // \x1b[K clears what a longer line drawn before left behind.
    io.err(`\r${label} [${bar}]${percent} ${(elapsed / 1000).toFixed(1)} s\x1b[K`);
    drawn = true;
    lastDraw = now;
  };
  const timer = setInterval(draw, 250);
  // The timer alone never keeps the process alive.
  timer.unref();
  draw();
  return {
    update(value) {
      const previous = fraction === null ? -1 : Math.floor(fraction * 100);
      fraction = Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
      // A loop of thousands of steps redraws when the percentage moves (or the seconds shown would be stale).
      if (Math.floor(fraction * 100) !== previous || Date.now() - lastDraw >= 250) draw();
    },
    done() {
      clearInterval(timer);
      if (drawn) io.err('\r\x1b[K');
      drawn = false;
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

/**
 * An fs error as a typed error naming the user's path (rather than a bare errno text, or the temporary
 * file a write goes through), in the CLI's own words: `cannot <action> <file>: <reason>`. Errors that are
 * already typed pass through, except those a package below raised because the file system refused
 * access: they are reworded the same way, so every command reports an unreadable file alike.
 */
export function fileError(op: string, action: string, file: string, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (isBitNetError(error)) {
    const cause = error.cause as NodeJS.ErrnoException | undefined;
    const known = fileSystemError(cause);
    if (known?.code !== ErrorCode.PERMISSION_DENIED) return error;
    const denied = typeof cause?.path === 'string' && path.resolve(cause.path) !== path.resolve(file) ? ` (${cause.path})` : '';
    return new BitNetError(ErrorCode.PERMISSION_DENIED, op, `cannot ${action} ${file}: ${known.reason}${denied}`, { cause: error, details: { path: file, errno: known.errno } });
  }
  const known = fileSystemError(error);
  if (known === null) return error;
  // A folder where a file belongs, or a file where a folder does, is the user's argument at fault.
  const code = known.code ?? (['EISDIR', 'ENOTDIR', 'EEXIST'].includes(known.errno) ? ErrorCode.INVALID_ARGUMENT : ErrorCode.UNAVAILABLE);
  return new BitNetError(code, op, `cannot ${action} ${file}: ${known.reason}`, { cause: error, details: { path: file, errno: known.errno } });
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
