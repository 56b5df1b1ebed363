// Writes the boilerplate of a TS workspace package: package.json (ESM + CJS
// exports map, types first), tsconfig, tsup and vitest configs.
//   node tools/scripts/new-package.mjs <dir> <@bitnet/name> "<description>" [--native]
import fs from 'node:fs';
import path from 'node:path';

const [dir, name, description, ...flags] = process.argv.slice(2);
if (!dir || !name) {
  console.error('usage: new-package.mjs <dir> <name> "<description>" [--native]');
  process.exit(1);
}
const native = flags.includes('--native');
const depth = path.relative(path.resolve(dir), process.cwd()).split(path.sep).join('/');
fs.mkdirSync(path.join(dir, 'src'), { recursive: true });
const write = (file, content) => {
  const target = path.join(dir, file);
  if (!fs.existsSync(target)) fs.writeFileSync(target, content);
};
write(
  'package.json',
  JSON.stringify(
    {
      name,
      version: '0.1.0',
      description,
      license: 'MIT',
      type: 'module',
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.ts',
      exports: {
        '.': {
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      files: ['dist'],
      sideEffects: false,
      scripts: {
        build: 'tsup',
        test: 'vitest run',
        typecheck: 'tsc --noEmit',
        lint: 'publint --strict',
      },
      dependencies: {},
      devDependencies: { '@bitnet/config': 'workspace:*' },
      engines: { node: '>=20' },
      publishConfig: { access: 'public' },
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsconfig.json',
  JSON.stringify(
    { extends: '@bitnet/config/tsconfig.base.json', include: ['src', 'bench', 'examples', '*.config.ts'] },
    null,
    2,
  ) + '\n',
);
write('tsup.config.ts', `import { defineConfig } from 'tsup';\nimport { packageConfig } from '@bitnet/config/tsup';\n\nexport default defineConfig(packageConfig());\n`);
write(
  'vitest.config.ts',
  `import { defineConfig } from 'vitest/config';\nimport { packageTestConfig } from '@bitnet/config/vitest';\n\nexport default defineConfig(packageTestConfig(${native ? '{ native: true }' : ''}));\n`,
);
console.log(`wrote ${dir} (${depth})`);
