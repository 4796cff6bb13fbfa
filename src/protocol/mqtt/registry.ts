/**
 * Sessions by client id, across connections: which connection is live for a client id (session
 * takeover, [MQTT-3.1.4-3]), which persistent sessions are offline and when they expire, and which Will
 * Messages are waiting for their delay (MQTT 5 3.1.3.2.2).
 *
 * Ending a persistent session removes its core durable subscriptions (their queues held the messages
 * published while it was away). That needs a core connection with the session's client id, so the
 * registry opens a short-lived one.
 */
import type { BrokerCore, Principal } from '../../core/api.js';
import type { MessageInit } from '../../core/message.js';
import type { RetainedStore } from '../../core/retained.js';
import type { Logger } from '../../util/logger.js';
import type { MqttTimers } from './context.js';
import { retainedMessage } from './message-in.js';
import { type MqttSessionStore, NEVER_EXPIRES, SessionState, type StoredSession } from './state.js';
import { topicToName } from './topics.js';

/** A connected session, as the registry needs it. */
export interface LiveSession {
  /** Another connection claims the client id: DISCONNECT 0x8E (MQTT 5) and close. */
  takeOver(): void;
}

export interface WillMessage {
  readonly topic: string;
  readonly init: MessageInit;
  readonly retain: boolean;
  /** Message Expiry Interval, counted from publication. */
  readonly expirySeconds?: number;
  readonly principal: Principal;
}

interface Offline {
  readonly state: SessionState;
  timer: unknown;
}

export interface RegistryOptions {
  core: BrokerCore;
  store: MqttSessionStore;
  retained: RetainedStore | undefined;
  timers: MqttTimers;
  logger: Logger;
}

export class SessionRegistry {
  private readonly live = new Map<string, LiveSession>();
  private readonly offline = new Map<string, Offline>();
  private readonly wills = new Map<string, { will: WillMessage; timer: unknown }>();
  private willSeq = 0;

  constructor(private readonly o: RegistryOptions) {}

  get store(): MqttSessionStore {
    return this.o.store;
  }

  get liveCount(): number {
    return this.live.size;
  }

  get offlineCount(): number {
    return this.offline.size;
  }

  /**
   * `session` becomes the live connection of `clientId`: the previous one is taken over, a delayed Will
   * of the id is cancelled (a new connection arrived in time, 3.1.3.2.2), and the offline state, if any,
   * is handed back (the caller resumes or discards it).
   */
  claim(clientId: string, session: LiveSession): SessionState | undefined {
    const previous = this.live.get(clientId);
    if (previous !== undefined && previous !== session) {
      this.live.delete(clientId);
      previous.takeOver();
    }
    this.live.set(clientId, session);
    const will = this.wills.get(clientId);
    if (will !== undefined) {
      this.o.timers.clearTimeout(will.timer);
      this.wills.delete(clientId);
    }
    const off = this.offline.get(clientId);
    if (off === undefined) return undefined;
    this.offline.delete(clientId);
    if (off.timer !== null) this.o.timers.clearTimeout(off.timer);
    off.state.markOnline();
    return off.state;
  }

  /** The connection of `session` is gone; a persistent state waits for the client until it expires. */
  release(clientId: string, session: LiveSession, state: SessionState | undefined): void {
    if (this.live.get(clientId) === session) this.live.delete(clientId);
    if (state === undefined) return;
    if (!state.persistent) return;
    state.markOffline(this.o.timers.now());
    const off: Offline = { state, timer: null };
    this.offline.set(clientId, off);
    this.armExpiry(off);
  }

  private armExpiry(off: Offline): void {
    const seconds = off.state.expiryInterval;
    if (seconds >= NEVER_EXPIRES) return;
    // The interval runs from the disconnection (3.1.2.11.2), which may predate a restart.
    const now = this.o.timers.now();
    const delay = Math.max(0, (off.state.offlineSince ?? now) + seconds * 1000 - now);
    off.timer = this.o.timers.setTimeout(() => {
      if (this.offline.get(off.state.clientId) === off) this.expire(off.state);
    }, delay);
  }

