/**
 * The ids of messages the application acknowledged on one subscription, kept across reconnects: the
 * broker may redeliver a message whose ack was lost with a connection (or not yet durable when a broker
 * restarted), and the client must not hand it to the application again. Bounded: the oldest ids go first
 * (an ack older than `capacity` later acks is long durable).
 */
import { FifoMap } from '../util/fifo-map.js';

export class AckedIds {
  private readonly ids: FifoMap<string, true>;

  constructor(capacity = 10_000) {
    this.ids = new FifoMap(capacity);
  }

  add(id: string): void {
    if (id) this.ids.set(id, true);
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
