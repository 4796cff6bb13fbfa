/**
 * The durable MqttSessionStore: session state as key/value records of the core's store (records.ts for
 * the layout). Writes go through the core's StoreWriter, so they share batches and group commits with
 * message operations: an incoming QoS 2 message and its packet id, or an outgoing one's ack (dequeue)
 * and its "released" record, are durable together or not at all.
 *
 * The store remembers which keys each client has (and its session header) so that ending a session can
 * delete them all: one Set entry per subscription and incoming QoS 2 id, and the packet id (a number,
 * not a key) of each outgoing delivery in flight. An outgoing QoS 1/2 delivery is a put on PUBLISH and a
 * delete on PUBACK, the hot path of a persistent subscriber: its key is made once per packet id and
 * kept for ids below OUTBOUND_KEY_CACHE, and the journal writes neither when both fall in one group
 * commit (journal.ts `deferKv`).
 *
 * QoS 1 outbound records are written only once the delivery has been in flight for QOS1_RECORD_DELAY_MS
 * (or at a clean shutdown, `flushDeferred`): a client that acknowledges sooner, the usual case, costs no
 * record at all (MQTT W3, QoS 1 to a persistent session: ~15-20 % of the broker's CPU went to writing,
 * indexing and deleting these). What the record gives is only the packet id: after a crash the message
 * itself is redelivered from its durable queue either way (DUP set), and QoS 1 allows the client to see
 * it again. So after a kill -9, a QoS 1 message delivered in the last QOS1_RECORD_DELAY_MS and not yet
 * acknowledged is resent under a new packet id rather than its first one [MQTT-4.4.0-1]: still at least
 * once, as it would be with an eager record whose group commit the crash beat. QoS 2 records (and
 * PUBREC'd "released" states) are written at once: exactly-once depends on them.
 */
import type { KeyValueNamespace } from '../../../core/index.js';
import { type Logger, silentLogger } from '../../../util/logger.js';
import { systemTimers, type Timers } from '../../../util/timers.js';
import type {
  MqttSessionStore,
  OutboundRecord,
  SessionOp,
  StoredSession,
  SubscriptionRecord,
} from '../state.js';
import {
  decodeHeader,
  decodeOutbound,
  decodeSubscription,
  encodeClientId,
  encodeHeader,
  encodeOutbound,
  encodeSubscription,
  inboundKey,
  inboundValue,
  outboundKey,
  parseKey,
  type SessionHeader,
  sessionKey,
  subscriptionKey,
} from './records.js';

/** The namespace MQTT sessions use in the core's key/value records. */
export const MQTT_SESSION_NAMESPACE = 'mqtt-sessions';

/** How long a QoS 1 delivery may stay in flight before its outbound record is written. */
export const QOS1_RECORD_DELAY_MS = 100;

interface DeferredRecord {
  readonly record: OutboundRecord;
  /** When the delivery was recorded in memory (epoch ms). */
  readonly at: number;
}

interface ClientKeys {
  /** Percent-encoded client id, as in the keys. */
  readonly enc: string;
  header: SessionHeader;
  /** Keys of the header, subscriptions and incoming QoS 2 ids. */
  readonly keys: Set<string>;
  /** Packet ids with an outbound record. */
  readonly outbound: Set<number>;
  /** Outbound record keys by packet id, made on first use (ids below OUTBOUND_KEY_CACHE). */
  readonly outboundKeys: string[];
  /** QoS 1 deliveries in flight whose record is not written yet, oldest first (insertion order). */
  readonly deferred: Map<number, DeferredRecord>;
}

/**
 * Outbound keys kept per client, for the ids below this; higher ones get their key made each time (ids go
 * round all 65,535, outbound.ts, and most QoS 1 records are never written: see above).
 */
const OUTBOUND_KEY_CACHE = 4096;

function newClient(enc: string, header: SessionHeader): ClientKeys {
  return { enc, header, keys: new Set(), outbound: new Set(), outboundKeys: [], deferred: new Map() };
}