  /** Ends an offline session: its durable subscriptions and what they hold go, and a delayed Will is sent. */
  private expire(state: SessionState): void {
    this.offline.delete(state.clientId);
    this.o.logger.debug({ clientId: state.clientId }, 'MQTT session expired');
    const will = this.wills.get(state.clientId);
    if (will !== undefined) {
      this.o.timers.clearTimeout(will.timer);
      this.wills.delete(state.clientId);
      this.publishWill(will.will);
    }
    this.discard(state, undefined);
  }

  /**
   * Forgets `state` and removes its core durable subscriptions, through `conn` (the new connection of a
   * clean start) or a short-lived connection with the client id.
   */
  discard(
    state: SessionState,
    conn: { unsubscribeDurable(name: string): void; close?(): void } | undefined,
  ): void {
    state.end();
    const durable = [...state.subscriptions.values()].filter((r) => !r.filter.startsWith('$share/'));
    if (durable.length === 0) return;
    let c = conn;
    try {
      c ??= this.o.core.connect({
        principal: { user: 'mqtt-session-expiry', anonymous: false },
        clientId: state.clientId,
        protocol: 'mqtt',
      });
    } catch (err) {
      // The id is in use by a connection of another protocol: its durable subscriptions stay.
      this.o.logger.warn({ err, clientId: state.clientId }, 'cannot remove expired MQTT subscriptions');
      return;
    }
    for (const r of durable) {
      try {
        c.unsubscribeDurable(r.filter);
      } catch {
        // Already gone (or never created, when the subscribe was refused): nothing to remove.
      }
    }
    if (conn === undefined) c.close?.();
  }

  /** Publishes `will` now, or after `delaySeconds` unless the client id reconnects first. */
  scheduleWill(clientId: string, will: WillMessage, delaySeconds: number): void {
    if (delaySeconds <= 0) {
      this.publishWill(will);
      return;
    }
    const previous = this.wills.get(clientId);
    if (previous !== undefined) this.o.timers.clearTimeout(previous.timer);
    const timer = this.o.timers.setTimeout(() => {
      if (this.wills.get(clientId)?.will !== will) return;
      this.wills.delete(clientId);
      this.publishWill(will);
    }, delaySeconds * 1000);
    this.wills.set(clientId, { will, timer });
  }

  /** Sends a Will through a short-lived core connection as its user (authorization applies). */
  publishWill(will: WillMessage): void {
    let conn: ReturnType<BrokerCore['connect']>;
    try {
      conn = this.o.core.connect({ principal: will.principal, protocol: 'mqtt' });
    } catch (err) {
      this.o.logger.warn({ err, topic: will.topic }, 'Will not sent');
      return;
    }
    const now = this.o.timers.now();
    const init =
      will.expirySeconds === undefined
        ? will.init
        : { ...will.init, expiration: now + will.expirySeconds * 1000 };
    conn.send(init).then(
      () => {
        if (will.retain && this.o.retained !== undefined) {
          this.o.retained.set(
            topicToName(will.topic),
            retainedMessage(init, `will-${conn.id}-${++this.willSeq}`, conn.id, now),
          );
        }
      },
      (err: unknown) => this.o.logger.warn({ err, topic: will.topic }, 'Will refused'),
    );
    conn.close();
  }

  /** Rebuilds the offline sessions read back from a durable session store (start-up). */
  restore(sessions: readonly StoredSession[]): void {
    for (const stored of sessions) {
      const state = SessionState.restore(stored, this.o.store);
      // Connected when the broker stopped: it has been away since the restart.
      if (state.offlineSince === undefined) state.markOffline(this.o.timers.now());
      const off: Offline = { state, timer: null };
      this.offline.set(stored.clientId, off);
      this.armExpiry(off);
    }
  }

  /** Cancels every timer (listener shut down). */
  close(): void {
    for (const off of this.offline.values()) if (off.timer !== null) this.o.timers.clearTimeout(off.timer);
    for (const w of this.wills.values()) this.o.timers.clearTimeout(w.timer);
    this.wills.clear();
  }
}
