import fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BitNetError, ErrorCode } from '@bitnet/errors';
import type { NativeBinding } from './binding.js';
import { detectLibc, runtimeKey } from './runtime.js';

const requireHere = createRequire(import.meta.url);

/** The package root: dist/ or src/ sits one level below it. */
export const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface LoadAttempt {
  /** What was tried: the override, the local build or the prebuilt package. */
  source: 'override' | 'local-build' | 'prebuilt';
  location: string;
  /** Why it failed; absent for the one that loaded. */
  error?: string;
  /** True when the file or package was simply not there. */
  missing?: boolean;
}

export interface LoaderOptions {
  env?: NodeJS.ProcessEnv;
  root?: string;
  key?: string;
  /** Expected addon version (this package's version). */
  version?: string;
  /** Loads a `.node` file or package; injectable for tests. */
  load?: (specifier: string) => unknown;
}

function packageVersion(root: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  } catch {
    return '0.0.0';
  }
}

// Literal specifiers so bundlers and Electron packagers can trace them (sharp's lesson).
function prebuiltSpecifier(key: string): string | null {
  switch (key) {
    case 'linux-x64':
      return '@bitnet/native-linux-x64/bitnet.node';
    case 'linux-arm64':
      return '@bitnet/native-linux-arm64/bitnet.node';
    case 'linuxmusl-x64':
      return '@bitnet/native-linuxmusl-x64/bitnet.node';
    case 'darwin-arm64':
      return '@bitnet/native-darwin-arm64/bitnet.node';
    case 'darwin-x64':
      return '@bitnet/native-darwin-x64/bitnet.node';
    case 'win32-x64':
      return '@bitnet/native-win32-x64/bitnet.node';
    default:
      return null;
  }
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'MODULE_NOT_FOUND' || code === 'ENOENT' || code === 'ERR_MODULE_NOT_FOUND';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return `${code ? `${code}: ` : ''}${error.message.split('\n')[0]}`;
  }
  return String(error);
}

function checkBinding(candidate: unknown, expectedVersion: string): NativeBinding {
  const binding = candidate as Partial<NativeBinding> | null;
  if (!binding || typeof binding.getCpuFeatures !== 'function' || typeof binding.version !== 'string') {
    throw new Error('the file loaded but is not a bitnet addon (no version or getCpuFeatures export)');
  }
  if (binding.version !== expectedVersion) {
    throw new Error(`version mismatch: the binary is ${binding.version}, the JS package is ${expectedVersion}`);
  }
  // Both sides check: the binary also refuses a JS layer of another version.
  (binding as NativeBinding).checkJsVersion(expectedVersion);
  // Node-API makes external ArrayBuffers through node::Buffer, capped at this size.
  (binding as NativeBinding).setArrayBufferLimit(bufferConstants.MAX_LENGTH);
  return binding as NativeBinding;
}

function possibleSolutions(attempts: LoadAttempt[], key: string, libc: string | null): string[] {
  const solutions: string[] = [];
  const allMissing = attempts.every((attempt) => attempt.missing);
  const versionMismatch = attempts.some((attempt) => attempt.error?.includes('version mismatch'));
  if (attempts.some((attempt) => attempt.source === 'override')) {
    solutions.push('Check BITNET_NATIVE_PATH: it must name a bitnet .node file built for this Node.js and platform, or be unset.');
  }
  if (allMissing || versionMismatch) {
    solutions.push(
      'Build the addon from source: `pnpm --filter @bitnet/native build:native` in the repository, or ' +
        '`npm rebuild @bitnet/native` in a project (needs a C++17 compiler, make and python3; Debian: apt-get install -y g++ make python3).',
    );
  }
  if (prebuiltSpecifier(key)) {
    solutions.push(
      `Install the prebuilt binary with optional dependencies enabled: \`npm install --include=optional @bitnet/native\`` +
        ` (or \`npm install --os=${process.platform} --cpu=${process.arch}${libc === 'musl' ? ' --libc=musl' : ''} @bitnet/native\` when installing for another platform).`,
    );
  } else {
    solutions.push(`No prebuilt binary exists for ${key}; build from source as above.`);
  }
  if (attempts.some((attempt) => /ERR_DLOPEN_DISABLED/.test(attempt.error ?? ''))) {
    solutions.push('Node.js was started with --no-addons; run it without that flag.');
  }
  if (attempts.some((attempt) => /GLIBC|CXXABI|symbol not found|undefined symbol/i.test(attempt.error ?? ''))) {
    solutions.push('The binary was built against a newer C/C++ runtime than this system has: rebuild from source here.');
  }
  if (attempts.some((attempt) => /NODE_MODULE_VERSION|invalid ELF|wrong ELF class|not a valid Win32/i.test(attempt.error ?? ''))) {
    solutions.push(`The binary was built for another Node.js or CPU architecture; rebuild it with this Node.js (${process.version}, ${process.arch}).`);
  }
  return solutions;
}

/**
 * Loads the addon, sharp-style: the BITNET_NATIVE_PATH override (exclusive when
 * set), else the local build `build/Release/bitnet-<key>.node`, else the
 * prebuilt `@bitnet/native-<key>` package. Every failure is collected; if none
 * loads, one ERR_BITNET_NATIVE_LOAD error lists each attempt with its cause and
 * the possible solutions.
 */
export function loadNativeBinding(options: LoaderOptions = {}): { binding: NativeBinding; attempts: LoadAttempt[] } {
  const env = options.env ?? process.env;
  const root = options.root ?? packageRoot;
  const libc = detectLibc();
  const key = options.key ?? runtimeKey(process.platform, process.arch, libc);
  const version = options.version ?? packageVersion(root);
  const load = options.load ?? ((specifier: string) => requireHere(specifier));
  const attempts: LoadAttempt[] = [];

  const candidates: Array<{ source: LoadAttempt['source']; location: string }> = [];
  const override = env.BITNET_NATIVE_PATH;
  if (override) {
    candidates.push({ source: 'override', location: path.resolve(override) });
  } else {
    candidates.push({ source: 'local-build', location: path.join(root, 'build', 'Release', `bitnet-${key}.node`) });
    const prebuilt = prebuiltSpecifier(key);
    if (prebuilt) candidates.push({ source: 'prebuilt', location: prebuilt });
  }

  for (const candidate of candidates) {
    if (candidate.source !== 'prebuilt' && !fs.existsSync(candidate.location)) {
      attempts.push({ ...candidate, error: 'file not found', missing: true });
      continue;
    }
    try {
      const binding = checkBinding(load(candidate.location), version);
      attempts.push({ ...candidate });
      return { binding, attempts };
    } catch (error) {
      attempts.push({ ...candidate, error: describe(error), missing: isMissing(error) });
    }
  }

  const lines = [
    `[native.load] Could not load the @bitnet/native addon for the ${key} runtime (Node.js ${process.version}).`,
    'Attempts:',
    ...attempts.map((attempt) => `  - ${attempt.source} ${attempt.location}: ${attempt.error}`),
    'Possible solutions:',
    ...possibleSolutions(attempts, key, libc).map((solution) => `  - ${solution}`),
  ];
  throw new BitNetError(ErrorCode.NATIVE_LOAD, '', lines.join('\n'), { details: { key, attempts } });
}
