import fs from 'node:fs';

/** libc flavour on Linux: glibc reports its version in process.report; musl does not. */
export function detectLibc(): 'glibc' | 'musl' | null {
  if (process.platform !== 'linux') return null;
  const report = process.report?.getReport?.() as { header?: { glibcVersionRuntime?: string } } | undefined;
  if (report?.header?.glibcVersionRuntime) return 'glibc';
  try {
    if (fs.readFileSync('/usr/bin/ldd', 'utf8').includes('musl')) return 'musl';
  } catch {
    // no ldd: fall through
  }
  return 'musl';
}

/**
 * One string naming the platform build (sharp's convention): `linux-x64`,
 * `linuxmusl-x64`, `darwin-arm64`, `win32-x64`. It names the local build file
 * and the prebuilt package `@bitnet/native-<key>`.
 */
export function runtimeKey(platform: string = process.platform, arch: string = process.arch, libc = detectLibc()): string {
  return `${platform}${libc === 'musl' ? 'musl' : ''}-${arch}`;
}
