import type { Options } from 'tsup';
export function packageConfig(overrides?: Options): Options;
