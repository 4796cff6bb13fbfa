/**
 * The contract between protocol sessions and the protocol-neutral core.
 *
 * A protocol session (STOMP, MQTT, AMQP, native, HTTP) owns exactly one CoreConnection and maps each of
 * its frames to one call here. The core never imports a protocol; it calls back into the session only
 * through a DeliverySink. All calls are synchronous except those that must wait for the store
 * (`send` of persistent messages, `commit`), which return promises that resolve when durable.
 */
import type { Message, MessageInit } from './message.js';

/** Who is on the other end, after authentication. `anonymous` when no users are configured. */
export interface Principal {
  readonly user: string;
  readonly anonymous: boolean;
}

export type Permission = 'read' | 'write' | 'admin';

/** Decides per-address permissions; the core asks it on every send/subscribe/create. */
export interface Authorizer {
  allowed(principal: Principal, permission: Permission, address: string): boolean;
}

export type AckMode =
  /** Acked by the core as soon as it is handed to the sink. */
  | 'auto'
  /** Acking a delivery acks it and every earlier delivery of the same subscription (STOMP `client`). */
  | 'cumulative'
  /** Each delivery acked on its own (STOMP `client-individual`). */
  | 'individual';

export interface SubscribeOptions {
  /** Canonical address (queue://x, topic://a.*.c, temp-queue://...). Topic subscriptions may use wildcards. */
  address: string;
  ackMode: AckMode;
  /** Max deliveries outstanding (unacked) at once; for `auto` it bounds what is handed over per turn. */
  prefetch: number;
  /** JMS SQL-92 selector over headers and properties. Throws INVALID_SELECTOR if it does not parse. */
  selector?: string;
  /** Durable topic subscription name; requires the connection to have a clientId. */
  durableName?: string;
  /** Do not deliver messages this connection produced (topics). */
  noLocal?: boolean;
  /**
   * Shared subscription group (MQTT 5 `$share/<group>/<filter>`): the subscriptions of one group on one
   * topic pattern share its messages, each message going to one of them (core/shared.ts). Topics only;
   * not with durableName or noLocal.
   */
  shareGroup?: string;
}

export interface Delivery {
  /** Unique within its subscription, increasing; what the protocol uses as ack id. */
  readonly tag: number;
  readonly message: Message;
  /** True when this message may have been seen before (previous delivery not acked, or after recovery). */
  readonly redelivered: boolean;
  /** 1 on first delivery. */
  readonly deliveryCount: number;
}

/** Implemented by the protocol session. The core calls it synchronously while it has credit. */
export interface DeliverySink {
  deliver(subscription: Subscription, delivery: Delivery): void;
  /** The core ended the subscription (its temp destination died, an admin removed it...). */
  closed?(subscription: Subscription, reason: string): void;
}

export interface Subscription {
  readonly id: string;
  readonly options: Readonly<SubscribeOptions>;
  /**
   * Ack one delivery (individual) or it and all earlier (cumulative), optionally inside a transaction.
   * The ack takes effect at once; the returned promise resolves when it is durable (the dequeue of a
   * stored message reached the store), so that a protocol can confirm it (STOMP RECEIPT) only then and a
   * crash never undoes a confirmed ack. It is ACCEPTED when there is nothing to wait for (no store,
   * non-persistent message, inside a transaction). Callers that confirm nothing may ignore it.
   */
  ack(tag: number, txId?: string): Promise<void> | void;
  /** Negative ack: the message goes back for redelivery, or to the DLQ when past the redelivery maximum. */
  nack(tag: number, txId?: string): Promise<void> | void;
  /**
   * Back-pressure from the transport: while paused the core hands nothing to the sink. Queue messages
   * stay in the queue; topic messages wait in the subscription's bounded buffer (slow-consumer policy).
   */
  pause(): void;
  resume(): void;
  /** Unsubscribe. Unacked deliveries go back to their queue marked redelivered. */
  close(): void;
}

export interface ConnectOptions {
  principal: Principal;
  /** JMS client id; required for durable subscriptions; unique among live connections. */
  clientId?: string;
  /** For logs and admin: 'stomp', 'mqtt'... and the remote address. */
  protocol: string;
  remoteAddress?: string;
  /**
   * Called when an operator closes the connection (management API): the session should end the client
   * properly (STOMP ERROR, MQTT 5 DISCONNECT 0x98) and close its core connection. If it has not closed it
   * when this returns, the core closes it, ending its subscriptions with `DeliverySink.closed`.
   */
  onEvict?: (reason: string) => void;
}

