/**
 * A minimal typed event emitter (no Node `events`, no DOM Event subclasses: the client is isomorphic).
 * A throwing listener is isolated so that it cannot break the client's state machine.
 */
type Listener = (...args: never[]) => void;

export class Emitter<E extends Record<string, unknown[]>> {
  private readonly listeners = new Map<keyof E, Set<Listener>>();

  /** Returns the function that removes the listener. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as unknown as Listener);
    return () => set!.delete(listener as unknown as Listener);
  }

  emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const l of this.listeners.get(event) ?? []) {
      try {
        (l as unknown as (...a: E[K]) => void)(...args);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
