/**
 * The state of an MQTT session (MQTT 5 4.1 "Session State") that outlives a network connection when the
 * session is persistent (3.1.1 `clean session: false`, 5.0 session expiry > 0):
 *  - the subscriptions, with their MQTT options (the messages that arrive while the client is away are
 *    kept by the core: each subscription of a persistent session is a core durable subscription named
 *    after its filter, so its queue holds them, and stores the persistent ones);
 *  - QoS 2 packet ids received and answered with PUBREC, awaiting PUBREL (so that a re-sent PUBLISH is
 *    not routed twice: exactly once inbound);
 *  - QoS 1/2 deliveries not completed, by packet id: for one released by PUBREC we must re-send PUBREL,
 *    for one not acknowledged the core re-delivers the message and we re-use its packet id with DUP
 *    [MQTT-4.4.0-1].
 *
 * Persistence seam. Every change is reported to an `MqttSessionStore` as a `SessionOp`, in order; the
 * in-memory default drops them (sessions then survive reconnects, not restarts). The durable one
 * (persistence/kv-session-store.ts) keeps them as key/value records of the core's store, which
 * group-commits them with the messages, and gives them back from `load()` at start-up, where
 * `SessionRegistry.restore` rebuilds the sessions. `flushed()` resolves once every op written so far
 * is durable: the session waits on it before a PUBREC, PUBREL or PUBCOMP whose state change must not
 * be lost, so that neither side ever sees a QoS 2 message twice after a crash.
 */
import { ACCEPTED } from '../../core/index.js';

export type QoS = 0 | 1 | 2;

export interface SubscriptionRecord {
  /** The filter as subscribed, `$share/<group>/` prefix included: the key of the subscription. */
  readonly filter: string;
  /** Granted QoS. */
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly subscriptionId?: number;
}

export interface OutboundRecord {
  readonly messageId: string;
  readonly qos: 1 | 2;
  /** PUBREC received, PUBREL sent, PUBCOMP awaited. */
  readonly released: boolean;
}

export type SessionOp =
  | { readonly type: 'open'; readonly clientId: string; readonly expiryInterval: number }
  | { readonly type: 'expiry'; readonly clientId: string; readonly expiryInterval: number }
  /**
   * The client went away at `since` (epoch ms), or came back (undefined): the expiry interval runs from
   * the disconnection (3.1.2.11.2), across restarts too.
   */
  | { readonly type: 'offline'; readonly clientId: string; readonly since: number | undefined }
  /** The session ended (clean start, expiry): forget everything of it. */
  | { readonly type: 'end'; readonly clientId: string }
  | { readonly type: 'subscribe'; readonly clientId: string; readonly record: SubscriptionRecord }
  | { readonly type: 'unsubscribe'; readonly clientId: string; readonly filter: string }
  | { readonly type: 'inbound'; readonly clientId: string; readonly packetId: number; readonly add: boolean }
  | {
      readonly type: 'outbound';
      readonly clientId: string;
      readonly packetId: number;
      /** null: completed, forget it. */
      readonly record: OutboundRecord | null;
    };

export interface StoredSession {
  readonly clientId: string;
  readonly expiryInterval: number;
  /** When the client disconnected (epoch ms); undefined when it was connected at the crash. */
  readonly offlineSince?: number;
  readonly subscriptions: readonly SubscriptionRecord[];
  readonly inboundQos2: readonly number[];
  readonly outbound: ReadonlyArray<readonly [number, OutboundRecord]>;
}

export interface MqttSessionStore {
  /** True when ops survive a restart (then PUBREC waits for `flushed`). */
  readonly durable: boolean;
  load(): Promise<readonly StoredSession[]>;
  write(op: SessionOp): void;
  flushed(): Promise<void>;
}

export const MEMORY_SESSION_STORE: MqttSessionStore = Object.freeze({
  durable: false,
  load: () => Promise.resolve([]),
  write: () => {},
  flushed: () => ACCEPTED,
});

/** Seconds meaning "never expires" (MQTT 5 3.1.2.11.2). */
export const NEVER_EXPIRES = 0xffff_ffff;

export class SessionState {
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly inboundQos2 = new Set<number>();
  readonly outbound = new Map<number, OutboundRecord>();
  private offline: number | undefined;

  constructor(
    readonly clientId: string,
    /** Seconds the session outlives its connection; 0 = it ends with it. */
    private expiry: number,
    private readonly store: MqttSessionStore,
  ) {
    if (expiry > 0) store.write({ type: 'open', clientId, expiryInterval: expiry });
  }

  get expiryInterval(): number {
    return this.expiry;
  }

  get persistent(): boolean {
    return this.expiry > 0;
  }

  /** When the client disconnected (epoch ms), while the session waits for it. */
  get offlineSince(): number | undefined {
    return this.offline;
  }

  markOffline(at: number): void {
    this.offline = at;
    this.write({ type: 'offline', clientId: this.clientId, since: at });
  }

  markOnline(): void {
    if (this.offline === undefined) return;
    this.offline = undefined;
    this.write({ type: 'offline', clientId: this.clientId, since: undefined });
  }

  /** Ops are recorded only while the session is persistent: a clean session has nothing to keep. */
  private write(op: SessionOp): void {
    if (this.expiry > 0) this.store.write(op);
  }

  setExpiry(seconds: number): void {
    if (seconds === this.expiry) return;
    const was = this.expiry;
    this.expiry = seconds;
    if (was === 0 && seconds > 0)
      this.store.write({ type: 'open', clientId: this.clientId, expiryInterval: seconds });
    else this.store.write({ type: 'expiry', clientId: this.clientId, expiryInterval: seconds });
  }

  subscribe(record: SubscriptionRecord): void {
    this.subscriptions.set(record.filter, record);
    this.write({ type: 'subscribe', clientId: this.clientId, record });
  }

  unsubscribe(filter: string): void {
    if (this.subscriptions.delete(filter))
      this.write({ type: 'unsubscribe', clientId: this.clientId, filter });
  }

  // The four below run per QoS 1/2 message: the op is built only when it is recorded.

  addInbound(packetId: number): void {
    this.inboundQos2.add(packetId);
    if (this.expiry > 0) this.store.write({ type: 'inbound', clientId: this.clientId, packetId, add: true });
  }

  removeInbound(packetId: number): boolean {
    if (!this.inboundQos2.delete(packetId)) return false;
    if (this.expiry > 0) this.store.write({ type: 'inbound', clientId: this.clientId, packetId, add: false });
    return true;
  }

  setOutbound(packetId: number, record: OutboundRecord): void {
    this.outbound.set(packetId, record);
    if (this.expiry > 0) this.store.write({ type: 'outbound', clientId: this.clientId, packetId, record });
  }

  removeOutbound(packetId: number): void {
    if (this.outbound.delete(packetId) && this.expiry > 0)
      this.store.write({ type: 'outbound', clientId: this.clientId, packetId, record: null });
  }

  /** Ends the session in the store (it is being discarded). */
  end(): void {
    if (this.expiry > 0) this.store.write({ type: 'end', clientId: this.clientId });
  }

  /** Rebuilds a session read back from a durable store. */
  static restore(stored: StoredSession, store: MqttSessionStore): SessionState {
    const s = new SessionState(stored.clientId, 0, store);
    s.expiry = stored.expiryInterval;
    s.offline = stored.offlineSince;
    for (const r of stored.subscriptions) s.subscriptions.set(r.filter, r);
    for (const id of stored.inboundQos2) s.inboundQos2.add(id);
    for (const [id, r] of stored.outbound) s.outbound.set(id, r);
    return s;
  }
}