function outboundKeyOf(c: ClientKeys, packetId: number): string {
  if (packetId >= OUTBOUND_KEY_CACHE) return outboundKey(c.enc, packetId);
  let key = c.outboundKeys[packetId];
  if (key === undefined) {
    // Filled in id order from 1 (ids are allocated in sequence, outbound.ts), so the array stays dense.
    key = outboundKey(c.enc, packetId);
    c.outboundKeys[packetId] = key;
  }
  return key;
}

interface Loading {
  header?: SessionHeader;
  readonly subscriptions: SubscriptionRecord[];
  readonly inbound: number[];
  readonly outbound: Array<readonly [number, OutboundRecord]>;
  /** Keys other than outbound records (those are known by packet id). */
  readonly keys: string[];
  readonly outboundKeys: string[];
}

export class KvSessionStore implements MqttSessionStore {
  private readonly clients = new Map<string, ClientKeys>();
  /** Clients with deferred QoS 1 records. */
  private readonly deferring = new Set<ClientKeys>();
  private timer: unknown = null;

  constructor(
    private readonly kv: KeyValueNamespace,
    private readonly log: Logger = silentLogger,
    private readonly timers: Timers = systemTimers,
  ) {}

  get durable(): boolean {
    return this.kv.durable;
  }

  /** The sessions recorded before the restart. Call once, before any connection. */
  load(): Promise<readonly StoredSession[]> {
    const loading = new Map<string, Loading>();
    const dropped: string[] = [];
    for (const [key, value] of this.kv.takeRecovered()) {
      const k = parseKey(key);
      if (k === undefined) {
        dropped.push(key);
        continue;
      }
      let l = loading.get(k.clientId);
      if (l === undefined) {
        l = { subscriptions: [], inbound: [], outbound: [], keys: [], outboundKeys: [] };
        loading.set(k.clientId, l);
      }
      let ok = true;
      switch (k.kind) {
        case 'session': {
          const h = decodeHeader(value);
          if (h === undefined) ok = false;
          else l.header = h;
          break;
        }
        case 'subscription': {
          const r = decodeSubscription(value, k.filter);
          if (r === undefined) ok = false;
          else l.subscriptions.push(r);
          break;
        }
        case 'inbound':
          l.inbound.push(k.packetId);
          break;
        case 'outbound': {
          const r = decodeOutbound(value);
          if (r === undefined) ok = false;
          else l.outbound.push([k.packetId, r]);
          break;
        }
      }
      if (!ok) dropped.push(key);
      else if (k.kind === 'outbound') l.outboundKeys.push(key);
      else l.keys.push(key);
    }
    const sessions: StoredSession[] = [];
    for (const [clientId, l] of loading) {
      if (l.header === undefined || l.header.expiryInterval === 0) {
        // Records of a session whose header is gone (or says it ended) belong to nobody.
        dropped.push(...l.keys, ...l.outboundKeys);
        continue;
      }
      const c = newClient(encodeClientId(clientId), l.header);
      for (const key of l.keys) c.keys.add(key);
      for (const [id] of l.outbound) c.outbound.add(id);
      this.clients.set(clientId, c);
      sessions.push({
        clientId,
        expiryInterval: l.header.expiryInterval,
        ...(l.header.offlineSince === undefined ? {} : { offlineSince: l.header.offlineSince }),
        subscriptions: l.subscriptions,
        inboundQos2: l.inbound,
        outbound: l.outbound,
      });
    }
    if (dropped.length > 0) {
      this.log.warn({ records: dropped.length }, 'MQTT session records unreadable or orphaned: removed');
      for (const key of dropped) this.kv.delete(key);
    }
    return Promise.resolve(sessions);
  }

