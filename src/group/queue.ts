/**
 * Queue semantics on a group: a message sent to queue `name` is taken by exactly one member listening on
 * it. Listeners announce the set of queues they listen on by reliable multicast (again after every view
 * change, so that joiners learn it). The sender picks a listener round robin and sends it the message by
 * reliable unicast; the listener acknowledges when its application takes the message from the iterator.
 * Until then the sender keeps it: if the chosen member leaves (or stops listening and gives the message
 * back), the message goes to another listener; with no listener it waits for one.
 *
 * Exactly one taker holds while members stay or leave gracefully (a closing listener gives back what it
 * did not take). If a listener crashes after taking a message but before its ack reached the sender, the
 * message is routed again: at-least-once under crashes.
 */

import { type GroupMessage, groupMessage } from './message.js';
import type { Receiver, ReceiverHooks } from './receiver.js';
import { ChannelKind, type ChannelMessage } from './wire.js';

export interface QueueHost {
  readonly self: string;
  members(): readonly string[];
  /** Reliable FIFO to a member (self included). */
  send(to: string, m: Partial<ChannelMessage> & { kind: ChannelKind }): Promise<void>;
  broadcast(m: Partial<ChannelMessage> & { kind: ChannelKind }): Promise<void>;
  newReceiver(hooks: Omit<ReceiverHooks<GroupMessage>, 'onFull' | 'onDrained'>): Receiver<GroupMessage>;
}

interface Pending {
  name: string;
  body: Uint8Array;
  target: string | undefined;
  /** Members that gave it back; skipped until the listeners change. */
  refusedBy: Set<string>;
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A taken queue message remembers whom to acknowledge. */
const ackInfo = new WeakMap<GroupMessage, { from: string; id: number }>();

export class QueueRouter {
  readonly stats = { sent: 0, taken: 0, rerouted: 0, refused: 0 };
  private readonly listeners = new Map<string, Set<string>>();
  private readonly local = new Map<string, Receiver<GroupMessage>>();
  private readonly pending = new Map<number, Pending>();
  private readonly rr = new Map<string, number>();
  private nextId = 0;

  constructor(private readonly host: QueueHost) {}

  /** Resolves once a listener has taken the message. */
  send(name: string, body: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      const id = ++this.nextId;
      this.pending.set(id, { name, body, target: undefined, refusedBy: new Set(), resolve, reject });
      this.stats.sent++;
      this.route(id);
    });
  }

  listen(name: string): Receiver<GroupMessage> {
    const existing = this.local.get(name);
    if (existing && !existing.isClosed) return existing;
    const r = this.host.newReceiver({
      onTake: (m) => this.taken(m),
      onClose: (rest) => {
        if (this.local.get(name) === r) this.local.delete(name);
        for (const m of rest) this.giveBack(m);
        void this.announce();
      },
    });
    this.local.set(name, r);
    this.listeners.set(this.host.self, new Set(this.local.keys()));
    void this.announce();
    this.routeWaiting();
    return r;
  }

  /** Listener sets, for tests and the CLI. */
  listenersOf(name: string): string[] {
    return this.host.members().filter((m) => this.listeners.get(m)?.has(name));
  }

  onView(members: readonly string[]): void {
    for (const m of [...this.listeners.keys()]) if (!members.includes(m)) this.listeners.delete(m);
    if (this.local.size > 0) void this.announce();
    for (const [id, p] of this.pending) {
      if (p.target !== undefined && !members.includes(p.target)) {
        this.stats.rerouted++;
        p.target = undefined;
        this.route(id);
      }
    }
    this.routeWaiting();
  }

  onListen(from: string, names: readonly string[]): void {
    if (from === this.host.self) return;
    this.listeners.set(from, new Set(names));
    for (const p of this.pending.values()) p.refusedBy.delete(from);
    this.routeWaiting();
  }

  onMessage(from: string, m: ChannelMessage): void {
    const r = this.local.get(m.name);
    const msg = groupMessage(from, m.body, 'queue', m.name);
    ackInfo.set(msg, { from, id: m.id });
    if (!r?.push(msg)) this.giveBack(msg);
  }

  onAck(from: string, m: ChannelMessage): void {
    const p = this.pending.get(m.id);
    if (!p || p.target !== from) return;
    if (m.reject) {
      this.stats.refused++;
      p.refusedBy.add(from);
      p.target = undefined;
      this.route(m.id);
      return;
    }
    this.pending.delete(m.id);
    p.resolve();
  }

  /** Closing: give back whatever local listeners hold, fail what this member is still sending. */
  close(err: Error): void {
    for (const r of [...this.local.values()]) r.close();
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  private taken(m: GroupMessage): void {
    const info = ackInfo.get(m);
    if (!info) return;
    this.stats.taken++;
    this.ack(info.from, info.id, false);
  }

  private giveBack(m: GroupMessage): void {
    const info = ackInfo.get(m);
    if (info) this.ack(info.from, info.id, true);
  }

  private ack(to: string, id: number, reject: boolean): void {
    const m = { kind: ChannelKind.QUEUE_ACK, id, reject };
    if (to === this.host.self) this.onAck(to, { name: '', body: new Uint8Array(), names: [], ...m });
    else this.host.send(to, m).catch(() => {});
  }

  private routeWaiting(): void {
    for (const [id, p] of this.pending) if (p.target === undefined) this.route(id);
  }

  private route(id: number): void {
    const p = this.pending.get(id);
    if (!p || p.target !== undefined) return;
    const candidates = this.listenersOf(p.name).filter((m) => !p.refusedBy.has(m));
    if (candidates.length === 0) return; // waits for a listener (onListen / onView)
    const n = this.rr.get(p.name) ?? 0;
    this.rr.set(p.name, n + 1);
    const target = candidates[n % candidates.length]!;
    p.target = target;
    if (target === this.host.self) {
      this.onMessage(target, {
        kind: ChannelKind.QUEUE,
        name: p.name,
        id,
        body: p.body,
        names: [],
        reject: false,
      });
      return;
    }
    this.host.send(target, { kind: ChannelKind.QUEUE, name: p.name, id, body: p.body }).catch(() => {
      // The target left before it could be sent to: onView routes it again.
    });
  }

  private announce(): Promise<void> {
    this.listeners.set(this.host.self, new Set(this.local.keys()));
    return this.host
      .broadcast({ kind: ChannelKind.QUEUE_LISTEN, names: [...this.local.keys()] })
      .catch(() => {});
  }
}
