/**
 * JMS MessageConsumer (receive(timeout), receiveNoWait(), or a MessageListener) and QueueBrowser.
 * Messages are taken from the bespoke Subscription only while the connection is started, so a stopped
 * connection also stops the broker (no credit goes back).
 */
import type { BlazeClient } from '../client.js';
import { ClientCodes, ClientError } from '../codec/errors.js';
import type { Message, Subscription } from '../subscription.js';
import type { Destination, Queue } from './destination.js';
import { fromReceived, type JmsMessage } from './message.js';
import type { JmsSession } from './session.js';

export type MessageListener = (message: JmsMessage) => void | Promise<void>;

interface ConsumerOptions {
  selector?: string;
  noLocal: boolean;
  durableName?: string;
}

/** How many messages the broker may send ahead of the application (ActiveMQ's queue prefetch default). */
const PREFETCH = 1000;

export class MessageConsumer {
  private readonly sub: Subscription;
  private listener: MessageListener | null = null;
  private listening = false;
  private closed = false;
  /** A message the listener loop took but could not hand out (listener removed meanwhile). */
  private held: Message | undefined;
  /** Resolves once the broker has the subscription. */
  readonly ready: Promise<void>;

  constructor(
    private readonly session: JmsSession,
    readonly destination: Destination,
    private readonly options: ConsumerOptions,
  ) {
    this.sub = session.connection.client.subscribe(destination.address, {
      ackMode: 'individual',
      prefetch: PREFETCH,
      selector: options.selector,
      noLocal: options.noLocal,
      durableName: options.durableName,
    });
    this.ready = this.sub.ready;
  }

  getMessageSelector(): string | null {
    return this.options.selector ?? null;
  }

  getMessageListener(): MessageListener | null {
    return this.listener;
  }

  /** Messages go to `listener` (one at a time per session) while the connection is started. */
  setMessageListener(listener: MessageListener | null): void {
    this.assertOpen();
    this.listener = listener;
    if (listener && !this.listening) void this.listen();
  }

  /**
   * The next message, or null when `timeout` ms (> 0) pass first or the consumer is closed. No timeout
   * (or 0) waits indefinitely, as in JMS.
   */
  async receive(timeout = 0): Promise<JmsMessage | null> {
    this.assertOpen();
    if (this.listener)
      throw new ClientError(ClientCodes.ILLEGAL_STATE, 'receive() on a consumer with a listener');
    const deadline = timeout > 0 ? Date.now() + timeout : Number.POSITIVE_INFINITY;
    if (!(await this.waitStarted(deadline))) return null;
    const left = deadline - Date.now();
    const m =
      this.takeHeld() ??
      (await this.sub.receive(Number.isFinite(left) ? { timeout: Math.max(1, left) } : {}).catch((e) => {
        if (this.closed) return undefined;
        throw e;
      }));
    return m ? this.handOut(m) : null;
  }

  /** A message if one is already here, else null. */
  async receiveNoWait(): Promise<JmsMessage | null> {
    this.assertOpen();
    if (!this.session.connection.isStarted) return null;
    const m = this.takeHeld() ?? (await this.sub.receive({ timeout: 0 }));
    return m ? this.handOut(m) : null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listener = null;
    this.session.forgetConsumer(this);
    await this.sub.close();
  }

  private async handOut(m: Message): Promise<JmsMessage> {
    const jms = fromReceived(m);
    await this.session.onConsume(jms, m);
    await this.session.delivered(m, true);
    return jms;
  }

  private takeHeld(): Message | undefined {
    const m = this.held;
    this.held = undefined;
    return m;
  }

  private async waitStarted(deadline: number): Promise<boolean> {
    const conn = this.session.connection;
    if (conn.isStarted) return true;
    if (!Number.isFinite(deadline)) {
      await conn.whenStarted();
      return !this.closed;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const started = await Promise.race([
      conn.whenStarted().then(() => true),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(false), Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    return started && !this.closed;
  }

  private async listen(): Promise<void> {
    this.listening = true;
    try {
      while (this.listener && !this.closed) {
        await this.session.connection.whenStarted();
        const m = this.takeHeld() ?? (await this.sub.receive());
        if (!m) break; // subscription ended
        const listener = this.listener;
        if (!listener || this.closed) {
          this.held = m;
          break;
        }
        await this.session.dispatch(async () => {
          const jms = fromReceived(m);
          await this.session.onConsume(jms, m);
          let ok = true;
          try {
            await listener(jms);
          } catch {
            ok = false; // AUTO/DUPS_OK: a throwing listener gets the message again (JMS)
          }
          await this.session.delivered(m, ok).catch(() => undefined);
        });
      }
    } catch (e) {
      if (!this.closed) this.session.connection.getExceptionListener()?.(e as ClientError);
    } finally {
      this.listening = false;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClientError(ClientCodes.CLOSED, 'consumer closed');
  }
}

/** Looks at a queue's messages without consuming them (native.proto Browse). */
export class QueueBrowser implements AsyncIterable<JmsMessage> {
  constructor(
    private readonly client: BlazeClient,
    private readonly queue: Queue,
    private readonly selector?: string,
  ) {}

  getQueue(): Queue {
    return this.queue;
  }

  getMessageSelector(): string | null {
    return this.selector ?? null;
  }

  /** A snapshot of the queue's pending messages (the broker caps how many). */
  async getEnumeration(): Promise<JmsMessage[]> {
    const messages = await this.client.browse(this.queue.address, { selector: this.selector });
    return messages.map(fromReceived);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<JmsMessage> {
    yield* await this.getEnumeration();
  }

  close(): void {}
}
