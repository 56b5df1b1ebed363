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
