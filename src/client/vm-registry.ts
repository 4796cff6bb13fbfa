/**
 * vm:// connections: a client and a broker in one process, talking through function calls instead of a
 * socket. What an embedded broker must provide (docs/CLIENT.md#vm):
 *
 *   registerVmBroker(name, { connectInProcess() { return { write, onData, close, onClose } } })
 *
 * `connectInProcess()` opens one native-protocol connection: the client `write`s the same length-prefixed
 * frames it would send on TCP (one or more per call) and receives the broker's bytes through the callback
 * given to `onData` (any chunking). `close()` is called by the client when it is done; the broker calls the
 * callback given to `onClose` (if it implements it) when it ends the connection itself.
 * `vm://name` finds the broker registered under `name`; `connect(url, { broker })` skips the registry.
 */

export interface VmConnection {
  write(bytes: Uint8Array): void;
  onData(cb: (bytes: Uint8Array) => void): void;
  close(): void;
  onClose?(cb: (error?: Error) => void): void;
}

export interface VmBroker {
  connectInProcess(): VmConnection;
}

// On globalThis so that two bundled copies of the client (and the broker's copy) share one registry.
const KEY = Symbol.for('blazemq.vm-registry');
const registry: Map<string, VmBroker> =
  ((globalThis as Record<symbol, unknown>)[KEY] as Map<string, VmBroker>) ?? new Map();
(globalThis as Record<symbol, unknown>)[KEY] = registry;

/** Makes `vm://name` reach `broker`. Returns the function that unregisters it (call it on broker stop). */
export function registerVmBroker(name: string, broker: VmBroker): () => void {
  registry.set(name, broker);
  return () => {
    if (registry.get(name) === broker) registry.delete(name);
  };
}

export function lookupVmBroker(name: string): VmBroker | undefined {
  return registry.get(name);
}
