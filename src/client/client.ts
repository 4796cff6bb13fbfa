/**
 * The bespoke client: `connect(url)` -> BlazeClient with publish/subscribe/request, over one native
 * connection at a time (wire-connection.ts). For failover: URLs it owns the reconnection loop (exponential
 * back-off, endpoints in turn) and everything a reconnect must restore: subscriptions are made again,
 * unconfirmed sends are resent with their (producer_id, sequence) so the broker drops duplicates
 * (send-log.ts), and acked messages are never handed out twice (subscription.ts).
 */

import { DEFAULT_RECONNECT, exhausted, reconnectDelay } from './backoff.js';
import { DEFAULT_MAX_FRAME_SIZE } from './codec/codec.js';
import { ClientCodes, ClientError } from './codec/errors.js';
import type { DecodedFrame, Frame, WireMessage } from './codec/frames.js';
import { TemporaryKindWire } from './codec/frames.js';
import { Emitter } from './events.js';
import {
  type Body,
  fromWireMessage,
  type PublishOptions,
  type ReceivedMessage,
  toWireMessage,
} from './message.js';
import { idAt } from './message-ids.js';
import { Requester, type RequestOptions } from './request-reply.js';
import { PendingSend, SendLog } from './send-log.js';
import { type Message, type SubscribeOptions, Subscription, type SubscriptionHost } from './subscription.js';
import { clientTimers, type Timers } from './timers.js';
import { Transaction } from './transaction.js';
import { openTransport } from './transport/select.js';
import type { TransportFactory } from './transport/types.js';
import { type Endpoint, type ParsedUrl, parseUrl, type ReconnectOptions } from './url.js';
import type { VmBroker } from './vm-registry.js';
import { WireConnection, type WireEvents } from './wire-connection.js';
import { XaResource } from './xa.js';

export interface ConnectOptions {
  login?: string;
  passcode?: string;
  /** Bearer token instead of login/passcode. */
  token?: string;
  /** JMS client id: needed for durable subscriptions, unique among live connections. */
  clientId?: string;
  /** Library name and version, shown by the management API. */
  clientName?: string;
  /** Heart-beat interval to ask for, ms (0 = none). Default 10,000. */
  heartbeatMs?: number;
  /** Largest frame accepted from the broker. Default 16 MiB. */
  maxFrameSize?: number;
  /** Per attempt, ms. Default 10,000. */
  connectTimeout?: number;
  /** Back-off for failover: URLs (the URL's own options win over these). */
  reconnect?: Partial<ReconnectOptions>;
  /** Unconfirmed messages in flight before publish() waits for room. Default 1,000. */
  maxInflightSends?: number;
  /** tls:// options for Node's tls.connect (ca, cert, key, rejectUnauthorized...). */
  tls?: Record<string, unknown>;
  /** In-process broker (with `vm://` URLs, or instead of the vm registry). */
  transport?: 'vm';
  broker?: VmBroker;
  /** Opens the byte pipe to an endpoint (tests, custom transports). */
  transportFactory?: TransportFactory;
  timers?: Timers;
  /** Producer id for duplicate detection; a random UUID by default. */
  producerId?: string;
}

export interface BatchEntry {
  address: string;
  body: Body;
  options?: PublishOptions;
}

export interface ConnectionInfo {
  endpoint: string;
  server: string;
  connectionId: string;
  storeId: string;
  version: number;
}

export type ClientEvents = {
  /** The connection was lost; a failover client is reconnecting. */
  interrupted: [error: ClientError];
  /** Reconnected; `sameStore` when the broker has the same store (restart or takeover of the same data). */
  resumed: [info: ConnectionInfo & { sameStore: boolean }];
  /** A connection-level error from the broker that did not close the connection. */
  error: [error: ClientError];
  /** The client is closed for good (close(), a lost plain connection, or reconnection given up). */
  closed: [error?: ClientError];
};

type State = 'connecting' | 'open' | 'reconnecting' | 'closed';

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<BlazeClient> {
  const client = new BlazeClient(parseUrl(url), options);
  await client.start();
  return client;
}

