/**
 * `/v1` receive with explicit acknowledgement: the messages a receive request returns stay held, unacked,
 * under a lease until each is acked (`POST /v1/acks`) or nacked (`POST /v1/nacks`) by its receipt, or until
 * the lease's visibility timeout passes, when every message still held goes back to its queue marked
 * redelivered (at-least-once, as SQS's visibility timeout). Nothing is lost when a client vanishes.
 *
 * A lease is one core connection with one `individual`-ack subscription whose prefetch is the request's
 * `max`: the core hands it at most that many messages, and once the request is answered the subscription is
 * paused so that it takes no more (queue messages stay in the queue for other consumers). Closing the
 * lease (all settled, timeout, shutdown) closes the connection, which returns what is still unacked.
 *
 * Receipts are opaque random ids, keyed by user as well: a receipt presented by another user is unknown
 * (404), so receipts cannot be used to ack someone else's messages.
 */
import { randomBytes } from 'node:crypto';
import type { CoreConnection, Delivery, DeliverySink, Principal, Subscription } from '../../../core/api.js';
import { HttpError } from '../errors.js';

export interface ReceiveRequest {
  address: string;
  max: number;
  timeoutMs: number;
  visibilityTimeoutMs: number;
  selector: string | undefined;
  /** Aborted when the client went away: then nothing is taken. */
  signal?: AbortSignal;
}

export interface Received {
  receipt: string;
  delivery: Delivery;
}

interface Lease {
  readonly user: string;
  readonly connection: CoreConnection;
  subscription: Subscription | undefined;
  /** receipt -> delivery tag, of what is still held. */
  readonly held: Map<string, number>;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
}

export interface LeaseRegistryOptions {
  maxLeases: number;
}

export class LeaseRegistry {
  private readonly leases = new Set<Lease>();
  private readonly receipts = new Map<string, Lease>();
  /**
   * `user NUL message id` -> receipt, so that a client may ack/nack by message id too (`{"ids": [...]}`);
   * and receipt -> that key, to forget it when the receipt goes.
   */
  private readonly byMessage = new Map<string, string>();
  private readonly messageKeys = new Map<string, string>();

  constructor(private readonly options: LeaseRegistryOptions) {}

  /** Open leases (receive requests in progress or holding messages). */
  get size(): number {
    return this.leases.size;
  }

  /** Messages held under leases. */
  get held(): number {
    return this.receipts.size;
  }

