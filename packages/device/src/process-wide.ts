/**
 * State shared by every copy of this package in the process (its ESM and CJS builds can both be loaded): kept on
 * `globalThis` under a `Symbol.for` key, made by `create` the first time.
 */
export function processWide<T>(name: string, create: () => T): T {
  const store = globalThis as Record<symbol, unknown>;
  const key = Symbol.for(`@bitnet/device.${name}`);
  if (!(key in store)) store[key] = create();
  return store[key] as T;
}