  write(op: SessionOp): void {
    switch (op.type) {
      case 'open':
      case 'expiry':
        if (op.expiryInterval === 0) this.end(op.clientId);
        else
          this.putHeader(op.clientId, {
            ...this.client(op.clientId).header,
            expiryInterval: op.expiryInterval,
          });
        return;
      case 'offline': {
        const { expiryInterval } = this.client(op.clientId).header;
        this.putHeader(
          op.clientId,
          op.since === undefined ? { expiryInterval } : { expiryInterval, offlineSince: op.since },
        );
        return;
      }
      case 'end':
        this.end(op.clientId);
        return;
      case 'subscribe': {
        const c = this.client(op.clientId);
        this.put(c, subscriptionKey(c.enc, op.record.filter), encodeSubscription(op.record));
        return;
      }
      case 'unsubscribe': {
        const c = this.client(op.clientId);
        this.remove(c, subscriptionKey(c.enc, op.filter));
        return;
      }
      case 'inbound': {
        const c = this.client(op.clientId);
        const key = inboundKey(c.enc, op.packetId);
        if (op.add) this.put(c, key, inboundValue());
        else this.remove(c, key);
        return;
      }
      case 'outbound': {
        const c = this.client(op.clientId);
        const id = op.packetId;
        const record = op.record;
        if (record !== null) {
          c.outbound.add(id);
          if (record.qos === 1 && !record.released) {
            this.defer(c, id, record);
            return;
          }
          c.deferred.delete(id);
          this.kv.put(outboundKeyOf(c, id), encodeOutbound(record));
        } else if (c.outbound.delete(id)) {
          // Acknowledged before its record was written: there is nothing to delete.
          if (c.deferred.delete(id)) return;
          this.kv.delete(outboundKeyOf(c, id));
        }
        return;
      }
    }
  }

  flushed(): Promise<void> {
    return this.kv.flushed();
  }

  /** Writes every deferred QoS 1 record now (a clean shutdown keeps their packet ids). */
  flushDeferred(): void {
    this.writeDeferred(Number.POSITIVE_INFINITY);
  }

  private defer(c: ClientKeys, id: number, record: OutboundRecord): void {
    // A re-sent delivery keeps its place (and age): its first send started the wait.
    const old = c.deferred.get(id);
    c.deferred.set(id, { record, at: old?.at ?? this.timers.now() });
    this.deferring.add(c);
    if (this.timer === null) this.armDeferred(QOS1_RECORD_DELAY_MS);
  }

  /** In `wait` ms, writes the records that have waited QOS1_RECORD_DELAY_MS by then. */
  private armDeferred(wait: number): void {
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      this.writeDeferred(this.timers.now() - QOS1_RECORD_DELAY_MS);
    }, wait);
  }

  /** Writes the deferred records of deliveries recorded at or before `upTo`; re-arms for the rest. */
  private writeDeferred(upTo: number): void {
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.deferring) {
      for (const [id, d] of c.deferred) {
        if (d.at > upTo) {
          next = Math.min(next, d.at);
          break;
        }
        c.deferred.delete(id);
        this.kv.put(outboundKeyOf(c, id), encodeOutbound(d.record));
      }
      if (c.deferred.size === 0) this.deferring.delete(c);
    }
    if (this.timer !== null) {
      this.timers.clearTimeout(this.timer);
      this.timer = null;
    }
    if (next !== Number.POSITIVE_INFINITY) {
      this.armDeferred(Math.max(1, next + QOS1_RECORD_DELAY_MS - this.timers.now()));
    }
  }

  /** Clients with records (tests, diagnostics). */
  get clientCount(): number {
    return this.clients.size;
  }

  private client(clientId: string): ClientKeys {
    let c = this.clients.get(clientId);
    if (c === undefined) {
      c = newClient(encodeClientId(clientId), { expiryInterval: 0 });
      this.clients.set(clientId, c);
    }
    return c;
  }

  private putHeader(clientId: string, header: SessionHeader): void {
    const c = this.client(clientId);
    c.header = header;
    this.put(c, sessionKey(c.enc), encodeHeader(header));
  }

  private put(c: ClientKeys, key: string, value: Uint8Array): void {
    c.keys.add(key);
    this.kv.put(key, value);
  }

  private remove(c: ClientKeys, key: string): void {
    if (c.keys.delete(key)) this.kv.delete(key);
  }

  private end(clientId: string): void {
    const c = this.clients.get(clientId);
    if (c === undefined) return;
    this.clients.delete(clientId);
    this.deferring.delete(c);
    for (const key of c.keys) this.kv.delete(key);
    for (const id of c.outbound) if (!c.deferred.has(id)) this.kv.delete(outboundKeyOf(c, id));
    c.deferred.clear();
  }
}
