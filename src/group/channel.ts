/**
 * A group channel: the public face of blazemq/group. It stacks, per member,
 *   transport (UDP or any GroupTransport) -> FrameWire (protobuf GroupFrames of this group)
 *   -> reliability protocol (NACK by default; chosen per channel) -> membership -> this API,
 * and adds the application envelope (ChannelMessage): broadcasts, direct messages, named inboxes,
 * queues, and fragmentation of messages larger than a datagram (src/group/frag, above reliability).
 *
 * Back-pressure both ways: sends return promises that wait while the protocol's window is full or a view
 * change is in progress; every receiver is a bounded async iterator, and a full one pauses delivery so
 * that the protocol stops granting credit to the senders.
 */

import { BlazeError } from '../util/errors.js';
import { type Logger, silentLogger } from '../util/logger.js';
import { type Clock, type Random, realClock } from './clock.js';
import { fragment, Reassembler } from './frag/index.js';
import { FrameWire } from './frame-wire.js';
import { Membership, type MembershipListeners } from './membership/membership.js';
import type { MembershipOptions } from './membership/options.js';
import { type GroupMessage, groupMessage, toBytes } from './message.js';
import { QueueRouter } from './queue.js';
import { Receiver } from './receiver.js';
import type { NackOptions } from './reliable/nack/options.js';
import { NackProtocol } from './reliable/nack/protocol.js';
import type { ProtocolFactory, ReliableProtocol } from './reliable/types.js';
import type { GroupTransport } from './transport/types.js';
import { openUdpTransport, type UdpTransportOptions } from './transport/udp.js';
import type { View } from './view.js';
import { ChannelKind, type ChannelMessage, decodeChannelMessage, encodeChannelMessage } from './wire.js';

export interface ChannelOptions {
  /** Group name: only members of the same name talk to each other. */
  name: string;
  /** A transport to use (tests: the simulated network or the loopback hub). Not closed by the channel. */
  transport?: GroupTransport;
  /** Otherwise the channel opens a UDP transport with these options, and closes it on `close()`. */
  udp?: UdpTransportOptions;
  /** Reliability protocol (quality of service): 'nack' (default) or a factory for another one. */
  protocol?: 'nack' | ProtocolFactory;
  nack?: Partial<NackOptions>;
  membership?: Partial<MembershipOptions>;
  /** Injected time and randomness (the simulated network's in tests). */
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  /** Capacity of each receiver (messages, inboxes, queues) before deliveries pause; default 1024. */
  receiveBuffer?: number;
  /** Deliver this member's own broadcasts to its `messages` receiver; default true. */
  receiveOwn?: boolean;
  /** Largest message accepted from the group after reassembly; default 16 MiB. */
  maxMessageSize?: number;
}

export interface Inbox extends AsyncIterable<GroupMessage> {
  readonly name: string;
  /** To inbox `name` of `member` only. */
  send(member: string, msg: Uint8Array | string): Promise<void>;
  readonly receiver: Receiver<GroupMessage>;
  close(): void;
}

export interface GroupQueue {
  readonly name: string;
  /** Resolves once exactly one listening member took the message. */
  send(msg: Uint8Array | string): Promise<void>;
  /** Starts listening: messages of this queue routed to this member arrive here. */
  listen(): Receiver<GroupMessage>;
  /** Members currently listening. */
  listeners(): string[];
}

type Outgoing = { frames: Uint8Array[]; resolve: () => void; reject: (e: Error) => void };

/** Room a FRAGMENT envelope takes around a fragment. */
const FRAGMENT_ENVELOPE = 8;

export class Channel {
  readonly name: string;
  /** Broadcasts and direct messages. */
  readonly messages: Receiver<GroupMessage>;
  private readonly opts: ChannelOptions;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly capacity: number;
  private transport: GroupTransport | undefined;
  private ownsTransport = false;
  private wire: FrameWire | undefined;
  private protocol: ReliableProtocol | undefined;
  private membership: Membership | undefined;
  private readonly reassembler: Reassembler;
  private readonly inboxes = new Map<string, Inbox>();
  private readonly queues: QueueRouter;
  private readonly outboxes = new Map<string, { items: Outgoing[]; pumping: boolean }>();
  private readonly pendingListeners: Array<() => void> = [];
  private fullReceivers = 0;
  private msgId = 0;
  private state: 'new' | 'connecting' | 'connected' | 'closing' | 'closed' = 'new';

  constructor(options: ChannelOptions) {
    if (!options.name) throw new BlazeError('CONFIG', 'a group channel needs a name');
    if (!options.transport === !options.udp) {
      throw new BlazeError('CONFIG', 'give exactly one of `transport` and `udp`');
    }
    this.opts = options;
    this.name = options.name;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
    this.log = (options.logger ?? silentLogger).child({ group: options.name });
    this.capacity = Math.max(1, options.receiveBuffer ?? 1024);
    this.reassembler = new Reassembler({ maxMessageSize: options.maxMessageSize ?? 16 * 1024 * 1024 });
    this.messages = this.newReceiver({});
    const channel = this;
    this.queues = new QueueRouter({
      get self() {
        return channel.localAddress;
      },
      members: () => this.members,
      send: (to, m) => this.sendEnvelope(to, m),
      broadcast: (m) => this.sendEnvelope(undefined, m),
      newReceiver: (hooks) => this.newReceiver(hooks),
    });
  }

