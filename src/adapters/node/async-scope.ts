/**
 * Request-scoped values through the async context: Node's AsyncLocalStorage (node:async_hooks).
 * The Worker adapter uses it too (workerd provides node:async_hooks under nodejs_compat, and has
 * no global for it), so Node built-ins stay in this folder for both runtimes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AsyncScope<T> {
  /** runs `fn` with `value` as the scope's value, in `fn` and in everything it starts */
  run<R>(value: T, fn: () => R): R;
  /** the value of the running scope, if any */
  get(): T | undefined;
}

export function asyncScope<T>(): AsyncScope<T> {
  const storage = new AsyncLocalStorage<T>();
  return { run: (value, fn) => storage.run(value, fn), get: () => storage.getStore() };
}
