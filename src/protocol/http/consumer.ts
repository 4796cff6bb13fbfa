/**
 * A core subscription read by HTTP requests, one message per request (long poll).
 *
 * Prefetch is 1 with individual acks, so a consumer that nobody polls holds at most one message; the rest
 * stays in the queue (or, for a topic, in the subscription's bounded buffer under the slow-consumer
 * policy). A message handed to a request is acked only once its response has been fully written; if the
 * response fails it is put back at the head of this consumer, marked redelivered, for the next request.
 * Delivery is therefore at-least-once: a client may see a message again if it lost the response.
 */
import type {
  CoreConnection,
  Delivery,
  DeliverySink,
  SubscribeOptions,
  Subscription,
} from '../../core/api.js';

interface Waiter {
  resolve(d: Delivery | undefined): void;
  timer: NodeJS.Timeout;
}

export interface Taken {
  readonly delivery: Delivery;
  /** The response carried it: ack it (the core then sends the next). */
  ack(): void;
  /** The response failed: hand it to the next request instead, marked redelivered. */
  release(): void;
}

export class HttpConsumer implements DeliverySink {
  private readonly subscription: Subscription;
  private readonly held: Delivery[] = [];
  private readonly waiters: Waiter[] = [];
  private closedFlag = false;
  /** Requests waiting or holding a message; an idle consumer has none. */
  active = 0;

  constructor(
    private readonly connection: CoreConnection,
    address: string,
    selector: string | undefined,
  ) {
    const options: SubscribeOptions = { address, ackMode: 'individual', prefetch: 1 };
    if (selector !== undefined) options.selector = selector;
    // Throws FORBIDDEN, INVALID_ADDRESS, INVALID_SELECTOR: the caller maps them to a status.
    this.subscription = connection.subscribe(options, this);
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  get address(): string {
    return this.subscription.options.address;
  }

  get selector(): string | undefined {
    return this.subscription.options.selector;
  }

  deliver(_subscription: Subscription, delivery: Delivery): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      clearTimeout(waiter.timer);
      waiter.resolve(delivery);
    } else {
      this.held.push(delivery);
    }
  }

  /** The core ended the subscription (temporary destination gone, admin): waiters get nothing. */
  closed(): void {
    this.shutdown();
  }

  /**
   * The next message, or undefined after `timeoutMs` (or when closed). `signal` aborts the wait (the
   * client went away): nothing is taken then.
   */
  take(timeoutMs: number, signal?: AbortSignal): Promise<Taken | undefined> {
    if (this.closedFlag) return Promise.resolve(undefined);
    const now = this.held.shift();
    if (now) return Promise.resolve(this.wrap(now));
    if (timeoutMs <= 0 || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        resolve: (d) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(d ? this.wrap(d) : undefined);
        },
        timer: setTimeout(() => {
          this.removeWaiter(waiter);
          waiter.resolve(undefined);
        }, timeoutMs),
      };
      const onAbort = () => {
        clearTimeout(waiter.timer);
        this.removeWaiter(waiter);
        waiter.resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Unsubscribes and closes the core connection; unacked messages go back to their queue. */
  close(): void {
    this.shutdown();
    this.subscription.close();
    this.connection.close();
  }

  private shutdown(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }

  private wrap(delivery: Delivery): Taken {
    let settled = false;
    return {
      delivery,
      ack: () => {
        if (settled || this.closedFlag) return;
        settled = true;
        // A failed ack (store error) leaves the message unacked: it is redelivered, never lost.
        try {
          void Promise.resolve(this.subscription.ack(delivery.tag)).catch(() => undefined);
        } catch {
          // Same: the subscription is gone and the message back in its queue.
        }
      },
      release: () => {
        if (settled || this.closedFlag) return;
        settled = true;
        this.deliver(this.subscription, { ...delivery, redelivered: true });
      },
    };
  }
}