  /** This member's address (known once connected). */
  get localAddress(): string {
    return this.transport?.localAddress ?? '';
  }

  get view(): View | undefined {
    return this.membership?.view;
  }

  get members(): readonly string[] {
    return this.membership?.view?.members ?? [];
  }

  get isCoordinator(): boolean {
    return this.membership?.isCoordinator ?? false;
  }

  get stats() {
    return {
      wire: this.wire?.stats,
      protocol: this.protocol?.stats,
      membership: this.membership?.stats,
      queues: this.queues.stats,
      fragments: this.reassembler.stats,
    };
  }

  /** Listeners for view changes, joins and leaves (leave includes exclusion after a failure). */
  on<K extends keyof MembershipListeners>(event: K, fn: MembershipListeners[K]): () => void {
    if (this.membership) return this.membership.on(event, fn);
    let off: (() => void) | undefined;
    let cancelled = false;
    this.pendingListeners.push(() => {
      if (!cancelled) off = this.membership!.on(event, fn);
    });
    return () => {
      cancelled = true;
      off?.();
    };
  }

  /** Opens the transport if needed, finds or founds the group; resolves with the first view. */
  async connect(): Promise<View> {
    if (this.state !== 'new') throw new BlazeError('CONFLICT', 'channel already connected');
    this.state = 'connecting';
    if (this.opts.transport) this.transport = this.opts.transport;
    else {
      this.transport = await openUdpTransport({ ...this.opts.udp, logger: this.log });
      this.ownsTransport = true;
    }
    const self = this.transport.localAddress;
    const wire = new FrameWire(this.transport, this.name, (from, frame, incarnation) => {
      const membership = this.membership!;
      // Frames from another incarnation of a member's address are not that member's (incarnation.ts).
      if (!membership.admit(from, incarnation)) return;
      membership.heard(from);
      if (!this.protocol!.handle(from, frame.kind, frame.body)) membership.handle(from, frame, incarnation);
    });
    this.wire = wire;
    const ctx = {
      self,
      wire,
      clock: this.clock,
      random: this.random,
      log: this.log,
      maxPayload: wire.maxPayload,
    };
    const p = this.opts.protocol;
    this.protocol = typeof p === 'function' ? p(ctx) : new NackProtocol(ctx, this.opts.nack);
    this.protocol.onDeliver((d) => this.onDeliver(d.sender, d.payload, d.multicast));
    this.membership = new Membership({
      self,
      incarnation: this.transport.incarnation,
      wire,
      clock: this.clock,
      random: this.random,
      log: this.log,
      protocol: this.protocol,
      ...(this.opts.membership ? { options: this.opts.membership } : {}),
    });
    this.membership.on('view', (v) => this.onView(v));
    for (const add of this.pendingListeners.splice(0)) add();
    this.protocol.start({
      id: { coordinator: self, counter: 0 },
      members: [self],
      incarnations: [this.transport.incarnation],
    });
    const view = await this.membership.connect();
    this.state = 'connected';
    return view;
  }

  broadcast(msg: Uint8Array | string): Promise<void> {
    return this.sendEnvelope(undefined, { kind: ChannelKind.BROADCAST, body: toBytes(msg) });
  }

  /** Point-to-point to `member`'s `messages` receiver. */
  send(member: string, msg: Uint8Array | string): Promise<void> {
    return this.sendEnvelope(member, { kind: ChannelKind.DIRECT, body: toBytes(msg) });
  }

  /** A named inbox: messages sent to (member, name) arrive only in that member's inbox `name`. */
  inbox(name: string): Inbox {
    let box = this.inboxes.get(name);
    if (box && !box.receiver.isClosed) return box;
    const receiver = this.newReceiver({
      onClose: () => {
        if (this.inboxes.get(name) === box) this.inboxes.delete(name);
      },
    });
    box = {
      name,
      receiver,
      send: (member, msg) => this.sendEnvelope(member, { kind: ChannelKind.INBOX, name, body: toBytes(msg) }),
      close: () => receiver.close(),
      [Symbol.asyncIterator]: () => receiver,
    };
    this.inboxes.set(name, box);
    return box;
  }

  queue(name: string): GroupQueue {
    return {
      name,
      send: (msg) => {
        this.checkOpen();
        return this.queues.send(name, toBytes(msg));
      },
      listen: () => this.queues.listen(name),
      listeners: () => this.queues.listenersOf(name),
    };
  }

