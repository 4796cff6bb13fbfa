/**
 * The durable MqttSessionStore: session state as key/value records of the core's store (records.ts for
 * the layout). Writes go through the core's StoreWriter, so they share batches and group commits with
 * message operations: an incoming QoS 2 message and its packet id, or an outgoing one's ack (dequeue)
 * and its "released" record, are durable together or not at all.
 *
 * The store remembers which keys each client has (and its session header) so that ending a session can
 * delete them all; that is one Set entry per subscription and per message in flight.
 */
import type { KeyValueNamespace } from '../../../core/index.js';
import { type Logger, silentLogger } from '../../../util/logger.js';
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

interface ClientKeys {
  /** Percent-encoded client id, as in the keys. */
  readonly enc: string;
  header: SessionHeader;
  readonly keys: Set<string>;
}

interface Loading {
  header?: SessionHeader;
  readonly subscriptions: SubscriptionRecord[];
  readonly inbound: number[];
  readonly outbound: Array<readonly [number, OutboundRecord]>;
  readonly keys: string[];
}

export class KvSessionStore implements MqttSessionStore {
  private readonly clients = new Map<string, ClientKeys>();

  constructor(
    private readonly kv: KeyValueNamespace,
    private readonly log: Logger = silentLogger,
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
        l = { subscriptions: [], inbound: [], outbound: [], keys: [] };
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
      if (ok) l.keys.push(key);
      else dropped.push(key);
    }
    const sessions: StoredSession[] = [];
    for (const [clientId, l] of loading) {
      if (l.header === undefined || l.header.expiryInterval === 0) {
        // Records of a session whose header is gone (or says it ended) belong to nobody.
        dropped.push(...l.keys);
        continue;
      }
      this.clients.set(clientId, {
        enc: encodeClientId(clientId),
        header: l.header,
        keys: new Set(l.keys),
      });
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
        const key = outboundKey(c.enc, op.packetId);
        if (op.record === null) this.remove(c, key);
        else this.put(c, key, encodeOutbound(op.record));
        return;
      }
    }
  }

  flushed(): Promise<void> {
    return this.kv.flushed();
  }

  /** Clients with records (tests, diagnostics). */
  get clientCount(): number {
    return this.clients.size;
  }

  private client(clientId: string): ClientKeys {
    let c = this.clients.get(clientId);
    if (c === undefined) {
      c = { enc: encodeClientId(clientId), header: { expiryInterval: 0 }, keys: new Set() };
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
    for (const key of c.keys) this.kv.delete(key);
  }
}
