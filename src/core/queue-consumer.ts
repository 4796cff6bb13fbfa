/** A subscription on a queue (or on the internal queue of a durable topic subscription). */
import type { DeliverySink, SubscribeOptions } from './api.js';
import type { CoreContext } from './context.js';
import type { QueueEntry } from './entry-list.js';
import type { Message } from './message.js';
import type { Queue, QueueConsumerSlot } from './queue.js';
import type { SelectorPredicate } from './selector/index.js';
import { BaseSubscription, type SubscriptionOwner } from './subscription.js';
import type { Settler } from './transaction.js';

export class QueueConsumer extends BaseSubscription<QueueEntry> implements QueueConsumerSlot {
  readonly groups = new Set<string>();

  constructor(
    id: string,
    options: Readonly<SubscribeOptions>,
    sink: DeliverySink,
    owner: SubscriptionOwner,
    ctx: CoreContext,
    readonly queue: Queue,
    private readonly selector: SelectorPredicate | undefined,
    /** Called once detached (a durable subscription becomes inactive). */
    private readonly onDetach?: () => void,
  ) {
    super(id, options, sink, owner, ctx);
  }

  protected get settler(): Settler<QueueEntry> {
    return this.queue;
  }

  accepts(message: Message): boolean {
    return this.selector === undefined || this.selector(message);
  }

  deliver(entry: QueueEntry): void {
    const count = ++entry.deliveryCount;
    const tag = ++this.lastTag;
    const delivery = {
      tag,
      message: entry.message,
      redelivered: count > 1 || entry.maybeDelivered,
      deliveryCount: count,
    };
    this.track(tag, entry);
    if (this.auto) this.queue.settleAck(entry);
    this.emit(delivery);
  }

  protected pump(): void {
    this.queue.requestDispatch();
  }

  protected detach(): void {
    this.queue.removeConsumer(this);
    this.onDetach?.();
  }
}
