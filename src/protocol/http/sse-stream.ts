/**
 * One Server-Sent Events stream: a core subscription whose deliveries are written to an HTTP response.
 *
 * Back-pressure: when `write` returns false (the browser is not reading) the subscription is paused, so the
 * core keeps queue messages in the queue and applies the address's slow-consumer policy to a topic buffer
 * (block the producers, drop, conflate). A browser that has not drained after `slowConsumerTimeoutMs` is
 * cut off, as STOMP does, so that a blocked producer is never held by it for longer. Memory per stream is
 * bounded by the socket buffers plus one turn's deliveries (prefetch).
 *
 * Delivery: an SSE stream has no acknowledgement. On a topic the subscription acks on hand-over (core
 * `auto`: at-most-once). On a queue (`ackOnFlush`) a message is acked once its event is flushed to the OS,
 * so only what was in the socket buffers of a browser that vanished can be lost; the rest is redelivered.
 */
import type {
  CoreConnection,
  Delivery,
  DeliverySink,
  SubscribeOptions,
  Subscription,
} from '../../core/api.js';
import { encodeEvent } from './sse-codec.js';
import { messageEvent, type SseFormat, sharedMessageEvent } from './sse-format.js';
import { type SseCloseReason, type SseOutput, SseWriter } from './sse-writer.js';

export type { SseCloseReason, SseOutput } from './sse-writer.js';

export interface SseStreamOptions {
  address: string;
  selector?: string;
  /** A comment is written after this long without output. */
  heartbeatMs: number;
  slowConsumerTimeoutMs: number;
  /** `text`: data = the body (base64 in a `binary` event when not UTF-8). `json`: data = id, address, properties, body. */
  format: SseFormat;
  /** Deliveries handed over per turn (auto), or written but not yet flushed (ackOnFlush). */
  prefetch: number;
  /**
   * Queues: ack each message once its event is flushed to the OS (individual acks) instead of on hand-over,
   * so that what a vanished browser never got goes back to the queue.
   */
  ackOnFlush?: boolean;
  now?: () => number;
}

export class SseStream implements DeliverySink {
  private readonly subscription: Subscription;
  private readonly writer: SseWriter;
  private closedReason: SseCloseReason | undefined;

  constructor(
    out: SseOutput,
    private readonly connection: CoreConnection,
    private readonly options: SseStreamOptions,
    private readonly onClosed: (reason: SseCloseReason) => void = () => undefined,
  ) {
    // The writer exists before the subscription: a queue hands its backlog over inside `subscribe`.
    this.writer = new SseWriter(out, options, {
      // Undefined only while `subscribe` runs; a pause asked for then is applied right after it.
      paused: () => this.subscription?.pause(),
      drained: () => this.subscription.resume(),
      slow: () => this.close('slow'),
    });
    const sub: SubscribeOptions = {
      address: options.address,
      ackMode: options.ackOnFlush ? 'individual' : 'auto',
      prefetch: options.prefetch,
    };
    if (options.selector !== undefined) sub.selector = options.selector;
    try {
      // Throws FORBIDDEN / INVALID_ADDRESS / INVALID_SELECTOR before anything is written.
      this.subscription = connection.subscribe(sub, this);
    } catch (e) {
      this.writer.close('client');
      throw e;
    }
    if (this.writer.paused) this.subscription.pause();
  }

  get closedBy(): SseCloseReason | undefined {
    return this.closedReason;
  }

  deliver(_subscription: Subscription, delivery: Delivery): void {
    if (this.closedReason) return;
    const m = delivery.message;
    if (this.options.ackOnFlush) {
      // A queue message goes to one stream: nothing to share, and nothing kept alive with the message.
      const event = encodeEvent(messageEvent(m, this.options.format, m.id));
      // Acked once the bytes are handed to the OS: a message still in our buffers when the browser goes
      // away is unacked, so closing the subscription puts it back in the queue (redelivered).
      this.writer.write(event, (err) => {
        if (!err && !this.closedReason)
          void Promise.resolve(this.subscription.ack(delivery.tag)).catch(() => undefined);
      });
    } else this.writer.write(sharedMessageEvent(m, this.options.format));
  }

  /** The core ended the subscription (temporary destination deleted, admin). */
  closed(): void {
    this.close('broker');
  }

  close(reason: SseCloseReason): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    this.writer.close(reason);
    this.subscription.close();
    this.connection.close();
    this.onClosed(reason);
  }
}
