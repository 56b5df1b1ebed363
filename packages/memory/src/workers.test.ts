import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { getDefaultPool, HybridMemoryPool } from './index.js';

const workerFile = fileURLToPath(new URL('../test-fixtures/stress-worker.mjs', import.meta.url));

interface WorkerResult {
  checked: number;
  metrics: { currentAllocated: number; allocationCount: number; deallocationCount: number };
  stillAttached: boolean;
  transferError: string | null;
  probeBufferLength?: number;
}

function runWorker(seed: number, steps: number, shared: SharedArrayBuffer): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile, { workerData: { seed, steps, shared } });
    const result: Partial<WorkerResult> = {};
    worker.on('message', (message) => {
      if (message.probe) result.probeBufferLength = message.buffer.byteLength;
      else Object.assign(result, message);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 ? resolve(result as WorkerResult) : reject(new Error(`worker ${seed} exited with ${code}`))));
  });
}

describe('worker_threads', () => {
  it('each thread has its own pool; 4 workers stress them concurrently without corruption', async () => {
    const shared = new SharedArrayBuffer(4);
    const main = getDefaultPool();
    const mainHandle = main.allocate(1000);
    mainHandle.asUint8Array().fill(42);
    const steps = 4000;
    const results = await Promise.all([1, 2, 3, 4].map((seed) => runWorker(seed, steps, shared)));
    expect(new Int32Array(shared)[0]).toBe(4 * steps);
    for (const result of results) {
      expect(result.checked).toBeGreaterThan(100);
      expect(result.metrics.currentAllocated).toBe(0);
      expect(result.metrics.allocationCount).toBe(result.metrics.deallocationCount);
      // The block's ArrayBuffer stays with its thread: a transfer list cannot move it.
      expect(result.stillAttached).toBe(true);
      if (result.transferError === null) expect(result.probeBufferLength).toBe(64);
    }
    // The main thread's pool saw none of the workers' traffic.
    expect(main.getMetrics().allocationCount).toBe(1);
    expect(mainHandle.asUint8Array().every((value) => value === 42)).toBe(true);
    main.deallocate(mainHandle);
  });

  it('a handle posted to another thread arrives as a plain object that no pool accepts', async () => {
    const pool = new HybridMemoryPool();
    const handle = pool.allocate(64);
    const { port1, port2 } = new MessageChannel();
    const received = new Promise<unknown>((resolve) => port2.once('message', resolve));
    port1.postMessage({ handle: { id: handle.id, size: handle.size } });
    const message = (await received) as { handle: unknown };
    expect(() => pool.deallocate(message.handle as never)).toThrow(expect.objectContaining({ code: 'ERR_BITNET_INVALID_ARGUMENT' }));
    // The handle itself cannot be cloned at all (it references its pool's functions).
    expect(() => structuredClone(handle)).toThrow(expect.objectContaining({ name: 'DataCloneError' }));
    // Its buffer is untransferable: structuredClone copies it instead of detaching ours.
    const buffer = handle.buffer;
    new Uint8Array(buffer).fill(9);
    let copy: ArrayBuffer | null = null;
    try {
      copy = structuredClone(buffer, { transfer: [buffer] });
    } catch (error) {
      expect((error as Error).name).toBe('DataCloneError');
    }
    expect(buffer.byteLength).toBe(64);
    if (copy) expect(new Uint8Array(copy)[0]).toBe(9);
    port1.close();
    port2.close();
    pool.deallocate(handle);
    pool.dispose();
  });
});
