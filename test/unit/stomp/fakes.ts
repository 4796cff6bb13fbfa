export { type Deferred, deferred } from '../../helpers/deferred.js';

/**
 * Test doubles for STOMP session tests: a fake core recording every call, a fake transport recording
 * every write, manual timers, and a `Peer` that plays the client side with the real codec.
 */
import type {
  Authenticator,
  BrokerCore,
  ConnectOptions,
  CoreConnection,
  Delivery,
  DeliverySink,
  Principal,
  SubscribeOptions,
  Subscription,
  Xid,
} from '../../../src/core/api.js';
import type { Message, MessageInit } from '../../../src/core/message.js';
import type { ProtocolSession } from '../../../src/net/transport.js';
import {
  createStompSession,
  encodeFrame,
  type HeaderInput,
  type StompContext,
  StompDecoder,
  type StompFrame,
  type StompVersion,
} from '../../../src/protocol/stomp/index.js';
import { BlazeError } from '../../../src/util/errors.js';
import { FakeTransport as BaseFakeTransport } from '../../helpers/fake-transport.js';
import { ManualTimers } from '../../helpers/manual-timers.js';

let messageSeq = 0;
export function makeMessage(partial: Partial<Message> = {}): Message {
  return {
    id: partial.id ?? `ID:test-${++messageSeq}`,
    address: 'queue://orders',
    body: new Uint8Array(0),
    properties: {},
    persistent: false,
    priority: 4,
    expiration: 0,
    timestamp: 1_700_000_000_000,
    ...partial,
  };
}

export class FakeSubscription implements Subscription {
  readonly acks: Array<[number, string | undefined]> = [];
  readonly nacks: Array<[number, string | undefined]> = [];
  paused = false;
  pauseCalls = 0;
  resumeCalls = 0;
  closed = false;
  private nextTag = 1;

  constructor(
    readonly id: string,
    readonly options: SubscribeOptions,
    readonly sink: DeliverySink,
  ) {}

  /** Hands a message to the session as the core would; returns the delivery. */
  push(partial: Partial<Message> = {}, extra: { redelivered?: boolean } = {}): Delivery {
    const delivery: Delivery = {
      tag: this.nextTag++,
      message: makeMessage(partial),
      redelivered: extra.redelivered ?? false,
      deliveryCount: extra.redelivered ? 2 : 1,
    };
    this.sink.deliver(this, delivery);
    return delivery;
  }

