import type { ViteUserConfig } from 'vitest/config';
export function packageTestConfig(options?: {
  native?: boolean;
  testTimeout?: number;
  setupFiles?: string[];
  execArgv?: string[];
}): ViteUserConfig;
