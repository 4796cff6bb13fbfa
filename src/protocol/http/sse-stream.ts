/**
 * One Server-Sent Events stream: a core subscription whose deliveries are written to an HTTP response.
 *
 * Back-pressure: when `write` returns false (the browser is not reading) the subscription is paused, so the
 * core keeps queue messages in the queue and applies the address's slow-consumer policy to a topic buffer
 * (block the producers, drop, conflate). A browser that has not drained after `slowConsumerTimeoutMs` is
 * cut off, as STOMP does, so that a blocked producer is never held by it for longer. Memory per stream is
 * bounded by the socket buffers plus one turn's deliveries (prefetch).
 *
 * Delivery is at-most-once: an SSE stream has no acknowledgement, so the subscription acks on hand-over
 * (core `auto`); on a queue, a message written to a stream whose browser then vanishes is lost.
 */
import { isUtf8 } from 'node:buffer';
import type {
  CoreConnection,
  Delivery,
  DeliverySink,
  SubscribeOptions,
  Subscription,
} from '../../core/api.js';
import { encodeComment, encodeEvent } from './sse-codec.js';

/** What the stream needs of a response (a `ServerResponse`, or any Writable in tests). */
export interface SseOutput {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  end(): void;
  destroy(): void;
}

export interface SseStreamOptions {
  address: string;
  selector?: string;
  /** A comment is written after this long without output. */
  heartbeatMs: number;
  slowConsumerTimeoutMs: number;
  /** `text`: data = the body (base64 in a `binary` event when not UTF-8). `json`: data = id, address, properties, body. */
  format: 'text' | 'json';
  /** Deliveries handed over per turn. */
  prefetch: number;
  now?: () => number;
}

export type SseCloseReason = 'client' | 'slow' | 'broker' | 'shutdown';

export class SseStream implements DeliverySink {
  private readonly subscription: Subscription;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly now: () => number;
  private lastWrite: number;
  private paused = false;
  private slowTimer: NodeJS.Timeout | undefined;
  private closedReason: SseCloseReason | undefined;
  private readonly onDrain = () => this.drained();

  constructor(
    private readonly out: SseOutput,
    private readonly connection: CoreConnection,
    private readonly options: SseStreamOptions,
    private readonly onClosed: (reason: SseCloseReason) => void = () => undefined,
  ) {
    this.now = options.now ?? Date.now;
    this.lastWrite = this.now();
    const sub: SubscribeOptions = { address: options.address, ackMode: 'auto', prefetch: options.prefetch };
    if (options.selector !== undefined) sub.selector = options.selector;
    // Throws FORBIDDEN / INVALID_ADDRESS / INVALID_SELECTOR before anything is written.
    this.subscription = connection.subscribe(sub, this);
    this.heartbeat = setInterval(
      () => {
        if (!this.paused && this.now() - this.lastWrite >= options.heartbeatMs)
          this.write(encodeComment('hb'));
      },
      Math.max(10, Math.floor(options.heartbeatMs / 2)),
    );
    this.heartbeat.unref();
  }

  get closedBy(): SseCloseReason | undefined {
    return this.closedReason;
  }

  deliver(_subscription: Subscription, delivery: Delivery): void {
    if (this.closedReason) return;
    this.write(encodeEvent(this.toEvent(delivery)));
  }

  /** The core ended the subscription (temporary destination deleted, admin). */
  closed(): void {
    this.close('broker');
  }

  close(reason: SseCloseReason): void {
    if (this.closedReason) return;
    this.closedReason = reason;
    clearInterval(this.heartbeat);
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.out.removeListener('drain', this.onDrain);
    this.subscription.close();
    this.connection.close();
    // A slow browser's buffered backlog is dropped, not flushed: it is what made it slow.
    if (reason === 'slow') this.out.destroy();
    else if (reason !== 'client') this.out.end();
    this.onClosed(reason);
  }

  private toEvent(d: Delivery) {
    const m = d.message;
    const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
    if (this.options.format === 'json') {
      const text = isUtf8(body);
      return {
        id: m.id,
        data: JSON.stringify({
          id: m.id,
          address: m.address,
          timestamp: m.timestamp,
          properties: m.properties,
          ...(m.contentType !== undefined ? { contentType: m.contentType } : {}),
          ...(text ? { body: body.toString('utf8') } : { bodyBase64: body.toString('base64') }),
        }),
      };
    }
    return isUtf8(body)
      ? { id: m.id, data: body.toString('utf8') }
      : { id: m.id, event: 'binary', data: body.toString('base64') };
  }

  private write(text: string): void {
    this.lastWrite = this.now();
    if (this.out.write(text) || this.paused) return;
    this.paused = true;
    this.subscription.pause();
    this.out.once('drain', this.onDrain);
    this.slowTimer = setTimeout(() => this.close('slow'), this.options.slowConsumerTimeoutMs);
  }

  private drained(): void {
    if (this.closedReason) return;
    this.paused = false;
    if (this.slowTimer) clearTimeout(this.slowTimer);
    this.slowTimer = undefined;
    this.subscription.resume();
  }
}
