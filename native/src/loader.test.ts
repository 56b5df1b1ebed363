import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeBinding, packageRoot, runtimeKey } from './index.js';

const version = JSON.parse(fs.readFileSync(path.join(packageRoot, 'package.json'), 'utf8')).version as string;
const tempRoots: string[] = [];
function emptyRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bitnet-loader-'));
  tempRoots.push(root);
  return root;
}
afterAll(() => {
  for (const root of tempRoots) fs.rmSync(root, { recursive: true, force: true });
});

describe('runtimeKey', () => {
  it('follows sharp: platform, musl marker, arch', () => {
    expect(runtimeKey('linux', 'x64', 'glibc')).toBe('linux-x64');
    expect(runtimeKey('linux', 'x64', 'musl')).toBe('linuxmusl-x64');
    expect(runtimeKey('darwin', 'arm64', null)).toBe('darwin-arm64');
    expect(runtimeKey()).toMatch(/^[a-z0-9]+-[a-z0-9]+$/);
  });
});

describe('loadNativeBinding', () => {
  it('loads the local build and reports where from', () => {
    const { binding, attempts } = loadNativeBinding();
    expect(binding.version).toBe(version);
    expect(attempts.at(-1)?.source).toBe('local-build');
    expect(attempts.at(-1)?.error).toBeUndefined();
  });

  it('aggregates every failed attempt into one ERR_BITNET_NATIVE_LOAD error with solutions', () => {
    const root = emptyRoot();
    let caught: unknown;
    try {
      loadNativeBinding({ root, env: {}, key: 'linux-x64', version, load: () => {
        throw Object.assign(new Error("Cannot find module '@bitnet/native-linux-x64/bitnet.node'"), { code: 'MODULE_NOT_FOUND' });
      } });
    } catch (error) {
      caught = error;
    }
    const error = caught as Error & { code: string; details: { attempts: Array<{ source: string; missing: boolean }> } };
    expect(error.code).toBe('ERR_BITNET_NATIVE_LOAD');
    expect(error.message).toContain('Could not load the @bitnet/native addon for the linux-x64 runtime');
    expect(error.message).toContain(path.join(root, 'build', 'Release', 'bitnet-linux-x64.node'));
    expect(error.message).toContain('@bitnet/native-linux-x64/bitnet.node');
    expect(error.message).toContain('Possible solutions:');
    expect(error.message).toContain('build:native');
    expect(error.message).toContain('npm install --include=optional @bitnet/native');
    expect(error.details.attempts.map((attempt) => attempt.source)).toEqual(['local-build', 'prebuilt']);
    expect(error.details.attempts.every((attempt) => attempt.missing)).toBe(true);
  });

  it('names the cause of a binary that exists but fails to load', () => {
    const root = emptyRoot();
    const file = path.join(root, 'build', 'Release', 'bitnet-linux-x64.node');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, 'not an ELF file');
    // The real require: the file exists but is not a shared object.
    expect(() => loadNativeBinding({ root, env: {}, key: 'linux-x64', version })).toThrow(/local-build .*bitnet-linux-x64\.node: .*(invalid ELF|too short|file)/);
  });

  it('rejects a binary of another version', () => {
    const { binding } = loadNativeBinding();
    expect(() =>
      loadNativeBinding({ env: { BITNET_NATIVE_PATH: path.join(packageRoot, 'build', 'Release', `bitnet-${runtimeKey()}.node`) }, version: '9.9.9' }),
    ).toThrow(`version mismatch: the binary is ${binding.version}, the JS package is 9.9.9`);
  });

  it('the binary checks the JS version too', () => {
    const { binding } = loadNativeBinding();
    expect(binding.checkJsVersion(version)).toBe(true);
    expect(() => binding.checkJsVersion('0.0.1')).toThrow(
      expect.objectContaining({ code: 'ERR_BITNET_NATIVE_LOAD', message: `[checkJsVersion] this binary is ${version} but the JS package is 0.0.1` }),
    );
  });

  it('uses BITNET_NATIVE_PATH exclusively and explains a bad one', () => {
    const missing = path.join(emptyRoot(), 'nowhere.node');
    let caught: Error | undefined;
    try {
      loadNativeBinding({ env: { BITNET_NATIVE_PATH: missing }, version });
    } catch (error) {
      caught = error as Error;
    }
    expect(caught?.message).toContain(`override ${missing}: file not found`);
    expect(caught?.message).toContain('Check BITNET_NATIVE_PATH');
    expect(caught?.message).not.toContain('local-build');
    const good = path.join(packageRoot, 'build', 'Release', `bitnet-${runtimeKey()}.node`);
    expect(loadNativeBinding({ env: { BITNET_NATIVE_PATH: good }, version }).attempts[0]).toMatchObject({ source: 'override', location: good });
  });

  it('rejects a module that is not a bitnet addon', () => {
    const root = emptyRoot();
    const file = path.join(root, 'build', 'Release', 'bitnet-linux-x64.node');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    expect(() => loadNativeBinding({ root, env: {}, key: 'linux-x64', version, load: () => ({ hello: 1 }) })).toThrow(
      'is not a bitnet addon',
    );
  });

  it('suggests the right fix for --no-addons', () => {
    const root = emptyRoot();
    const file = path.join(root, 'build', 'Release', 'bitnet-linux-x64.node');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '');
    const load = () => {
      throw Object.assign(new Error('Cannot load native addon because loading addons is disabled.'), { code: 'ERR_DLOPEN_DISABLED' });
    };
    expect(() => loadNativeBinding({ root, env: {}, key: 'linux-x64', version, load })).toThrow('run it without that flag');
  });
});
