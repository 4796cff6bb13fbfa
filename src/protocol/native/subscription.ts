/**
 * One native subscription: the client's id, its credit, and the glue to its core Subscription.
 *
 * Credit (native.proto "Subscribe"): the broker sends at most `credit` deliveries, then waits for Credit
 * frames. The core subscription is paused when credit runs out (and while the transport is not
 * writable) and resumed when both allow. The core may still hand over a delivery before a pause takes
 * effect (from inside `subscribe`, before the session holds the Subscription): such deliveries are held
 * here, in order, and sent first when credit comes.
 */
import type { AckMode, Delivery, DeliverySink, Subscription } from '../../core/api.js';

export interface SubscriptionOwner {
  delivered(sub: NativeSubscription, core: Subscription, delivery: Delivery): void;
  ended(sub: NativeSubscription, reason: string): void;
}

export class NativeSubscription implements DeliverySink {
  /** Set when `core.subscribe` returns; deliveries may arrive before. */
  core: Subscription | null = null;
  credit: number;
  /** Deliveries the core handed over without credit; sent first when credit is granted. */
  readonly held: Delivery[] = [];
  /** True until Subscribed is written: deliveries are held so that Subscribed goes first. */
  opening = false;
  /** Whether the core subscription is paused by us now. */
  corePaused = false;

  constructor(
    private readonly owner: SubscriptionOwner,
    /** The client's subscription_id. */
    readonly id: number,
    readonly ackMode: AckMode,
    credit: number,
  ) {
    this.credit = credit;
  }

  deliver(subscription: Subscription, delivery: Delivery): void {
    this.owner.delivered(this, subscription, delivery);
  }

  closed(_subscription: Subscription, reason: string): void {
    this.owner.ended(this, reason);
  }

  /** Pauses or resumes the core subscription so that it runs only when `run` says so. */
  setFlow(run: boolean, core: Subscription | null = this.core): void {
    if (core === null || run !== this.corePaused) return;
    this.corePaused = !run;
    if (run) core.resume();
    else core.pause();
  }
}