export class BlazeClient {
  readonly producerId: string;
  readonly xa: XaResource;
  private readonly events = new Emitter<ClientEvents>();
  private readonly timers: Timers;
  private readonly reconnect: ReconnectOptions;
  private readonly log: SendLog;
  private readonly subscriptions = new Map<number, Subscription>();
  private readonly transactions = new Set<Transaction>();
  private readonly requester: Requester;
  private conn: WireConnection | undefined;
  private state: State = 'connecting';
  private epochValue = 0;
  private nextSubscriptionId = 1;
  private txSeq = 0;
  private endpointIndex = 0;
  private info: ConnectionInfo | undefined;
  private liveWaiters: Array<{ resolve(c: WireConnection): void; reject(e: Error): void }> = [];
  private closeError: ClientError | undefined;
  private readonly host: SubscriptionHost;

  constructor(
    private readonly url: ParsedUrl,
    private readonly options: ConnectOptions,
  ) {
    this.timers = options.timers ?? clientTimers;
    this.reconnect = { ...DEFAULT_RECONNECT, ...options.reconnect, ...url.reconnect };
    this.log = new SendLog(options.maxInflightSends ?? 1000);
    this.producerId = options.producerId ?? randomId();
    if (this.reconnect.randomize) this.endpointIndex = Math.floor(Math.random() * url.endpoints.length);
    const self = this;
    this.host = {
      get epoch() {
        return self.epochValue;
      },
      post: (frame) => {
        if (this.state === 'open') this.conn?.post(frame);
      },
      request: (build) => this.rawRequest(build),
      requestNow: (build) =>
        this.state === 'open'
          ? this.conn!.request(build)
          : Promise.reject(new ClientError(ClientCodes.CONNECTION_LOST, 'not connected')),
      removeSubscription: (id) => this.subscriptions.delete(id),
    };
    this.requester = new Requester(this);
    this.xa = new XaResource((build) => this.rawRequest(build));
  }