  /**
   * Takes up to `max` messages from the queue, waiting up to `timeoutMs` for the first one; answers as
   * soon as it has one (plus whatever the core hands over in the same turn). `connect` opens the core
   * connection the lease lives on. Throws FORBIDDEN / INVALID_ADDRESS / INVALID_SELECTOR from the core.
   */
  async receive(connect: () => CoreConnection, principal: Principal, r: ReceiveRequest): Promise<Received[]> {
    if (this.leases.size >= this.options.maxLeases) {
      throw new HttpError(503, 'too many receive leases open; ack what you hold or retry later', {
        'retry-after': '1',
      });
    }
    const connection = connect();
    const lease: Lease = {
      user: principal.user,
      connection,
      subscription: undefined,
      held: new Map(),
      timer: undefined,
      closed: false,
    };
    this.leases.add(lease);
    const taken: Delivery[] = [];
    let answered = false;
    let ended = false;
    let wake: (() => void) | undefined;
    const sink: DeliverySink = {
      deliver: (subscription, delivery) => {
        if (answered) {
          // Paused on answer, so this cannot happen; if it does, the message goes straight back.
          void Promise.resolve(subscription.nack(delivery.tag)).catch(() => undefined);
          return;
        }
        taken.push(delivery);
        wake?.();
      },
      // The core ended the subscription (queue deleted, connection evicted): its deliveries are void.
      closed: () => {
        ended = true;
        if (answered) this.closeLease(lease);
        else wake?.();
      },
    };
    try {
      const options = { address: r.address, ackMode: 'individual' as const, prefetch: r.max };
      lease.subscription = connection.subscribe(
        r.selector !== undefined ? { ...options, selector: r.selector } : options,
        sink,
      );
    } catch (err) {
      this.closeLease(lease);
      throw err;
    }
    if (taken.length === 0 && r.timeoutMs > 0 && !r.signal?.aborted) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          r.signal?.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, r.timeoutMs);
        r.signal?.addEventListener('abort', done, { once: true });
        // Messages routed in one turn arrive one by one: answer after the turn, with all of them.
        wake = () => {
          wake = undefined;
          setImmediate(done);
        };
      });
    }
    answered = true;
    lease.subscription.pause();
    if (taken.length === 0 || r.signal?.aborted || ended || lease.closed) {
      this.closeLease(lease);
      return [];
    }
    const out: Received[] = taken.map((delivery) => {
      const receipt = randomBytes(18).toString('base64url');
      lease.held.set(receipt, delivery.tag);
      this.receipts.set(receipt, lease);
      const key = `${lease.user}\u0000${delivery.message.id}`;
      this.byMessage.set(key, receipt);
      this.messageKeys.set(receipt, key);
      return { receipt, delivery };
    });
    lease.timer = setTimeout(() => this.closeLease(lease), r.visibilityTimeoutMs);
    lease.timer.unref();
    return out;
  }

  /**
   * The receipts of messages this user holds, by message id; 404 naming the ids not held (never
   * received, already settled, lease expired), so that `settle` stays all or nothing.
   */
  receiptsOf(principal: Principal, ids: readonly string[]): string[] {
    const unknown: string[] = [];
    const out: string[] = [];
    for (const id of new Set(ids)) {
      const receipt = this.byMessage.get(`${principal.user}\u0000${id}`);
      if (receipt === undefined) unknown.push(id);
      else out.push(receipt);
    }
    if (unknown.length > 0) {
      throw new HttpError(404, `message${unknown.length > 1 ? 's' : ''} not held`, {}, 'NOT_FOUND', {
        unknown,
      });
    }
    return out;
  }

  /**
   * Acks (or nacks) the messages of `receipts`, all or none: if any receipt is unknown to this user
   * (never issued, already settled, lease expired), nothing is settled and 404 lists them. Resolves once
   * the acks are durable.
   */
  async settle(principal: Principal, receipts: readonly string[], how: 'ack' | 'nack'): Promise<number> {
    const unique = [...new Set(receipts)];
    const unknown = unique.filter((r) => this.receipts.get(r)?.user !== principal.user);
    if (unknown.length > 0) {
      throw new HttpError(404, `unknown receipt${unknown.length > 1 ? 's' : ''}`, {}, 'NOT_FOUND', {
        unknown,
      });
    }
    const pending: Array<Promise<void> | void> = [];
    const touched = new Set<Lease>();
    for (const receipt of unique) {
      const lease = this.receipts.get(receipt)!;
      const tag = lease.held.get(receipt)!;
      lease.held.delete(receipt);
      this.forget(receipt);
      touched.add(lease);
      const sub = lease.subscription!;
      try {
        pending.push(how === 'ack' ? sub.ack(tag) : sub.nack(tag));
      } catch (err) {
        pending.push(Promise.reject(err));
      }
    }
    try {
      await Promise.all(pending);
    } finally {
      // A lease with nothing left to settle has done its job.
      for (const lease of touched) if (lease.held.size === 0) this.closeLease(lease);
    }
    return unique.length;
  }

  /** Closes every lease: held messages go back to their queues (broker shutdown). */
  close(): void {
    for (const l of [...this.leases]) this.closeLease(l);
  }

  private forget(receipt: string): void {
    this.receipts.delete(receipt);
    const key = this.messageKeys.get(receipt);
    if (key === undefined) return;
    this.messageKeys.delete(receipt);
    if (this.byMessage.get(key) === receipt) this.byMessage.delete(key);
  }

  private closeLease(lease: Lease): void {
    if (lease.closed) return;
    lease.closed = true;
    if (lease.timer) clearTimeout(lease.timer);
    for (const receipt of lease.held.keys()) this.forget(receipt);
    lease.held.clear();
    this.leases.delete(lease);
    try {
      lease.subscription?.close();
    } finally {
      lease.connection.close();
    }
  }
}