  /** Graceful leave, then everything stops; receivers end after what they hold. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasConnected = this.state === 'connected';
    this.state = 'closing';
    const err = new BlazeError('CLOSED', 'group channel closed');
    // Queue messages not taken go back to their senders before this member leaves.
    this.queues.close(err);
    if (wasConnected) await this.membership?.leave();
    this.membership?.close();
    this.protocol?.close();
    this.wire?.close();
    for (const box of this.outboxes.values()) for (const o of box.items) o.reject(err);
    this.outboxes.clear();
    for (const box of [...this.inboxes.values()]) box.close();
    this.messages.close();
    if (this.ownsTransport) await this.transport?.close();
    this.state = 'closed';
  }

  // --- sending -------------------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.state !== 'connected') {
      throw new BlazeError('CLOSED', `group channel is ${this.state === 'new' ? 'not connected' : 'closed'}`);
    }
  }

  /** Encodes (and fragments) one envelope and queues it behind earlier sends to the same destination. */
  private sendEnvelope(
    to: string | undefined,
    m: Partial<ChannelMessage> & { kind: ChannelKind },
  ): Promise<void> {
    try {
      this.checkOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    const protocol = this.protocol!;
    const encoded = encodeChannelMessage(m);
    let frames = [encoded];
    if (encoded.length > protocol.maxPayload) {
      const pieces = fragment(++this.msgId, encoded, protocol.maxPayload - FRAGMENT_ENVELOPE);
      frames = pieces.map((body) => encodeChannelMessage({ kind: ChannelKind.FRAGMENT, body }));
    }
    const key = to ?? '*';
    let box = this.outboxes.get(key);
    if (!box) {
      box = { items: [], pumping: false };
      this.outboxes.set(key, box);
    }
    if (box.items.length === 0) {
      // Fast path: nothing queued and the protocol has room.
      let i = 0;
      try {
        while (i < frames.length && this.submit(to, frames[i]!)) i++;
      } catch (e) {
        return Promise.reject(e);
      }
      if (i === frames.length) return Promise.resolve();
      frames = frames.slice(i);
    }
    return new Promise((resolve, reject) => {
      box.items.push({ frames, resolve, reject });
      if (!box.pumping) void this.pump(key, to, box);
    });
  }

  private submit(to: string | undefined, frame: Uint8Array): boolean {
    return to === undefined ? this.protocol!.multicast(frame) : this.protocol!.unicast(to, frame);
  }

  private async pump(key: string, to: string | undefined, box: { items: Outgoing[]; pumping: boolean }) {
    box.pumping = true;
    while (box.items.length > 0 && this.state === 'connected') {
      const item = box.items[0]!;
      try {
        while (item.frames.length > 0) {
          if (this.state !== 'connected') break;
          if (this.submit(to, item.frames[0]!)) item.frames.shift();
          else await this.protocol!.writable(to);
        }
      } catch (e) {
        box.items.shift();
        item.reject(e as Error);
        continue;
      }
      if (item.frames.length > 0) break;
      box.items.shift();
      item.resolve();
    }
    box.pumping = false;
    if (box.items.length === 0 && this.outboxes.get(key) === box) this.outboxes.delete(key);
  }

  // --- receiving -----------------------------------------------------------------------------------

  private newReceiver(hooks: {
    onTake?: (m: GroupMessage) => void;
    onClose?: (rest: GroupMessage[]) => void;
  }): Receiver<GroupMessage> {
    return new Receiver<GroupMessage>(this.capacity, {
      ...hooks,
      onFull: () => {
        if (this.fullReceivers++ === 0) this.protocol?.setPaused(true);
      },
      onDrained: () => {
        if (--this.fullReceivers === 0) this.protocol?.setPaused(false);
      },
    });
  }

  private onDeliver(sender: string, payload: Uint8Array, multicast: boolean): void {
    let m = decodeChannelMessage(payload);
    if (!m) return;
    if (m.kind === ChannelKind.FRAGMENT) {
      const whole = this.reassembler.add(sender, m.body);
      if (!whole) return;
      m = decodeChannelMessage(whole);
      if (!m || m.kind === ChannelKind.FRAGMENT) return;
    }
    switch (m.kind) {
      case ChannelKind.BROADCAST:
        if (multicast && (sender !== this.localAddress || this.opts.receiveOwn !== false)) {
          this.messages.push(groupMessage(sender, m.body, 'broadcast'));
        }
        return;
      case ChannelKind.DIRECT:
        this.messages.push(groupMessage(sender, m.body, 'direct'));
        return;
      case ChannelKind.INBOX:
        this.inbox(m.name).receiver.push(groupMessage(sender, m.body, 'inbox', m.name));
        return;
      case ChannelKind.QUEUE:
        this.queues.onMessage(sender, m);
        return;
      case ChannelKind.QUEUE_ACK:
        this.queues.onAck(sender, m);
        return;
      case ChannelKind.QUEUE_LISTEN:
        this.queues.onListen(sender, m.names);
        return;
      default:
        return;
    }
  }

  private onView(v: View): void {
    for (const m of [...this.reassemblerSenders]) if (!v.members.includes(m)) this.reassembler.dropSender(m);
    this.reassemblerSenders = new Set(v.members);
    this.queues.onView(v.members);
  }

  private reassemblerSenders = new Set<string>();
}

/** Creates a channel; `await channel.connect()` joins the group. */
export function createChannel(options: ChannelOptions): Channel {
  return new Channel(options);
}