export interface CoreConnection {
  readonly id: string;
  readonly clientId?: string;
  readonly principal: Principal;
  /**
   * Route a message (composite addresses `queue://a,topic://b` fan out to each). Resolves when the
   * message is accepted: for persistent messages, once durable in the store. Inside a transaction
   * (txId) it is only buffered until commit. Throws/rejects BlazeError (FORBIDDEN, INVALID_ADDRESS,
   * LIMIT_EXCEEDED...).
   */
  send(message: MessageInit, txId?: string): Promise<void>;
  /**
   * `send` that also tells the id the broker gave the message (native Ok.message_ids, the management
   * API). Inside a transaction the id is assigned now and stays the message's id through commit.
   * Throws at once when the send is refused; `accepted` settles as `send`'s promise does. Optional so
   * that other CoreConnection implementations need not provide it (callers then know no id).
   */
  sendForId?(message: MessageInit, txId?: string): { id: string; accepted: Promise<void> };
  subscribe(options: SubscribeOptions, sink: DeliverySink): Subscription;
  /**
   * The pending messages of a queue in delivery order, without consuming them (JMS QueueBrowser); in-flight
   * messages are not included. Authorized as `read`. Queues (and this connection's temporary queues)
   * only: INVALID_ADDRESS otherwise, INVALID_SELECTOR for a bad selector. An unknown queue browses empty
   * (and is not created). `max` defaults to DEFAULT_BROWSE_MAX.
   */
  browse(address: string, options?: { selector?: string; max?: number }): Message[];
  /** Remove a durable subscription of this client id (and its stored messages). */
  unsubscribeDurable(name: string): void;
  begin(txId: string): void;
  /** Applies the transaction's sends and acks atomically; resolves once durable. */
  commit(txId: string): Promise<void>;
  /** Discards the sends; messages acked inside it are redelivered. */
  rollback(txId: string): void;
  /** Creates a temporary destination owned by this connection; it dies when the connection closes. */
  createTemporary(kind: 'queue' | 'topic'): string;
  /**
   * Deletes a temporary destination this connection created, with its messages (JMS
   * TemporaryQueue/TemporaryTopic.delete). NOT_FOUND when it does not exist, FORBIDDEN when another
   * connection created it, CONFLICT when it has consumers (JMS 1.1 section 4.4.3), INVALID_ADDRESS for a
   * non-temporary address. Optional, as `sendForId`.
   */
  deleteTemporary?(address: string): void;
  /**
   * Starts (flags TMNOFLAGS) or joins/resumes (TMJOIN/TMRESUME) branch xid, bound on this connection to
   * txId: send/ack/nack with that txId join the branch. XA semantics and errors: core/xa.ts,
   * docs/TRANSACTIONS.md; flag values: XA_FLAGS (core/xa.ts).
   */
  xaStart(xid: Xid, txId: string, flags?: number): void;
  /** TMSUCCESS (default), TMFAIL (the branch becomes rollback-only) or TMSUSPEND. Unbinds the txId. */
  xaEnd(xid: Xid, flags?: number): void;
  /** Durable before it resolves; 'readonly' when the branch did nothing (it is then forgotten). */
  xaPrepare(xid: Xid): Promise<'prepared' | 'readonly'>;
  xaCommit(xid: Xid, onePhase: boolean): Promise<void>;
  xaRollback(xid: Xid): Promise<void>;
  /** Prepared branches, from any connection or before a restart. */
  xaRecover(): Xid[];
  /**
   * Rolls back open transactions (and XA branches it worked in that are not prepared; prepared ones
   * belong to the broker and survive), closes subscriptions (returning unacked messages), deletes
   * temporaries.
   */
  close(): void;
}

/** An X/Open XA transaction branch identifier (JTA javax.transaction.xa.Xid). */
export interface Xid {
  readonly formatId: number;
  /** Global transaction id, 1..64 bytes. */
  readonly globalId: Uint8Array;
  /** Branch qualifier, 0..64 bytes. */
  readonly branchId: Uint8Array;
}

/** Messages returned by `CoreConnection.browse` when no `max` is given. */
export const DEFAULT_BROWSE_MAX = 1000;

export interface BrokerCore {
  connect(options: ConnectOptions): CoreConnection;
  /** Stop accepting work; resolves once in-flight store writes are durable. */
  shutdown(): Promise<void>;
}

/** Checks credentials. Slow by design (scrypt), hence async. Resolves null when refused. */
export interface Authenticator {
  /** False when no users are configured: every connection is anonymous. */
  readonly required: boolean;
  authenticate(login: string | undefined, passcode: string | undefined): Promise<Principal | null>;
}
