/**
 * Durable key/value records for protocol state that is not a message: MQTT session state (subscription
 * options, QoS 2 packet ids in flight, session expiry) today. A protocol gets a `KeyValueNamespace` from
 * the core (`BlazeCore.kv(name)`) and never sees the store: the records travel through the core's
 * StoreWriter as `kv-put` / `kv-delete` operations, in the same batches as the message operations of the
 * same event-loop turn. That gives the one guarantee exactly-once delivery needs: a routed message and
 * the packet id that says "already routed" are durable together or not at all.
 *
 * Without a store, or with a store that keeps nothing, the namespace is not `durable`: puts and deletes
 * are dropped and `flushed()` resolves at once.
 */
import type { KvEntry } from './store.js';
import { ACCEPTED, type StoreWriter } from './store-writer.js';

export interface KeyValueNamespace {
  readonly name: string;
  /** True when records survive a restart (the core has a store). */
  readonly durable: boolean;
  /**
   * The records read back at start-up, handed over once (later calls return an empty map): the
   * protocol keeps its own state from then on, so the core does not hold a second copy.
   */
  takeRecovered(): Map<string, Uint8Array>;
  put(key: string, value: Uint8Array): void;
  delete(key: string): void;
  /** Resolves once every put and delete issued so far is durable; rejects when the store failed. */
  flushed(): Promise<void>;
}

class StoreNamespace implements KeyValueNamespace {
  constructor(
    readonly name: string,
    private readonly writer: StoreWriter | undefined,
    private recovered: Map<string, Uint8Array>,
  ) {}

  get durable(): boolean {
    return this.writer !== undefined;
  }

  takeRecovered(): Map<string, Uint8Array> {
    const r = this.recovered;
    this.recovered = new Map();
    return r;
  }

  put(key: string, value: Uint8Array): void {
    this.writer?.add({ type: 'kv-put', namespace: this.name, key, value });
  }

  delete(key: string): void {
    this.writer?.add({ type: 'kv-delete', namespace: this.name, key });
  }

  flushed(): Promise<void> {
    return this.writer === undefined ? ACCEPTED : this.writer.flushed();
  }
}

/** The namespaces of one core: recovered records are grouped by namespace until a protocol asks. */
export class KeyValueRegistry {
  private readonly recovered = new Map<string, Map<string, Uint8Array>>();
  private readonly namespaces = new Map<string, StoreNamespace>();

  constructor(private readonly writer: StoreWriter | undefined) {}

  /** Start-up, before any namespace is handed out (createBrokerCore recovers before it resolves). */
  recover(entries: readonly KvEntry[]): void {
    for (const e of entries) {
      let m = this.recovered.get(e.namespace);
      if (m === undefined) {
        m = new Map();
        this.recovered.set(e.namespace, m);
      }
      m.set(e.key, e.value);
    }
  }

  namespace(name: string): KeyValueNamespace {
    let ns = this.namespaces.get(name);
    if (ns === undefined) {
      ns = new StoreNamespace(name, this.writer, this.recovered.get(name) ?? new Map());
      this.recovered.delete(name);
      this.namespaces.set(name, ns);
    }
    return ns;
  }
}