  ack(tag: number, txId?: string): void {
    this.acks.push([tag, txId]);
  }
  nack(tag: number, txId?: string): void {
    this.nacks.push([tag, txId]);
  }
  pause(): void {
    this.paused = true;
    this.pauseCalls++;
  }
  resume(): void {
    this.paused = false;
    this.resumeCalls++;
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeConnection implements CoreConnection {
  readonly sends: Array<{ message: MessageInit; txId: string | undefined }> = [];
  readonly subscriptions: FakeSubscription[] = [];
  readonly begun: string[] = [];
  readonly committed: string[] = [];
  readonly rolledBack: string[] = [];
  readonly durableRemoved: string[] = [];
  readonly temporaries: string[] = [];
  closed = false;
  /** What `send` returns; resolved by default. */
  sendResult: (m: MessageInit) => Promise<void> = () => Promise.resolve();
  commitResult: (tx: string) => Promise<void> = () => Promise.resolve();
  subscribeError: Error | undefined;
  /** Called from inside subscribe(), before it returns (the core may deliver synchronously). */
  onSubscribe: ((sub: FakeSubscription) => void) | undefined;
  private subSeq = 0;

  constructor(
    readonly id: string,
    readonly options: ConnectOptions,
  ) {}

  get clientId(): string | undefined {
    return this.options.clientId;
  }
  get principal(): Principal {
    return this.options.principal;
  }

  send(message: MessageInit, txId?: string): Promise<void> {
    if (this.closed) throw new BlazeError('CLOSED', 'closed');
    this.sends.push({ message, txId });
    return this.sendResult(message);
  }
  subscribe(options: SubscribeOptions, sink: DeliverySink): Subscription {
    if (this.subscribeError) throw this.subscribeError;
    const sub = new FakeSubscription(`sub-${++this.subSeq}`, options, sink);
    this.subscriptions.push(sub);
    this.onSubscribe?.(sub);
    return sub;
  }
  browse(): Message[] {
    return [];
  }
  unsubscribeDurable(name: string): void {
    this.durableRemoved.push(name);
  }
  // XA is not used by STOMP sessions; the fake refuses it loudly if a test ever reaches it.
  xaStart(): void {
    throw new BlazeError('INTERNAL', 'FakeConnection: XA not faked');
  }
  xaEnd(): void {
    throw new BlazeError('INTERNAL', 'FakeConnection: XA not faked');
  }
  xaPrepare(): Promise<'prepared' | 'readonly'> {
    return Promise.reject(new BlazeError('INTERNAL', 'FakeConnection: XA not faked'));
  }
  xaCommit(): Promise<void> {
    return Promise.reject(new BlazeError('INTERNAL', 'FakeConnection: XA not faked'));
  }
  xaRollback(): Promise<void> {
    return Promise.reject(new BlazeError('INTERNAL', 'FakeConnection: XA not faked'));
  }
  xaRecover(): Xid[] {
    return [];
  }
  begin(txId: string): void {
    this.begun.push(txId);
  }
  commit(txId: string): Promise<void> {
    this.committed.push(txId);
    return this.commitResult(txId);
  }
  rollback(txId: string): void {
    this.rolledBack.push(txId);
  }
  createTemporary(kind: 'queue' | 'topic'): string {
    const address = `temp-${kind}://${this.id}:${this.temporaries.length + 1}`;
    this.temporaries.push(address);
    return address;
  }
  close(): void {
    this.closed = true;
  }
}

export class FakeCore implements BrokerCore {
  readonly connections: FakeConnection[] = [];
  connectError: Error | undefined;
  connect(options: ConnectOptions): CoreConnection {
    if (this.connectError) throw this.connectError;
    const c = new FakeConnection(`conn-${this.connections.length + 1}`, options);
    this.connections.push(c);
    return c;
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
  get last(): FakeConnection {
    return this.connections[this.connections.length - 1]!;
  }
}

/** Accepts any login; `bad` as passcode is refused. */
export const testAuthenticator: Authenticator = {
  required: true,
  authenticate: (login, passcode) =>
    Promise.resolve(
      passcode === 'bad' ? null : { user: login ?? 'anonymous', anonymous: login === undefined },
    ),
};

export class FakeTransport extends BaseFakeTransport {
  constructor() {
    super('192.0.2.1:61613');
  }
}

export { ManualTimers };

/** Builds client frame bytes with the real encoder. */
export function clientFrame(
  command: string,
  headers: HeaderInput = {},
  body?: string | Uint8Array,
  version: StompVersion = '1.2',
): Buffer {
  return encodeFrame(body === undefined ? { command, headers } : { command, headers, body }, version);
}

export interface PeerOptions extends Partial<Omit<StompContext, 'core' | 'authenticator'>> {
  authenticator?: Authenticator;
  core?: FakeCore;
}

/** The client side of one session: sends bytes, decodes what the session wrote. */
export class Peer {
  readonly core: FakeCore;
  readonly transport = new FakeTransport();
  readonly timers: ManualTimers;
  readonly session: ProtocolSession;
  private readonly decoder = new StompDecoder();
  private consumed = 0;
  readonly frames: StompFrame[] = [];
  heartbeats = 0;

  constructor(options: PeerOptions = {}) {
    this.core = options.core ?? new FakeCore();
    this.timers = (options.timers as ManualTimers | undefined) ?? new ManualTimers();
    this.session = createStompSession(this.transport, {
      ...options,
      core: this.core,
      authenticator: options.authenticator ?? testAuthenticator,
      timers: this.timers,
    });
  }

  get conn(): FakeConnection {
    return this.core.last;
  }

  /** Frame version for escaping, as the client negotiated. */
  set version(v: StompVersion) {
    this.decoder.version = v;
  }

  send(bytes: Buffer | string): void {
    this.session.onData(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  }

  frame(
    command: string,
    headers: HeaderInput = {},
    body?: string | Uint8Array,
    version: StompVersion = '1.2',
  ): void {
    this.send(clientFrame(command, headers, body, version));
  }

  /** Decodes everything written since the last call. */
  read(): StompFrame[] {
    const out: StompFrame[] = [];
    for (; this.consumed < this.transport.chunks.length; this.consumed++) {
      const chunk = this.transport.chunks[this.consumed]!;
      if (chunk.length === 1 && chunk[0] === 10) this.heartbeats++;
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== null; f = this.decoder.next()) out.push(f);
    }
    this.frames.push(...out);
    return out;
  }

  /** The single frame written since the last read (fails the test otherwise). */
  one(): StompFrame {
    const frames = this.read();
    if (frames.length !== 1) {
      throw new Error(
        `expected one frame, got ${frames.map((f) => `${f.command} ${JSON.stringify(f.headers)}`).join(' | ') || 'none'}`,
      );
    }
    return frames[0]!;
  }

  /** CONNECT, waits for authentication, returns CONNECTED. */
  async connect(
    headers: Record<string, string> = { 'accept-version': '1.2', host: 'localhost' },
  ): Promise<StompFrame> {
    this.frame('CONNECT', headers);
    await flush();
    const f = this.one();
    if (f.command !== 'CONNECTED')
      throw new Error(`expected CONNECTED, got ${f.command}: ${f.headers['message']}`);
    this.version = (f.headers['version'] as StompVersion | undefined) ?? '1.0';
    return f;
  }
}

/** Lets pending promise callbacks run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  await new Promise((r) => setImmediate(r));
}
