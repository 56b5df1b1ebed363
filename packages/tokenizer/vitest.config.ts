import { defineConfig } from 'vitest/config';
import { packageTestConfig } from '@bitnet/config/vitest';

export default defineConfig(packageTestConfig());
