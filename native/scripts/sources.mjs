// Lists the C++ sources of one build group for binding.gyp (`<!@(node scripts/sources.mjs GROUP)`),
// so adding a kernel file never means editing the gyp file. Each ISA group is
// compiled as its own static library with only its own -m flags.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const groups = {
  avx2: ['src/cpu/x86/avx2'],
  avx512: ['src/cpu/x86/avx512'],
  avx512vnni: ['src/cpu/x86/avx512vnni'],
  neon: ['src/cpu/arm'],
};

function walk(dir) {
  const absolute = path.join(root, dir);
  if (!fs.existsSync(absolute)) return [];
  return fs
    .readdirSync(absolute, { withFileTypes: true })
    .flatMap((entry) => {
      const relative = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) return walk(relative);
      return entry.name.endsWith('.cc') ? [relative] : [];
    })
    .sort();
}

const group = process.argv[2];
let files;
if (group === 'base') {
  const isaFiles = new Set(Object.values(groups).flat().flatMap(walk));
  files = walk('src').filter((file) => !isaFiles.has(file));
} else if (groups[group]) {
  files = groups[group].flatMap(walk);
} else {
  console.error(`[sources] unknown group "${group}"; expected base, ${Object.keys(groups).join(', ')}`);
  process.exit(1);
}
process.stdout.write(files.join(' '));
