import { defineConfig } from 'tsup';
import { packageConfig } from '@bitnet/config/tsup';

export default defineConfig(packageConfig());
