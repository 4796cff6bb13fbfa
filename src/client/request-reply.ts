/**
 * Request/reply: one temporary queue per client connection receives every reply, matched to its request
 * by correlation id. The queue dies with its connection, so requests outstanding at a failover fail with
 * CONNECTION_LOST (their replies are gone) and the next request makes a new queue.
 */
import { ClientCodes, ClientError } from './codec/errors.js';
import type { Body, PublishOptions } from './message.js';
import type { Message, SubscribeOptions, Subscription } from './subscription.js';

export interface RequestOptions extends PublishOptions {
  /** ms; default 30,000. */
  timeout?: number;
  signal?: AbortSignal;
}

interface RequesterHost {
  createTemporary(kind: 'queue'): Promise<string>;
  openSubscription(address: string, options: SubscribeOptions & { endOnInterrupt?: boolean }): Subscription;
  publish(address: string, body: Body, options: PublishOptions): Promise<void>;
}

interface Outstanding {
  resolve(m: Message): void;
  reject(e: Error): void;
}

export class Requester {
  private inbox: Promise<{ address: string; sub: Subscription }> | undefined;
  private readonly outstanding = new Map<string, Outstanding>();
  private seq = 0;
  private readonly prefix = Math.random().toString(36).slice(2, 10);

  constructor(private readonly host: RequesterHost) {}

  async request(address: string, body: Body, options: RequestOptions): Promise<Message> {
    const { timeout = 30_000, signal, ...publishOptions } = options;
    if (signal?.aborted) throw new ClientError(ClientCodes.ABORTED, 'request aborted');
    const { address: replyTo } = await this.replyQueue();
    const correlationId = `${this.prefix}-${++this.seq}`;
    const reply = new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        settle();
        reject(new ClientError(ClientCodes.TIMEOUT, `no reply from ${address} within ${timeout} ms`));
      }, timeout);
      const abort = () => {
        settle();
        reject(new ClientError(ClientCodes.ABORTED, 'request aborted'));
      };
      const settle = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        this.outstanding.delete(correlationId);
      };
      signal?.addEventListener('abort', abort, { once: true });
      this.outstanding.set(correlationId, {
        resolve: (m) => {
          settle();
          resolve(m);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
    });
    try {
      await this.host.publish(address, body, { ...publishOptions, replyTo, correlationId });
    } catch (e) {
      this.outstanding.get(correlationId)?.reject(e as Error);
    }
    return reply;
  }

  /** The connection went: the reply queue with it. */
  interrupted(error: ClientError): void {
    this.inbox = undefined;
    this.failAll(error);
  }

  failAll(error: Error): void {
    for (const o of [...this.outstanding.values()]) o.reject(error);
  }

  private replyQueue(): Promise<{ address: string; sub: Subscription }> {
    this.inbox ??= this.openReplyQueue().catch((e) => {
      this.inbox = undefined;
      throw e;
    });
    return this.inbox;
  }

  private async openReplyQueue(): Promise<{ address: string; sub: Subscription }> {
    const address = await this.host.createTemporary('queue');
    const sub = this.host.openSubscription(address, {
      ackMode: 'auto',
      prefetch: 1000,
      endOnInterrupt: true,
    });
    await sub.ready;
    void this.route(sub);
    return { address, sub };
  }

  private async route(sub: Subscription): Promise<void> {
    try {
      for await (const m of sub) {
        if (m.correlationId) this.outstanding.get(m.correlationId)?.resolve(m);
      }
    } catch {
      // The queue ended with its connection; interrupted() has failed the outstanding requests.
    }
  }
}
