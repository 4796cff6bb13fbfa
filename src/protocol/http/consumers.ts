/**
 * Consumers kept across HTTP requests, so that a client polling with a `clientId` (or a session cookie)
 * receives a stream of messages without loss: the subscription lives between its requests. Keyed by user
 * as well, so one user can never read from another's consumer by guessing its id. A consumer no request
 * has used for `idleTimeoutMs` is closed (its held message goes back to the queue); the number of
 * consumers is bounded.
 */
import type { Principal } from '../../core/api.js';
import type { HttpConsumer } from './consumer.js';
import { HttpError } from './errors.js';

interface Entry {
  consumer: HttpConsumer;
  lastUsed: number;
}

export interface ConsumerRegistryOptions {
  maxConsumers: number;
  idleTimeoutMs: number;
  now?: () => number;
}

export class ConsumerRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly options: ConsumerRegistryOptions) {
    this.now = options.now ?? Date.now;
    this.sweeper = setInterval(() => this.sweep(), Math.max(100, Math.floor(options.idleTimeoutMs / 2)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * The consumer of (user, id, address, selector), created by `create` if there is none. The same id on
   * another address or with another selector is another consumer, as a JMS session has one per
   * destination.
   */
  acquire(
    principal: Principal,
    id: string,
    address: string,
    selector: string | undefined,
    create: () => HttpConsumer,
  ): HttpConsumer {
    const key = keyOf(principal, id, address, selector);
    const found = this.entries.get(key);
    if (found && !found.consumer.isClosed) {
      found.lastUsed = this.now();
      return found.consumer;
    }
    if (found) this.entries.delete(key);
    if (this.entries.size >= this.options.maxConsumers) {
      throw new HttpError(503, 'too many HTTP consumers; retry later or use oneShot=true', {
        'retry-after': '1',
      });
    }
    const consumer = create();
    this.entries.set(key, { consumer, lastUsed: this.now() });
    return consumer;
  }

  touch(principal: Principal, id: string, address: string, selector: string | undefined): void {
    const e = this.entries.get(keyOf(principal, id, address, selector));
    if (e) e.lastUsed = this.now();
  }

  /** Closes every consumer of (user, id) on `address`; false when there was none. */
  release(principal: Principal, id: string, address: string): boolean {
    const prefix = keyOf(principal, id, address, undefined).slice(0, -1);
    let found = false;
    for (const [key, e] of this.entries) {
      if (!key.startsWith(prefix)) continue;
      this.entries.delete(key);
      e.consumer.close();
      found = true;
    }
    return found;
  }

  /** Closes consumers idle for longer than the timeout; called by the timer, public for tests. */
  sweep(): void {
    const limit = this.now() - this.options.idleTimeoutMs;
    for (const [key, e] of this.entries) {
      if (e.consumer.isClosed || (e.consumer.active === 0 && e.lastUsed < limit)) {
        this.entries.delete(key);
        e.consumer.close();
      }
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const e of this.entries.values()) e.consumer.close();
    this.entries.clear();
  }
}

function keyOf(principal: Principal, id: string, address: string, selector: string | undefined): string {
  // NUL cannot occur in a user name, a consumer id (request.ts) or an address (control chars refused).
  return `${principal.user}\0${id}\0${address}\0${selector ?? ''}`;
}
