import { BitNetError, ErrorCode } from '@bitnet/errors';
import type { TensorMemoryPool } from './storage.js';

let defaultPool: TensorMemoryPool | undefined;
let defaultFactory: (() => TensorMemoryPool) | undefined;

/** Sets the pool that tensors created without an explicit `pool` use. */
export function setDefaultTensorPool(pool: TensorMemoryPool | undefined): void {
  defaultPool = pool;
}

/** Registers how the process-wide default pool is obtained (done once by the package entry). */
export function setDefaultTensorPoolFactory(factory: () => TensorMemoryPool): void {
  defaultFactory = factory;
}

export function getDefaultTensorPool(): TensorMemoryPool {
  if (defaultPool) return defaultPool;
  if (defaultFactory) {
    defaultPool = defaultFactory();
    return defaultPool;
  }
  throw new BitNetError(ErrorCode.UNAVAILABLE, 'tensor', 'no memory pool: pass { pool } or call setDefaultTensorPool(pool)');
}
