import { afterEach, describe, expect, it } from 'vitest';
import { type CommandIO, fileError, processIO, progress } from './io.js';

function capture(isTTY: boolean): CommandIO & { stderr: string } {
  const io = { stderr: '', isTTY, progressAfterMs: 0, out: () => {}, err: (t: string) => void (io.stderr += t) };
  return io;
}

describe('progress bars', () => {
  const saved = { stdout: Object.getOwnPropertyDescriptor(process.stdout, 'isTTY'), stderr: Object.getOwnPropertyDescriptor(process.stderr, 'isTTY') };
  afterEach(() => {
    for (const name of ['stdout', 'stderr'] as const) {
      const descriptor = saved[name];
      if (descriptor) Object.defineProperty(process[name], 'isTTY', descriptor);
      else delete (process[name] as { isTTY?: boolean }).isTTY;
    }
  });

  it('are drawn when stderr (where they go) is a terminal, whatever stdout is', () => {
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    expect(processIO.isTTY).toBe(true); // `bitnet demo > report.txt`: bars still on the terminal
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
    expect(processIO.isTTY).toBe(false); // `bitnet quantize … 2> log`: no \r bars in the log
  });

  it('redraw on a timer while a step awaits one long call, and erase themselves at the end', async () => {
    const io = capture(true);
    const bar = progress(io, 'probing');
    await new Promise((resolve) => setTimeout(resolve, 700));
    bar.done();
    const draws = io.stderr.split('\r').filter((part) => part.startsWith('probing ['));
    expect(draws.length).toBeGreaterThanOrEqual(3);
    expect(draws.at(-1)).toMatch(/^probing \[ *███ *\] 0\.\d s\x1b\[K$/);
    expect(io.stderr.endsWith('\r\x1b[K')).toBe(true);
  });

  it('show the fraction a loop reports', () => {
    const io = capture(true);
    const bar = progress(io, 'blocks');
    bar.update(0.5);
    bar.update(1);
    bar.done();
    expect(io.stderr).toContain(`blocks [${'█'.repeat(12)}${' '.repeat(12)}] 50% `);
    expect(io.stderr).toContain(`blocks [${'█'.repeat(24)}] 100% `);
  });

  it('write nothing at all when stderr is not a terminal', async () => {
    const io = capture(false);
    const bar = progress(io, 'probing');
    bar.update(0.5);
    await new Promise((resolve) => setTimeout(resolve, 300));
    bar.done();
    expect(io.stderr).toBe('');
  });
});

describe('fileError', () => {
  const errno = (code: string, file: string) => Object.assign(new Error(`${code}: failed, open '${file}'`), { code, path: file });

  it('gives file-system permission failures their own code', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      const error = fileError('quantize', 'read the input', 'in.safetensors', errno(code, 'in.safetensors')) as { code: string; message: string };
      expect(error.code).toBe('ERR_BITNET_PERMISSION_DENIED');
      expect(error.message).toMatch(/^\[quantize\] cannot read the input in\.safetensors: /);
    }
    expect((fileError('demo', 'read the text file', 't.txt', errno('EACCES', 't.txt')) as Error).message).toBe('[demo] cannot read the text file t.txt: permission denied');
  });

  it('re-codes a typed error from a package below whose cause is a permission failure', () => {
    const below = Object.assign(new Error('[loadTokenizer] t.json: cannot be read (EACCES: permission denied)'), { code: 'ERR_BITNET_FILE_FORMAT', cause: errno('EACCES', 't.json') });
    const error = fileError('tokenize', 'read the tokenizer', 't.json', below) as { code: string; message: string };
    expect(error.code).toBe('ERR_BITNET_PERMISSION_DENIED');
    expect(error.message).toBe('[tokenize] cannot read the tokenizer t.json: permission denied');
    const format = Object.assign(new Error('[loadTokenizer] bad JSON'), { code: 'ERR_BITNET_FILE_FORMAT' });
    expect(fileError('tokenize', 'read the tokenizer', 't.json', format)).toBe(format);
  });
});
