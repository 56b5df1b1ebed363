import { defineConfig } from 'tsup';
import { packageConfig } from '@bitnet/config/tsup';

// batch-worker is the worker_threads entry encodeBatch starts; it must exist as its own file.
export default defineConfig(packageConfig({ entry: ['src/index.ts', 'src/batch-worker.ts'] }));