  /** Where and to what the client is connected now (undefined while reconnecting). */
  get connection(): ConnectionInfo | undefined {
    return this.state === 'open' ? this.info : undefined;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  on<K extends keyof ClientEvents>(event: K, listener: (...args: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** @internal First connection: one attempt for a plain URL, the back-off loop for failover. */
  async start(): Promise<void> {
    await this.establish(true);
  }

  // ------------------------------------------------------------------------------------------ producing

  /** Resolves when the broker accepted the message (durably, when persistent). */
  publish(address: string, body: Body, options?: PublishOptions): Promise<void> {
    // Not async: the promise of the send itself is returned, no second one wrapping it (the hot path).
    // Errors (closed client, bad priority) still come as a rejection, never as a throw.
    try {
      return this.enqueueSend(
        toWireMessage(address, body, options),
        false,
      ) as Promise<unknown> as Promise<void>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * `publish` that resolves with the id the broker gave the message (the `id` its consumers receive;
   * native.proto `want_ids`). Undefined when the broker cannot tell: one older than protocol version 2,
   * or a resend after a reconnect of a message whose id the broker no longer remembers.
   */
  async publishForId(address: string, body: Body, options: PublishOptions = {}): Promise<string | undefined> {
    const message = toWireMessage(address, body, options);
    return idAt(await this.enqueueSend(message, true), 0);
  }

  /** Several messages in one frame, resolved together (native.proto SendBatch). */
  async publishBatch(entries: readonly BatchEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const messages = entries.map((e) => toWireMessage(e.address, e.body, e.options));
    await this.enqueueSend(messages, false);
  }

  /** `publishBatch` resolving with each message's id, in order (as `publishForId`). */
  async publishBatchForIds(entries: readonly BatchEntry[]): Promise<Array<string | undefined>> {
    if (entries.length === 0) return [];
    const messages = entries.map((e) => toWireMessage(e.address, e.body, e.options));
    const ids = await this.enqueueSend(messages, true);
    return messages.map((_, i) => idAt(ids, i));
  }

  /**
   * Sends one message (Send) or several (SendBatch); resolves with Ok.message_ids when `wantIds`
   * (undefined otherwise). Synchronous while the send log has room (the usual case): one PendingSend and
   * one promise per publish. Throws (synchronously) when the client is closed.
   */
  private enqueueSend(
    messages: WireMessage | WireMessage[],
    wantIds: boolean,
  ): Promise<readonly string[] | undefined> {
    this.assertOpen();
    // A batch of one goes as a plain Send, as it always has.
    if (Array.isArray(messages) && messages.length === 1) messages = messages[0]!;
    const count = Array.isArray(messages) ? messages.length : 1;
    if (!this.log.hasRoom(count)) return this.enqueueWhenRoom(messages, count, wantIds);
    const entry = new PendingSend(this.log, this.log.allocate(count), messages, this.producerId, wantIds);
    const settled = new Promise<readonly string[] | undefined>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    this.log.add(entry);
    // While reconnecting it waits in the log; resume() sends the log in order.
    if (this.state === 'open') this.conn!.submit(entry);
    return settled;
  }

  /** Producer flow control: past maxInflightSends unconfirmed messages, wait for the broker's answers. */
  private async enqueueWhenRoom(
    messages: WireMessage | WireMessage[],
    count: number,
    wantIds: boolean,
  ): Promise<readonly string[] | undefined> {
    // Check and add with no await in between, or concurrent publishes would all see the same room.
    while (!this.log.hasRoom(count)) {
      await this.log.roomFreed();
      this.assertOpen();
    }
    return this.enqueueSend(messages, wantIds);
  }

  // ------------------------------------------------------------------------------------------ consuming

  /**
   * Starts a subscription. Iterate it with `for await`, or call receive(); `await sub.ready` when the
   * subscription must exist at the broker before going on (topics). Errors (FORBIDDEN...) reject `ready`
   * and end the iteration with the error.
   */
  subscribe(address: string, options: SubscribeOptions = {}): Subscription {
    return this.openSubscription(address, options);
  }

  /** @internal */
  openSubscription(address: string, options: SubscribeOptions & { endOnInterrupt?: boolean }): Subscription {
    this.assertOpen();
    const id = this.nextSubscriptionId++;
    const sub = new Subscription(id, address, options, this.host);
    this.subscriptions.set(id, sub);
    if (this.state === 'open') this.sendSubscribe(this.conn!, sub);
    return sub;
  }

  private sendSubscribe(conn: WireConnection, sub: Subscription): Promise<void> {
    return conn
      .request((request_id) => sub.subscribeFrame(request_id))
      .then(
        () => sub.markReady(),
        (e: ClientError) => {
          if (e.code === ClientCodes.CONNECTION_LOST && this.state !== 'closed') return; // made again on resume
          this.subscriptions.delete(sub.id);
          sub.failSubscribe(e);
        },
      );
  }

  /** Request/reply over a temporary queue, matched by correlation id. */
  request(address: string, body: Body, options: RequestOptions = {}): Promise<Message> {
    return this.requester.request(address, body, options);
  }

  /** @internal A protocol request on the current connection (waits for one while reconnecting). */
  rawRequest(build: (requestId: number) => Frame): Promise<DecodedFrame> {
    return this.live().then((conn) => conn.request(build));
  }

  /** Answers a request message: to its reply-to address, with its correlation id. */
  async reply(requestMessage: ReceivedMessage, body: Body, options: PublishOptions = {}): Promise<void> {
    if (!requestMessage.replyTo)
      throw new ClientError(ClientCodes.ILLEGAL_STATE, 'the message has no reply-to');
    await this.publish(requestMessage.replyTo, body, {
      ...options,
      correlationId: requestMessage.correlationId ?? requestMessage.id,
    });
  }

  /** A temporary queue or topic address; it lives as long as the current connection. */
  async createTemporary(kind: 'queue' | 'topic' = 'queue'): Promise<string> {
    const f = await this.rawRequest((request_id) => ({
      create_temporary: {
        request_id,
        kind: kind === 'queue' ? TemporaryKindWire.QUEUE : TemporaryKindWire.TOPIC,
      },
    }));
    const address = (f as { temporary_created?: { address?: string } }).temporary_created?.address;
    if (!address) throw new ClientError(ClientCodes.PROTOCOL, `expected TemporaryCreated, got ${f.kind}`);
    return address;
  }

  /**
   * Deletes a temporary destination this connection created (native.proto DeleteTemporary, version 2).
   * Rejects with the broker's code: TEMPORARY_IN_USE while it has consumers, NOT_FOUND when it is gone
   * (deleted, or its connection ended), FORBIDDEN when another connection created it; NOT_SUPPORTED when
   * the broker speaks only version 1.
   */
  async deleteTemporary(address: string): Promise<void> {
    const conn = await this.live();
    const version = conn.connected.version ?? 1;
    if (version < 2) {
      throw new ClientError(
        'NOT_SUPPORTED',
        `the broker speaks native protocol version ${version}: DeleteTemporary needs version 2`,
      );
    }
    await conn.request((request_id) => ({ delete_temporary: { request_id, address } }));
  }

  /** A queue's pending messages, not consumed (native.proto Browse). */
  async browse(
    address: string,
    options: { selector?: string; max?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const f = await this.rawRequest((request_id) => ({
      browse: { request_id, address, selector: options.selector, max_messages: options.max },
    }));
    const result = (f as { browse_result?: { messages?: WireMessage[] } }).browse_result;
    if (!result) throw new ClientError(ClientCodes.PROTOCOL, `expected BrowseResult, got ${f.kind}`);
    return (result.messages ?? []).map((m) => fromWireMessage(m));
  }

  /** Deletes a durable subscription of this client id. */
  async unsubscribeDurable(name: string): Promise<void> {
    await this.rawRequest((request_id) => ({ unsubscribe_durable: { request_id, durable_name: name } }));
  }

  /** Begins a local transaction (native.proto TxBegin). */
  async transaction(): Promise<Transaction> {
    const tx = new Transaction(
      `tx-${this.producerId}-${++this.txSeq}`,
      {
        producerId: this.producerId,
        epoch: () => this.epochValue,
        request: (build) => this.rawRequest(build),
        forgetTransaction: (t) => this.transactions.delete(t),
      },
      this.epochValue,
    );
    this.transactions.add(tx);
    await this.rawRequest((request_id) => ({ tx_begin: { request_id, tx_id: tx.id } }));
    tx.epoch = this.epochValue;
    return tx;
  }

  // ------------------------------------------------------------------------------------------ lifecycle

  /** Waits for unconfirmed sends (bounded), sends Disconnect, closes. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'open' && this.log.size > 0) {
      const settled = Promise.allSettled(
        this.log.pending().map((e) => new Promise<void>((r) => this.waitSettled(e, r))),
      );
      await Promise.race([settled, new Promise((r) => this.timers.setTimeout(() => r(undefined), 5000))]);
    }
    const conn = this.conn;
    this.finish(new ClientError(ClientCodes.CLOSED, 'client closed'), false);
    await conn?.close();
    this.events.emit('closed');
  }

  private waitSettled(entry: PendingSend, done: () => void): void {
    const { resolve, reject } = entry;
    Object.assign(entry, {
      resolve: (ids?: readonly string[]) => {
        resolve(ids);
        done();
      },
      reject: (e: Error) => {
        reject(e);
        done();
      },
    });
  }

  /** Ends the client: everything pending fails with `error`. */
  private finish(error: ClientError, emit: boolean): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeError = error;
    for (const w of this.liveWaiters.splice(0)) w.reject(error);
    this.log.failAll(error);
    // emit is false only for close() (and a first connect that failed, before any subscription).
    for (const s of [...this.subscriptions.values()]) s.interruptedForGood(error, !emit);
    this.subscriptions.clear();
    this.requester.failAll(error);
    for (const tx of this.transactions) tx.broken = true;
    if (emit) {
      this.conn?.shutdown(error);
      this.events.emit('closed', error);
    }
  }

  private assertOpen(): void {
    if (this.state === 'closed') {
      throw this.closeError ?? new ClientError(ClientCodes.CLOSED, 'client closed');
    }
  }

  /** The current connection, waiting through a reconnection. */
  private live(): Promise<WireConnection> {
    if (this.state === 'open') return Promise.resolve(this.conn!);
    if (this.state === 'closed') {
      return Promise.reject(this.closeError ?? new ClientError(ClientCodes.CLOSED, 'client closed'));
    }
    return new Promise((resolve, reject) => this.liveWaiters.push({ resolve, reject }));
  }

  private wireEvents(): WireEvents {
    let conn: WireConnection | undefined;
    const events: WireEvents = {
      onDeliver: (d) => this.subscriptions.get(d.subscription_id ?? 0)?.onDelivery(d),
      onSubscriptionClosed: (id, reason) => {
        const sub = this.subscriptions.get(id);
        this.subscriptions.delete(id);
        sub?.closedByBroker(reason);
      },
      onError: (e) => this.events.emit('error', e),
      onClose: (e) => {
        if (conn !== undefined && conn === this.conn) this.lost(e);
      },
      onDrain: () => {},
    };
    return Object.assign(events, {
      bind: (c: WireConnection) => {
        conn = c;
      },
    });
  }

  private openWire(endpoint: Endpoint): Promise<WireConnection> {
    const o = this.options;
    const factory = o.transportFactory ?? openTransport;
    const connectTimeout = o.connectTimeout ?? 10_000;
    const events = this.wireEvents();
    return WireConnection.open(
      (handlers) => factory(endpoint, handlers, { connectTimeout, tls: o.tls, broker: o.broker }),
      {
        login: o.login,
        passcode: o.passcode,
        token: o.token,
        clientId: o.clientId,
        clientName: o.clientName ?? 'blazemq-client/0.1.0',
        heartbeatMs: o.heartbeatMs ?? 10_000,
        maxFrameSize: o.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE,
        connectTimeout,
        timers: this.timers,
      },
      events,
    ).then((c) => {
      (events as unknown as { bind(c: WireConnection): void }).bind(c);
      return c;
    });
  }

  /**
   * Connects, retrying with back-off for failover URLs. On success after the first time, restores
   * subscriptions and resends the send log before anything new goes out.
   */
  private async establish(first: boolean): Promise<void> {
    const endpoints = this.url.endpoints;
    let failures = 0;
    for (;;) {
      if (this.state === 'closed') return;
      const endpoint = endpoints[this.endpointIndex % endpoints.length]!;
      this.endpointIndex = (this.endpointIndex + 1) % endpoints.length;
      try {
        const conn = await this.openWire(endpoint);
        if ((this.state as State) === 'closed') {
          conn.shutdown(new ClientError(ClientCodes.CLOSED, 'client closed'));
          return;
        }
        await this.resume(conn, endpoint, first);
        return;
      } catch (e) {
        const error =
          e instanceof ClientError
            ? e
            : new ClientError(ClientCodes.CONNECTION_LOST, String(e), { cause: e });
        failures++;
        // A refusal (bad credentials...) is not cured by retrying; a plain URL gets one attempt.
        const refused = error.code !== ClientCodes.CONNECTION_LOST && error.code !== ClientCodes.TIMEOUT;
        if (!this.url.failover || refused || exhausted(failures, this.reconnect)) {
          const final =
            this.url.failover && !refused
              ? new ClientError(
                  ClientCodes.RECONNECT_FAILED,
                  `gave up after ${failures} attempts: ${error.message}`,
                  {
                    cause: error,
                  },
                )
              : error;
          if (first) {
            this.finish(final, false);
            throw final;
          }
          this.finish(final, true);
          return;
        }
        await new Promise((r) =>
          this.timers.setTimeout(() => r(undefined), reconnectDelay(failures, this.reconnect)),
        );
      }
    }
  }

  private async resume(conn: WireConnection, endpoint: Endpoint, first: boolean): Promise<void> {
    if (conn.isClosed)
      throw new ClientError(ClientCodes.CONNECTION_LOST, 'connection lost during the handshake');
    const c = conn.connected;
    const previousStore = this.info?.storeId;
    this.conn = conn;
    this.epochValue++;
    this.info = {
      endpoint: endpoint.url,
      server: c.server ?? '',
      connectionId: c.connection_id ?? '',
      storeId: c.store_id ?? '',
      version: c.version ?? 1,
    };
    // Subscriptions first, then the resend in sequence order, then anything new (state 'open').
    const subs = [...this.subscriptions.values()].filter((s) => s.survivesReconnect);
    for (const s of subs) void this.sendSubscribe(conn, s);
    for (const entry of this.log.pending()) conn.submit(entry);
    this.state = 'open';
    for (const w of this.liveWaiters.splice(0)) w.resolve(conn);
    if (!first) this.events.emit('resumed', { ...this.info, sameStore: previousStore === this.info.storeId });
  }

  /** The connection is gone (not by close()). */
  private lost(error: ClientError): void {
    if (this.state === 'closed') return;
    this.conn = undefined;
    if (!this.url.failover) {
      this.finish(error, true);
      return;
    }
    this.state = 'reconnecting';
    // Deliveries of the lost connection are stale from now on: their tags mean nothing to the next one.
    this.epochValue++;
    for (const s of [...this.subscriptions.values()]) s.interrupted();
    for (const tx of this.transactions) tx.broken = true;
    this.requester.interrupted(error);
    this.events.emit('interrupted', error);
    void this.establish(false);
  }
}
