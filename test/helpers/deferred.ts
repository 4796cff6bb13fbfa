/** A promise settled from outside, for tests that decide when an operation completes. */
export interface Deferred {
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * `handled`: a rejection nobody waits on is not reported as unhandled (tests that make more deferreds
 * than operations, or reject ones that are only sometimes awaited).
 */
export function deferred(options: { handled?: boolean } = {}): Deferred {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  if (options.handled) promise.catch(() => {});
  return { promise, resolve, reject };
}
