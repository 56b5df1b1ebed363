// One tsup setup for every package: ESM + CJS + .d.ts, Node 20 target, shims so
// `import.meta.url` works in CJS output and `__dirname` in ESM output.
export function packageConfig(overrides = {}) {
  return {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    shims: true,
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
